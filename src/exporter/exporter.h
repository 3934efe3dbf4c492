// `carbonclock exporter`: a long-running daemon that serves the node's energy, its jobs'
// energy and their emissions to Prometheus (GET /metrics; GET /healthz). One more front end over
// the same sensors as `carbonclock run` and the same IntensityProvider; docs/exporter.md has the
// metrics, the attribution model and an example scrape.
//
// Threads: the caller's (serve(): the HTTP loop, which answers each scrape by reading every
// device and integrating grams up to that moment) and one sampler (every --interval: devices,
// processes, job attribution, intensity refreshes). Nothing else.
#pragma once

#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "accounting/accounting.h"
#include "app/context.h"
#include "common/error.h"
#include "sensors/estimate_sensor.h"
#include "sensors/sensor.h"

namespace carbonclock {

struct ExporterRequest {
  std::string listen = "127.0.0.1:9464";  ///< HOST:PORT; loopback unless another is given
  std::string interval = "1s";            ///< sampling period, 100ms..1h
  AccountingChoices choices;              ///< zone or region, PUE, signal (per, work unused)
  std::string factor;                     ///< lifecycle | direct | "" (lifecycle where stored)
  std::string gpus = "all";               ///< all | a list such as 0,2 or GPU-8c2e
  bool no_gpu = false;
  double cpu_w_per_core = EstimateModel{}.cpu_w_per_core;
  double dram_w_per_gb = EstimateModel{}.dram_w_per_gb;
  std::string db;                ///< --db; empty: $CARBONCLOCK_DB or the default store
  std::string forecast_source;   ///< fetch this provider's forecast hourly (needs ctx.http)
  std::string job_grace = "5m";  ///< an ended job's series stay this long
  /// How often /proc is listed for new processes and jobs (0: every sample); between listings
  /// only the known jobs' CPU time is read (job_tracker.h: the attribution lag).
  std::string job_rescan = "5s";
  size_t max_jobs = 1000;
  size_t max_connections = 256;
  std::string version;  ///< carbonclock's version, for carbonclock_exporter_build_info
  /// Roots of the kernel's files; the CLI takes them from CARBONCLOCK_SYSFS_ROOT,
  /// CARBONCLOCK_PROC_ROOT and CARBONCLOCK_CGROUP_ROOT (tests).
  std::filesystem::path sysfs_root = "/";
  std::filesystem::path proc_root = "/proc";
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
};

class Exporter {
 public:
  /// Checks every option, resolves the zone, opens the sensors (a missing one is a note, as for
  /// `run`), reads the intensity in force (a store that cannot be read is a warning: the
  /// embedded profile stands in until it can be), binds the address and starts the sampler.
  /// Errors: bad options or an unknown zone (invalid input / not found); an address that cannot
  /// be bound (unavailable: in use, not local, not allowed).
  static Result<std::unique_ptr<Exporter>> start(const ExporterRequest& request, AppContext& ctx);
  ~Exporter();  ///< stops the sampler
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  /// The address bound ("127.0.0.1:9464"), and its port.
  const std::string& address() const;
  int port() const;
  /// Sensors that are missing or partial, one line each (shown once at start).
  const std::vector<std::string>& notes() const;
  std::vector<DeviceInfo> devices() const;
  /// The zone priced against and how it was chosen ("DE (--zone)").
  const std::string& zone_text() const;

  /// What GET /metrics answers: reads every device now, integrates, renders.
  std::string scrape();

  /// Serves HTTP on the calling thread until stop() or one of `stop_signals` (blocked by the
  /// caller in every thread before start()). Returns the signal's number, 0 after stop().
  int serve(const sigset_t* stop_signals = nullptr);
  /// Makes serve() return; safe from any thread and from a signal handler.
  void stop();

 private:
  struct Impl;
  explicit Exporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carbonclock

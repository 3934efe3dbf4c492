// Use case: meter the current process from inside it (the Python API's `track` / `Tracker`):
// the same sensors, meter, run directory (run.json + journal.jsonl), accounting and history as
// `carbonclock run`, without spawning anything, plus named windows whose energy is read from
// every counter at the window's begin and end.
//
// Threads: a sampler thread reads the sensors at the interval; begin_window/end_window take
// their own readings on the caller's thread under the same lock, so a window's energy is exact
// for counters however short it is (power integration interpolates linearly up to the
// boundary reading; estimates follow their one-second scans). Nothing here calls back into the
// caller from the sampler except the `wake` function given to listen(), which must only signal.
#pragma once

#include <sys/types.h>

#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "accounting/accounting.h"
#include "app/context.h"
#include "app/distributed.h"
#include "app/run_common.h"
#include "app/store_access.h"
#include "metering/energy_timeline.h"
#include "metering/journal.h"
#include "metering/meter.h"
#include "metering/run_record.h"

namespace carbonclock {

/// The options of `track`, named and typed as those of `carbonclock run`.
struct TrackRequest {
  std::vector<std::string> command;  ///< what run.json records as the job (the script's argv)
  pid_t pid = 0;                     ///< whose process tree the estimate follows; 0: this process
  std::string interval = "1s";
  std::string bucket = "5m";
  std::string out;  ///< run directory (as --out); distributed: OUT of OUT/<job id>/<node>
  std::string runs_dir = "carbonclock-runs";
  std::string gpus = "all";
  bool no_gpu = false;
  std::vector<std::string> tags;
  double cpu_w_per_core = EstimateModel{}.cpu_w_per_core;
  double dram_w_per_gb = EstimateModel{}.dram_w_per_gb;
  AccountingChoices choices;  ///< zone, signal, factor, PUE, functional unit (defaults loaded)
  std::string db;
  std::string version;      ///< carbonclock's version, for run.json
  bool distributed = true;  ///< follow a Slurm / torchrun context found in the environment
};

/// A named window (Python `window()`), begin and end in UTC. Energy only when the task meters
/// (read from the counters at the window's begin and end); a member of a distributed job
/// records the times and the merge prices them from its node's timeline.
struct WindowRecord {
  std::string name;
  SysTime begin_utc;
  SysTime end_utc;
  std::optional<double> energy_j;
  std::vector<std::pair<std::string, double>> device_energy_j;  ///< device id -> joules
};

/// {"name", "begin_utc", "end_utc", "duration_s", "energy_j" (null for members), "devices"}:
/// an entry of run.json's "windows".
nlohmann::json window_to_json(const WindowRecord& window);

/// A window that ended.
struct TrackedWindow {
  WindowRecord record;  ///< name, begin, end; energy when this task meters
  /// The window as a run of its own (its timeline between the two readings, the run's zone,
  /// PUE and tags), for pricing and report_json. Metering tasks only.
  std::optional<RunRecord> run;
  /// Its carbon account through the intensity provider (unset for members, or with a warning
  /// when it cannot be priced).
  std::optional<CarbonAccount> account;
};

/// How the tracked code ended.
struct StopStatus {
  std::optional<int> exit_code = 0;  ///< 0, 1 after an exception, 130 after an interrupt
  std::string ended_by;              ///< "ValueError: bad batch" (a warning in run.json)
};

struct TrackResult {
  std::string role;  ///< "single", "meter" (a node's meter) or "member" (metered by another)
  DistributedContext cluster;
  nlohmann::json cluster_json;           ///< run.json's "cluster" object; null when single
  RunRecord run;                         ///< as in run.json (members: times and command only)
  nlohmann::json run_json;               ///< run.json as written; a member's tasks/<rank>.json
  std::filesystem::path run_dir;         ///< the run directory; distributed: the node's directory
  std::optional<CarbonAccount> account;  ///< unset for members and when pricing failed
  std::vector<TrackedWindow> windows;    ///< in the order they ended
  std::vector<std::string> warnings;     ///< raised after the start (sensor notes excluded)
};

class Tracker {
 public:
  /// Checks the options and the zone, elects the node's meter when distributed, opens the
  /// sensors (a missing sensor is a note, never an error), creates the run directory and the
  /// journal and starts the sampler thread. Errors: bad options, unknown zone, a run directory
  /// that exists and is not empty, one that cannot be created. `ctx` must outlive the tracker.
  static Result<std::unique_ptr<Tracker>> start(const TrackRequest& request, AppContext& ctx);
  /// Stops the sampler when stop() was not called; the journal stays, so `carbonclock report`
  /// recovers the run.
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  const std::string& role() const { return role_; }
  const DistributedContext& cluster() const { return cluster_; }
  /// run.json's "cluster" object (app/distributed.h); null when not distributed.
  nlohmann::json cluster_json() const;
  const std::filesystem::path& run_dir() const { return run_dir_; }
  const std::string& run_id() const { return run_.id; }
  SysTime start_utc() const { return run_.start_utc; }
  /// The sampling interval.
  Nanos interval() const { return plan_.interval; }
  /// One line per missing or partial sensor, and why a member meters nothing.
  const std::vector<std::string>& notes() const { return notes_; }
  /// The metered devices (none for a member).
  std::vector<DeviceInfo> devices() const;

  /// Opens a window named `name` at a reading taken now. Windows may nest and overlap; a name
  /// may be reused once its window has ended. Errors: a window of that name is open, the
  /// tracker has stopped.
  Result<SysTime> begin_window(const std::string& name);
  /// Ends the newest open window named `name` at a reading taken now, and prices it. Errors: no
  /// open window of that name (kNotFound), the tracker has stopped.
  Result<TrackedWindow> end_window(const std::string& name);

  /// From now on, queue every periodic sample and call `wake` on the sampler thread after
  /// each (it must only signal: it runs holding the sample lock). Null stops queueing.
  void listen(std::function<void()> wake);
  /// The queued samples, oldest first (at most the newest 10,000 are kept).
  std::vector<MeterStatus> take_samples();
  /// Time and energy at the last reading.
  MeterStatus live() const;

  /// Ends metering with a last reading, closes windows still open (with a warning), writes
  /// run.json (with the windows) or, distributed, also tasks/<rank>.json, prices the run and
  /// records it in the history (not when distributed: the merge records the job once).
  /// Errors only when called twice.
  Result<TrackResult> stop(const StopStatus& status);
  bool stopped() const;

 private:
  struct OpenWindow {
    std::string name;
    Nanos begin{};
    SysTime begin_utc;
    std::vector<double> begin_j;
    std::unique_ptr<TimelineBuilder> builder;
  };

  Tracker(const TrackRequest& request, AppContext& ctx) : request_(request), ctx_(ctx) {}
  Status open_meter();
  void on_sample(const MeterStatus& status);
  // Takes a reading on the caller's thread (mu_ held) and counts its CPU time as overhead.
  void boundary_reading();
  TrackedWindow close_window(OpenWindow& w);
  void price(TrackedWindow& w);
  std::vector<pid_t> seen_pids();
  // This task's tasks/<rank>.json as it stands (no end while it runs).
  TaskRecord task_record() const;

  TrackRequest request_;
  AppContext ctx_;
  MeteringPlan plan_;
  DistributedContext cluster_;
  std::string role_ = "single";
  std::unique_ptr<NodeTask> task_;  // distributed: the task's place in its node's layout
  std::filesystem::path run_dir_;
  RunRecord run_;
  std::vector<std::string> notes_;
  std::unique_ptr<JournalWriter> journal_;
  std::optional<OpenedStore> store_;  // for pricing windows, opened once
  std::unique_ptr<IntensityProvider> provider_;
  bool price_warned_ = false;
  std::vector<pid_t> pids_;

  mutable std::mutex mu_;  // the sample lock: meter_, windows, queue, flags
  std::vector<OpenWindow> open_;
  std::vector<TrackedWindow> closed_;
  std::vector<double> scratch_;
  bool boundary_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread::id finisher_;   // the thread in stop(): its final reading is not the sampler's
  double boundary_cpu_s_ = 0;  // CPU time of readings taken on callers' threads
  double sampler_cpu_s_ = 0;   // the sampler thread's CPU time at its last sample
  std::deque<MeterStatus> queue_;
  std::function<void()> wake_;
  MeterStatus last_{};
  std::unique_ptr<Meter> meter_;  // last: its sampler thread calls on_sample()
};

}  // namespace carbonclock

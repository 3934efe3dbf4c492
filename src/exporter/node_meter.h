// The node's energy as a set of counters that only grow: every device of every sensor read at
// each step, the node's grams integrated against the intensity in force (IntensityFeed) times
// PUE, and, at attributing steps, the energy and grams since the previous attributing step
// split among the jobs on the node (attribution.h). Scrapes take cheap steps (devices and
// grams, so rate() is exact to the scrape); the sampler takes attributing steps once per
// interval. A job's counters therefore lag the device counters by at most one interval, and
// after every attributing step the jobs' energy plus the unattributed remainder equals the
// devices' energy exactly.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/context.h"
#include "common/clock.h"
#include "exporter/intensity_feed.h"
#include "exporter/job_tracker.h"
#include "sensors/gpu_processes.h"
#include "sensors/sensor.h"

namespace carbonclock {

struct NodeMeterOptions {
  double pue = 1.0;
  /// A job with no process and no energy attributed for this long drops out (its series end;
  /// its energy stays in the node and device counters).
  Nanos job_grace = std::chrono::minutes(5);
  /// Jobs tracked at once; energy of further jobs goes to one series with job="overflow".
  size_t max_jobs = 1000;
};

/// What the grams of the node (and of a job) are labelled with: the signal and emission factor
/// of the data that priced them.
struct EmissionKey {
  std::string signal;
  std::string factor;
  auto operator<=>(const EmissionKey&) const = default;
};

/// Energy by what priced it: signal, factor, provenance_label (unpriced energy: provenance
/// "unpriced", the signal asked, no factor).
struct PricedKey {
  std::string signal;
  std::string factor;
  std::string provenance;
  auto operator<=>(const PricedKey&) const = default;
};

struct DeviceSnapshot {
  DeviceInfo info;
  double energy_j = 0;  ///< since the exporter started; never decreases
  double power_w = 0;   ///< mean over the last sampling interval
  bool up = true;       ///< false while a GPU does not answer
};

struct JobSnapshot {
  JobKey key;
  std::vector<double> device_energy_j;  ///< per device, in DeviceSnapshot order
  std::map<EmissionKey, double> grams;
};

struct NodeSnapshot {
  std::string zone;
  double pue = 1.0;
  std::vector<DeviceSnapshot> devices;
  CurrentIntensity intensity;
  std::map<EmissionKey, double> emissions_g;
  std::map<PricedKey, double> priced_energy_j;
  std::vector<JobSnapshot> jobs;
  uint64_t steps = 0;
  uint64_t attributing_steps = 0;
  uint64_t jobs_expired = 0;
  std::map<std::string, uint64_t> errors;  ///< by source: "nvml", "rapl", "estimate", "proc"
};

class NodeMeter {
 public:
  /// `feed`, `clock` and `observer` must outlive the meter. The first step() sets baselines.
  NodeMeter(std::vector<std::unique_ptr<Sensor>> sensors, std::unique_ptr<JobTracker> tracker,
            IntensityFeed& feed, Clock& clock, Observer& observer, NodeMeterOptions options);

  /// Reads every device at the clock's now and adds the energy since the previous step to the
  /// device counters and its grams to the node's emissions. With `attribute`, also splits the
  /// energy and grams not yet attributed among the jobs, updates power, and drops jobs idle
  /// past the grace period. Sensor problems become warnings (once each) and error counts.
  void step(bool attribute);

  /// A copy of every counter, for rendering without holding the meter.
  NodeSnapshot snapshot() const;

  /// The devices, fixed at construction.
  std::vector<DeviceInfo> devices() const;

 private:
  struct Device {
    DeviceInfo info;
    Sensor* sensor = nullptr;
    GpuProcessSource* gpu = nullptr;  // GPUs whose sensor lists processes
    size_t index_in_sensor = 0;
    double raw_j = 0;  // the sensor's cumulative reading
    double energy_j = 0;
    double power_w = 0;
    double energy_at_attribution_j = 0;
    double pending_j = 0;                              // not yet attributed
    std::vector<std::pair<size_t, double>> pending_g;  // (emission key index, grams)
  };
  struct Job {
    std::vector<double> device_energy_j;
    std::map<EmissionKey, double> grams;
    MonoTime last_active{};
  };

  void attribute(MonoTime now);
  // The job's counters (marked active now); the overflow job's once max_jobs are tracked.
  Job& job(const JobKey& key, MonoTime now);
  static void add_grams(std::vector<std::pair<size_t, double>>& grams, size_t key, double g);
  size_t key_index(const EmissionKey& key);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Sensor>> sensors_;
  std::unique_ptr<JobTracker> tracker_;
  IntensityFeed& feed_;
  Clock& clock_;
  Observer& observer_;
  NodeMeterOptions options_;
  std::vector<Device> devices_;
  std::vector<double> readings_;
  std::vector<double> deltas_;
  std::vector<std::string> warnings_;
  std::vector<EmissionKey> keys_;
  std::map<EmissionKey, double> emissions_g_;
  std::map<PricedKey, double> priced_j_;
  std::map<JobKey, Job> jobs_;
  std::map<std::string, uint64_t> errors_;
  bool started_ = false;
  SysTime last_utc_{};
  MonoTime last_attribution_{};
  uint64_t steps_ = 0;
  uint64_t attributing_steps_ = 0;
  uint64_t jobs_expired_ = 0;
  bool proc_warned_ = false;
};

}  // namespace carbonclock

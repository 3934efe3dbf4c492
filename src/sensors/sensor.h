// The Sensor edge: every source of energy readings (NVML, RAPL, /proc estimate, trace replay)
// reports cumulative joules per device; the meter turns them into a timeline and never
// learns which sensor produced a reading.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "common/time.h"

namespace carbonclock {

enum class DeviceKind { kGpu, kCpu, kDram };
enum class Method {
  kCounter,           ///< a hardware energy counter (NVML total energy, RAPL energy_uj)
  kPowerIntegration,  ///< instantaneous power integrated over time (NVML power usage)
  kEstimate,          ///< modelled from CPU time or memory; labelled "estimated" everywhere
};

const char* to_string(DeviceKind kind);
const char* to_string(Method method);

struct DeviceInfo {
  std::string id;  ///< stable id used in run.json: "gpu0", "cpu0-package", "cpu0-dram"
  DeviceKind kind = DeviceKind::kCpu;
  std::string name;  ///< human name: "NVIDIA H100 80GB HBM3", "package-0"
  Method method = Method::kCounter;
  std::string uuid;  ///< GPU UUID where known
  std::string note;  ///< why the method is what it is (e.g. "MIG share estimated")
};

class Sensor {
 public:
  virtual ~Sensor() = default;
  /// Short name for messages: "nvml", "rapl", "estimate".
  virtual std::string name() const = 0;
  /// The devices this sensor reports, fixed after construction.
  virtual const std::vector<DeviceInfo>& devices() const = 0;
  /// Called once the job is running, with the pid of its process-group leader.
  virtual void attach_job(pid_t /*job_pid*/) {}
  /// Called once the job has exited, with the CPU seconds the kernel accounted to its whole
  /// process tree (user + system, reaped descendants included), before the last read().
  virtual void job_finished(double /*job_cpu_s*/) {}
  /// Reads every device at monotonic time `now` and stores its cumulative energy in joules
  /// since the first read() into `energy_j` (one entry per device). The first call stores
  /// zeros. A device that fails keeps its last value and adds one message to `warnings`
  /// the first time it fails.
  virtual void read(MonoTime now, std::span<double> energy_j,
                    std::vector<std::string>& warnings) = 0;
  /// Whether device `index` belongs in the run's record (false for GPUs the job never used
  /// under `--gpus used`). Valid after the last read().
  virtual bool device_used(size_t /*index*/) const { return true; }
};

}  // namespace carbonclock

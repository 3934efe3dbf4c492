// Which processes run on a sensor's GPUs, for attributing a GPU's energy to jobs (the
// exporter). Implemented by the NVML sensor; callers find it with dynamic_cast so the Sensor
// edge stays the same for every sensor.
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

#include "common/error.h"

namespace carbonclock {

/// A process with a compute context on a GPU.
struct GpuProcess {
  pid_t pid = 0;
  /// Mean SM utilisation (percent of the whole GPU) over the driver's samples since the previous
  /// call for this device; nullopt when the driver gave no sample for the process (idle, or
  /// per-process utilisation not supported).
  std::optional<double> sm_util_pct;
};

class GpuProcessSource {
 public:
  virtual ~GpuProcessSource() = default;
  /// The compute processes on device `index` (an index into the sensor's devices()) now.
  /// Error when the list cannot be read (the GPU is lost, the driver lacks the call).
  virtual Result<std::vector<GpuProcess>> gpu_processes(size_t index) = 0;
  /// Whether device `index` answered its last read.
  virtual bool responding(size_t index) const = 0;
};

}  // namespace carbonclock

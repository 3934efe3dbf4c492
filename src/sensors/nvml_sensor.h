// GPU energy from NVIDIA's management library, loaded at run time with dlopen so that
// carbonclock runs (without GPUs) where no driver is installed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "sensors/sensor.h"

namespace carbonclock {

/// Which GPUs the NVML sensor meters (`--gpus`).
struct GpuSelection {
  enum class Mode {
    kVisible,  ///< every GPU visible to the job (CUDA_VISIBLE_DEVICES), as on a dedicated instance
    kUsed,     ///< the visible GPUs, keeping only those where the job's processes appeared
    kList,     ///< the GPUs named in `list`
  };
  Mode mode = Mode::kVisible;
  /// kList only: NVML indices ("2") or UUIDs, possibly truncated ("GPU-8c2e", "MIG-4f1a").
  std::vector<std::string> list;
};

/// Parses `--gpus`: "all" or "visible", "used", or a comma list such as "0,2" or
/// "GPU-8c2e,1". Returns an Error naming the text when an item is empty or is neither an
/// index nor a GPU-/MIG- UUID.
Result<GpuSelection> parse_gpu_selection(std::string_view text);

struct NvmlOptions {
  /// The NVML library to load; empty: $CARBONCLOCK_NVML_LIBRARY if set, else
  /// libnvidia-ml.so.1, then libnvidia-ml.so, from the loader's search path.
  std::string library_path;
  GpuSelection gpus;
  /// The job's CUDA_VISIBLE_DEVICES (the caller passes getenv's result): nullopt when unset
  /// (all GPUs); "" means none. Items are read as CUDA reads them: indices (taken as NVML
  /// indices, i.e. CUDA_DEVICE_ORDER=PCI_BUS_ID) or unique UUID prefixes; the list ends at
  /// the first item that matches no GPU or repeats one. A MIG- UUID selects its parent GPU.
  std::optional<std::string> cuda_visible_devices;
  /// How long after a GPU stopped responding it is asked again (the exporter, which outlives
  /// GPU resets); 0, the default: never, its energy stays where it stopped (a run).
  Nanos retry_lost_after{0};
};

/// Loads NVML, initialises it and opens the selected GPUs as a Sensor named "nvml" with
/// devices "gpu<NVML index>". Each GPU is metered by its energy counter where supported
/// (Method::kCounter), else by integrating its power draw with the trapezoid rule
/// (kPowerIntegration). A GPU in MIG mode reports 1/N of the whole GPU's energy for each
/// of its N MIG devices named in CUDA_VISIBLE_DEVICES (one if none is named), labelled
/// kEstimate with a note. A GPU that fails mid-run keeps its last energy and adds one
/// warning. Under kUsed the job's process tree is matched against each GPU's compute
/// processes at most once per second, and device_used() reports whether it ever appeared.
/// With `retry_lost_after`, a lost GPU is asked again that long after it failed (and so on
/// while it stays lost) and, once it answers, counted on from its new reading: a counter that kept
/// running adds the energy of the gap, one that went backwards (driver reload) counts from its
/// new value, and power integration restarts (the gap is not integrated).
/// The sensor is also a GpuProcessSource (sensors/gpu_processes.h).
/// Returns a one-line Error when the library cannot be loaded, lacks the init/count/handle
/// entry points, fails to initialise, or no GPU is found or selected.
Result<std::unique_ptr<Sensor>> open_nvml_sensor(const NvmlOptions& options);

}  // namespace carbonclock

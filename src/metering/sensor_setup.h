// Chooses the sensors for a run: NVML for GPUs, RAPL for CPU packages and DRAM, and the
// labelled estimate for whatever has no counter.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sensors/estimate_sensor.h"
#include "sensors/nvml_sensor.h"
#include "sensors/sensor.h"

namespace carbonclock {

struct SensorSetup {
  NvmlOptions nvml;
  bool use_gpus = true;
  std::filesystem::path sysfs_root = "/";  ///< $CARBONCLOCK_SYSFS_ROOT in the CLI
  EstimateModel estimate;
};

struct SensorSet {
  std::vector<std::unique_ptr<Sensor>> sensors;
  /// One line per sensor that is missing or partial, to print once ("no GPU: ...").
  std::vector<std::string> notes;
};

/// Opens every sensor that works here. Never fails: what is missing becomes a note.
SensorSet open_sensors(const SensorSetup& setup);

}  // namespace carbonclock

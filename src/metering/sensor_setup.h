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
  /// Make this process adopt the job's orphaned processes (adopt_orphans()) so that daemons
  /// the job starts are metered too. Process-wide: whoever waits for the job must then reap
  /// adopted orphans (Supervisor does). Start helper processes (the watchdog) before.
  bool adopt_orphans = true;
};

struct SensorSet {
  std::vector<std::unique_ptr<Sensor>> sensors;
  /// One line per sensor that is missing or partial, to print once ("no GPU: ...").
  std::vector<std::string> notes;
};

/// Opens every sensor that works here. Never fails: what is missing becomes a note (also
/// when orphans cannot be adopted).
SensorSet open_sensors(const SensorSetup& setup);

}  // namespace carbonclock

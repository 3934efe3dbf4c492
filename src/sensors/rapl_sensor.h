// CPU package and DRAM energy from RAPL through powercap sysfs
// (/sys/class/powercap/intel-rapl:*; AMD Zen exposes the same tree).
#pragma once

#include <filesystem>
#include <memory>

#include "common/error.h"
#include "sensors/sensor.h"

namespace carbonclock {

/// What the RAPL probe found.
struct RaplProbe {
  std::unique_ptr<Sensor> sensor;  ///< null when nothing readable was found
  bool has_package = false;
  bool has_dram = false;
  std::string
      message;  ///< why the sensor is missing or partial (e.g. permission fix); may be empty
};

/// Opens every package and dram domain under `sysfs_root`/sys/class/powercap (sysfs_root is
/// "/" in production, a fake tree in tests; CARBONCLOCK_SYSFS_ROOT overrides it in the CLI).
/// Counters wrap at max_energy_range_uj; the sensor unwraps them. Unreadable energy_uj files
/// (root-only since Linux 5.10) give a message with the fix and no sensor.
RaplProbe probe_rapl(const std::filesystem::path& sysfs_root);

}  // namespace carbonclock

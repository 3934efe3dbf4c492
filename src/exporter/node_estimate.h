// The labelled estimate for a whole node where RAPL has no counter (cloud VMs, unreadable
// RAPL): the same model as the run's estimate sensor (watts per busy core, watts per GB of
// memory in use; sensors/estimate_sensor.h), applied to the node instead of one job's
// process tree.
#pragma once

#include <filesystem>
#include <memory>

#include "sensors/estimate_sensor.h"
#include "sensors/sensor.h"

namespace carbonclock {

/// Devices "cpu-estimate" (the node's busy CPU seconds from /proc/stat x cpu_w_per_core)
/// and/or "dram-estimate" (MemTotal - MemAvailable from /proc/meminfo x dram_w_per_gb,
/// integrated over time), as `model.estimate_cpu` / `estimate_dram` ask; method kEstimate.
/// Reads `model.proc_root`. A file that cannot be read keeps the device's energy where it is
/// and warns once.
std::unique_ptr<Sensor> make_node_estimate_sensor(const EstimateModel& model);

}  // namespace carbonclock

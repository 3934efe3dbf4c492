#include "metering/sensor_setup.h"

#include <fmt/format.h>

#include "sensors/process_tree.h"
#include "sensors/rapl_sensor.h"

namespace carbonclock {

SensorSet open_sensors(const SensorSetup& setup) {
  SensorSet set;
  if (setup.adopt_orphans) {
    if (Status s = adopt_orphans(); !s) set.notes.push_back(s.error().message());
  }
  if (setup.use_gpus) {
    auto nvml = open_nvml_sensor(setup.nvml);
    if (nvml) {
      set.sensors.push_back(std::move(*nvml));
    } else {
      set.notes.push_back(fmt::format("no GPUs metered: {}", nvml.error().message()));
    }
  }
  auto rapl = probe_rapl(setup.sysfs_root);
  EstimateModel model = setup.estimate;
  model.estimate_cpu = !rapl.has_package;
  model.estimate_dram = !rapl.has_dram;
  if (rapl.sensor) set.sensors.push_back(std::move(rapl.sensor));
  if (model.estimate_cpu || model.estimate_dram) {
    std::string what = model.estimate_cpu && model.estimate_dram ? "CPU and DRAM"
                       : model.estimate_cpu                      ? "CPU"
                                                                 : "DRAM";
    set.notes.push_back(fmt::format("{} energy is estimated from the job's {} ({})", what,
                                    model.estimate_cpu ? "CPU time and memory" : "memory",
                                    rapl.message.empty() ? "no RAPL domain for it" : rapl.message));
    set.sensors.push_back(make_estimate_sensor(model));
  }
  return set;
}

}  // namespace carbonclock

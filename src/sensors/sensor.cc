#include "sensors/sensor.h"

namespace carbonclock {

const char* to_string(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kGpu:
      return "gpu";
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kDram:
      return "dram";
  }
  return "?";
}

const char* to_string(Method method) {
  switch (method) {
    case Method::kCounter:
      return "counter";
    case Method::kPowerIntegration:
      return "power-integration";
    case Method::kEstimate:
      return "estimate";
  }
  return "?";
}

}  // namespace carbonclock

// A scripted in-memory sensor for metering tests.
#pragma once

#include "sensors/sensor.h"

namespace carbonclock {

/// Each device draws a constant power; cumulative energy = power x time since first read.
class ConstantPowerSensor final : public Sensor {
 public:
  explicit ConstantPowerSensor(std::vector<double> power_w) : power_w_(std::move(power_w)) {
    for (size_t i = 0; i < power_w_.size(); ++i) {
      infos_.push_back(
          {"dev" + std::to_string(i), DeviceKind::kGpu, "fake", Method::kCounter, "", ""});
    }
  }
  std::string name() const override { return "constant"; }
  const std::vector<DeviceInfo>& devices() const override { return infos_; }
  void read(MonoTime now, std::span<double> energy_j, std::vector<std::string>&) override {
    if (!started_) {
      first_ = now;
      started_ = true;
    }
    for (size_t i = 0; i < power_w_.size(); ++i)
      energy_j[i] = power_w_[i] * to_seconds(now - first_);
  }
  bool device_used(size_t index) const override {
    return index < used_.size() ? used_[index] : true;
  }
  void attach_job(pid_t pid) override { attached_ = pid; }
  std::vector<bool> used_;
  pid_t attached_ = 0;

 private:
  std::vector<double> power_w_;
  std::vector<DeviceInfo> infos_;
  bool started_ = false;
  MonoTime first_{};
};

}  // namespace carbonclock

#include "exporter/node_estimate.h"

#include <fmt/format.h>

#include "common/files.h"
#include "exporter/proc_files.h"

namespace carbonclock {
namespace {

class NodeEstimateSensor final : public Sensor {
 public:
  explicit NodeEstimateSensor(const EstimateModel& model)
      : model_(model), ticks_per_s_(clock_ticks_per_s()) {
    if (model_.estimate_cpu) {
      devices_.push_back(
          {"cpu-estimate", DeviceKind::kCpu, "CPU (estimated)", Method::kEstimate, "",
           fmt::format("the node's busy CPU seconds x {} W per core", model_.cpu_w_per_core)});
    }
    if (model_.estimate_dram) {
      devices_.push_back(
          {"dram-estimate", DeviceKind::kDram, "DRAM (estimated)", Method::kEstimate, "",
           fmt::format("the node's memory in use x {} W per GB", model_.dram_w_per_gb)});
    }
  }

  std::string name() const override { return "estimate"; }
  const std::vector<DeviceInfo>& devices() const override { return devices_; }

  void read(MonoTime now, std::span<double> energy_j, std::vector<std::string>& warnings) override {
    size_t i = 0;
    if (model_.estimate_cpu) {
      if (read_small_file(model_.proc_root / "stat", buffer_, 1 << 20)) {
        if (auto ticks = node_busy_ticks(buffer_)) {
          const double busy_s = static_cast<double>(*ticks) / ticks_per_s_;
          if (last_busy_s_ >= 0)
            cpu_j_ += std::max(0.0, busy_s - last_busy_s_) * model_.cpu_w_per_core;
          last_busy_s_ = busy_s;
        }
      } else {
        warn_once(cpu_warned_, "stat", warnings);
      }
      if (i < energy_j.size()) energy_j[i] = cpu_j_;
      ++i;
    }
    if (model_.estimate_dram) {
      if (read_small_file(model_.proc_root / "meminfo", buffer_, 1 << 16)) {
        if (auto used_b = meminfo_used_bytes(buffer_)) {
          // Trapezoid between reads of the memory in use.
          const double watts = *used_b / 1e9 * model_.dram_w_per_gb;
          if (started_) dram_j_ += 0.5 * (last_dram_w_ + watts) * to_seconds(now - last_time_);
          last_dram_w_ = watts;
        }
      } else {
        warn_once(dram_warned_, "meminfo", warnings);
      }
      if (i < energy_j.size()) energy_j[i] = dram_j_;
    }
    last_time_ = now;
    started_ = true;
  }

 private:
  void warn_once(bool& warned, const char* file, std::vector<std::string>& warnings) {
    if (warned) return;
    warned = true;
    warnings.push_back(fmt::format("estimate: cannot read {}: {}; the estimate stops here",
                                   (model_.proc_root / file).string(), errno_text(errno)));
  }

  EstimateModel model_;
  double ticks_per_s_;
  std::vector<DeviceInfo> devices_;
  std::string buffer_;
  double last_busy_s_ = -1;
  double cpu_j_ = 0;
  double dram_j_ = 0;
  double last_dram_w_ = 0;
  MonoTime last_time_{};
  bool started_ = false;
  bool cpu_warned_ = false;
  bool dram_warned_ = false;
};

}  // namespace

std::unique_ptr<Sensor> make_node_estimate_sensor(const EstimateModel& model) {
  return std::make_unique<NodeEstimateSensor>(model);
}

}  // namespace carbonclock

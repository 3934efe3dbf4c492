#include "sensors/estimate_sensor.h"

#include <fmt/format.h>

#include <unordered_map>

#include "sensors/process_tree.h"

namespace carbonclock {
namespace {

class EstimateSensor final : public Sensor {
 public:
  explicit EstimateSensor(EstimateModel model) : model_(std::move(model)) {
    if (model_.estimate_cpu) {
      cpu_index_ = infos_.size();
      infos_.push_back({"cpu-estimate", DeviceKind::kCpu, "job CPU time model", Method::kEstimate,
                        "",
                        fmt::format("job process-tree CPU seconds x {} W per busy core",
                                    model_.cpu_w_per_core)});
    }
    if (model_.estimate_dram) {
      dram_index_ = infos_.size();
      infos_.push_back({"dram-estimate", DeviceKind::kDram, "job resident memory model",
                        Method::kEstimate, "",
                        fmt::format("job resident memory x {} W per GB", model_.dram_w_per_gb)});
    }
  }

  std::string name() const override { return "estimate"; }
  const std::vector<DeviceInfo>& devices() const override { return infos_; }
  void attach_job(pid_t job_pid) override { job_pid_ = job_pid; }

  void job_finished(double job_cpu_s) override {
    // The kernel's own total for the whole tree (reaped descendants included) beats our
    // sampled sum, which misses processes that lived less than one scan interval.
    finished_cpu_s_ = job_cpu_s;
    // A job that was already running (the Python API's own process) lives on: the last
    // reading scans it once more, so the run's CPU time is complete however short it was.
    if (model_.job_already_running) scanned_ = false;
  }

  void read(MonoTime now, std::span<double> energy_j,
            std::vector<std::string>& /*warnings*/) override {
    if (!started_) {
      started_ = true;
      last_scan_ = now;
      last_read_ = now;
      if (model_.job_already_running && job_pid_ > 0) {
        scan(now);
        baseline_cpu_s_ = tracked_cpu_s();
      }
    } else {
      // The first scan happens as soon as the job is known, so short jobs are seen too.
      if (job_pid_ > 0 && (!scanned_ || now - last_scan_ >= model_.min_scan_interval)) scan(now);
      // DRAM: the last seen resident size holds until the next scan.
      dram_j_ += resident_gb_ * model_.dram_w_per_gb * to_seconds(now - last_read_);
      last_read_ = now;
    }
    double cpu_s = std::max(tracked_cpu_s(), finished_cpu_s_) - baseline_cpu_s_;
    if (cpu_index_ != kNone) energy_j[cpu_index_] = cpu_s * model_.cpu_w_per_core;
    if (dram_index_ != kNone) energy_j[dram_index_] = dram_j_;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  void scan(MonoTime now) {
    last_scan_ = now;
    scanned_ = true;
    auto tree = process_tree(job_pid_, model_.proc_root);
    double live_cpu_s = 0, resident_b = 0;
    std::unordered_map<pid_t, double> seen;
    for (const auto& st : tree) {
      live_cpu_s += st.cpu_s;
      resident_b += st.resident_b;
      seen[st.pid] = st.cpu_s;
    }
    // Processes that were alive at the last scan and are gone now keep their last CPU time.
    for (const auto& [pid, cpu] : live_) {
      if (!seen.contains(pid)) dead_cpu_s_ += cpu;
    }
    live_ = std::move(seen);
    live_cpu_s_ = live_cpu_s;
    resident_gb_ = resident_b / 1e9;
  }

  double tracked_cpu_s() const { return live_cpu_s_ + dead_cpu_s_; }

  EstimateModel model_;
  std::vector<DeviceInfo> infos_;
  size_t cpu_index_ = kNone, dram_index_ = kNone;
  pid_t job_pid_ = 0;
  bool started_ = false;
  bool scanned_ = false;
  MonoTime last_scan_{}, last_read_{};
  std::unordered_map<pid_t, double> live_;
  double live_cpu_s_ = 0, dead_cpu_s_ = 0, finished_cpu_s_ = 0;
  double baseline_cpu_s_ = 0;  // CPU time of a job_already_running at the first read
  double resident_gb_ = 0, dram_j_ = 0;
};

}  // namespace

std::unique_ptr<Sensor> make_estimate_sensor(const EstimateModel& model) {
  return std::make_unique<EstimateSensor>(model);
}

}  // namespace carbonclock

#include "sensors/estimate_sensor.h"

#include <fmt/format.h>

#include <algorithm>

#include "sensors/process_tree.h"

namespace carbonclock {
namespace {

ProcessTreeSource source(const EstimateModel& model) {
  ProcessTreeSource s = ProcessTreeSource::this_process(model.proc_root);
  s.scan_all = model.scan_all_processes;
  return s;
}

class EstimateSensor final : public Sensor {
 public:
  explicit EstimateSensor(EstimateModel model)
      : model_(std::move(model)), tracker_(source(model_)) {
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
  void attach_job(pid_t job_pid) override {
    job_pid_ = job_pid;
    tracker_.attach(job_pid);
  }

  void job_finished(double job_cpu_s) override {
    // The kernel's total for the job's first process, its reaped descendants included.
    finished_cpu_s_ = job_cpu_s;
    finished_ = true;
  }

  void read(MonoTime now, std::span<double> energy_j, std::vector<std::string>& warnings) override {
    if (!started_) {
      started_ = true;
      last_scan_ = now;
      last_read_ = now;
      if (model_.job_already_running && job_pid_ > 0) {
        scan(now, warnings);
        baseline_cpu_s_ = cpu_s_;
      }
    } else {
      // The first scan happens as soon as the job is known, so short jobs are seen too; the
      // last one when it ended, so the final interval gets its own CPU time.
      if (job_pid_ > 0 &&
          (!scanned_ || finished_ || now - last_scan_ >= model_.min_scan_interval)) {
        scan(now, warnings);
      }
      // DRAM: the last seen resident size holds until the next scan.
      dram_j_ += resident_gb_ * model_.dram_w_per_gb * to_seconds(now - last_read_);
      last_read_ = now;
    }
    if (finished_ && scanned_ && !survivors_noted_ && !model_.job_already_running) {
      note_survivors(warnings);
    }
    // The kernel's total for the reaped first process covers its whole tree exactly (the
    // tracked total is made of /proc's clock ticks); processes beyond that tree (adopted
    // orphans, restarts) are only in the tracked total. A job that was already running (the
    // Python API's own process) is not reaped: its tracked total, from the first read on.
    double cpu_s = !finished_ || model_.job_already_running ? cpu_s_
                   : tracker_.followed_beyond_root()        ? std::max(cpu_s_, finished_cpu_s_)
                                                            : finished_cpu_s_;
    cpu_s -= baseline_cpu_s_;
    if (cpu_index_ != kNone) energy_j[cpu_index_] = cpu_s * model_.cpu_w_per_core;
    if (dram_index_ != kNone) energy_j[dram_index_] = dram_j_;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  void scan(MonoTime now, std::vector<std::string>& warnings) {
    last_scan_ = now;
    scanned_ = true;
    TreeReading r = tracker_.read(warnings);
    cpu_s_ = r.cpu_s;
    resident_gb_ = r.resident_b / 1e9;
  }

  // Processes the job left running (daemons) are not metered after its end: say so once.
  void note_survivors(std::vector<std::string>& warnings) {
    survivors_noted_ = true;
    auto left = tracker_.survivors();
    if (left.empty()) return;
    warnings.push_back(fmt::format(
        "{} process{} the job started {} still running when it ended (first: pid {}, {}); "
        "{} energy after the job's end is not metered",
        left.size(), left.size() == 1 ? "" : "es", left.size() == 1 ? "was" : "were",
        left.front().pid, left.front().name, left.size() == 1 ? "its" : "their"));
  }

  EstimateModel model_;
  std::vector<DeviceInfo> infos_;
  size_t cpu_index_ = kNone, dram_index_ = kNone;
  ProcessTreeTracker tracker_;
  pid_t job_pid_ = 0;
  bool started_ = false;
  bool scanned_ = false;
  bool finished_ = false;
  bool survivors_noted_ = false;
  MonoTime last_scan_{}, last_read_{};
  double cpu_s_ = 0, finished_cpu_s_ = 0;
  double baseline_cpu_s_ = 0;  // CPU time of a job_already_running at the first read
  double resident_gb_ = 0, dram_j_ = 0;
};

}  // namespace

std::unique_ptr<Sensor> make_estimate_sensor(const EstimateModel& model) {
  return std::make_unique<EstimateSensor>(model);
}

}  // namespace carbonclock

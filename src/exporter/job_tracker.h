// Finds the jobs running on the node and the CPU time each used, by scanning /proc: a new
// process is identified once (its cgroup, else its environment; see job_identity.h), a
// process without a job is looked at again every `recheck_unassigned` (schedulers move a task
// into its job's cgroup just after forking it), and a job's CPU time comes from its cgroup's
// cpu.stat where the unified hierarchy has one (exact, exited processes included), else from
// the sum of its live processes' /proc/PID/stat times (children included once reaped).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "exporter/job_identity.h"

namespace carbonclock {

struct JobTrackerOptions {
  std::filesystem::path proc_root = "/proc";
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  Nanos recheck_unassigned = std::chrono::seconds(10);
};

/// What one scan found.
struct JobScan {
  /// CPU seconds the whole node spent busy (all CPUs; user, nice, system, irq, softirq,
  /// steal) since the previous scan.
  double node_busy_cpu_s = 0;
  /// Every job with a live process, with its CPU seconds since the previous scan (0 at a
  /// job's first scan when it was already running).
  std::vector<std::pair<JobKey, double>> jobs;
  size_t processes = 0;  ///< processes seen
};

class JobTracker {
 public:
  explicit JobTracker(JobTrackerOptions options = {});

  /// Scans every process. The first scan sets baselines: node and job CPU seconds are 0.
  /// Error when /proc/stat cannot be read (then nothing changes).
  Result<JobScan> scan(MonoTime now);

  /// The job of process `pid`: as identified by the scans, or now for a process the last scan
  /// did not see (it is then counted from its start at the next scan). nullopt: no job.
  std::optional<JobKey> job_of(pid_t pid);

 private:
  struct Proc {
    std::optional<JobKey> job;
    MonoTime identified_at{};
    double last_cpu_s = 0;
    bool counted = false;  // last_cpu_s is a baseline from an earlier scan
    uint64_t seen = 0;     // the scan that last saw it
  };
  struct Job {
    std::filesystem::path cpu_stat;  // empty: the sum of its processes
    double last_cgroup_cpu_s = -1;   // < 0: no baseline yet
    double cpu_s = 0;                // this scan
    uint64_t seen = 0;
  };

  // Reads the process's cgroup, then its environment; registers its job.
  Proc identify(pid_t pid, MonoTime now);
  bool read(const std::filesystem::path& path, size_t max_bytes);

  JobTrackerOptions options_;
  std::unordered_map<pid_t, Proc> procs_;
  std::map<JobKey, Job> jobs_;
  uint64_t scans_ = 0;
  double last_busy_s_ = -1;
  double last_uptime_s_ = -1;
  double ticks_per_s_ = 100;
  std::string buffer_;
};

}  // namespace carbonclock

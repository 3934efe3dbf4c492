// Finds the jobs running on the node and the CPU time each used. Listing /proc is the costly
// part (the kernel walks every task), so it is done only every `rescan` (a rescan): a new
// process is identified once (its cgroup, else its environment; see job_identity.h), and a
// process without a job once more, at the first rescan `recheck_unassigned` after that
// (schedulers move a task into its job's cgroup just after forking it); a pid whose /proc
// entry changed (another process took the pid) is a new process. Every scan,
// rescan or not, reads the CPU time of the jobs already known: from the job's cgroup cpu.stat
// where the unified hierarchy has one (exact, exited processes and processes started since the
// rescan included), else the sum of its known live processes' /proc/PID/stat times (children
// included once reaped).
//
// Attribution lag: a process of a cgroup-less job that starts between rescans, and a job that
// starts between rescans, are found at the next rescan and counted from then on (their CPU
// time before the scan preceding that rescan stays unattributed; a process started within the
// last interval is counted from its start). A GPU process the tracker has not seen is
// identified at once (job_of), so GPU attribution has no such lag.
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
#include "exporter/proc_files.h"

namespace carbonclock {

struct JobTrackerOptions {
  std::filesystem::path proc_root = "/proc";
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  Nanos recheck_unassigned = std::chrono::seconds(10);
  /// How often a scan lists /proc for new processes and jobs; 0: every scan.
  Nanos rescan = std::chrono::seconds(5);
};

/// What one scan found.
struct JobScan {
  /// CPU seconds the whole node spent busy (all CPUs; user, nice, system, irq, softirq,
  /// steal) since the previous scan.
  double node_busy_cpu_s = 0;
  /// Every job with a live process, with its CPU seconds since the previous scan (0 at a
  /// job's first scan when it was already running).
  std::vector<std::pair<JobKey, double>> jobs;
  size_t processes = 0;    ///< processes seen by a rescan; between rescans, those still known
  bool rescanned = false;  ///< this scan listed /proc
};

class JobTracker {
 public:
  explicit JobTracker(JobTrackerOptions options = {});

  /// Reads the node's and the known jobs' CPU time; lists every process first when the first
  /// scan or `rescan` since the last listing. The first scan sets baselines: node and job CPU
  /// seconds are 0. Error when /proc/stat cannot be read or /proc listed (then nothing changes).
  Result<JobScan> scan(MonoTime now);

  /// The job of process `pid`: as identified by the scans, or now for a process the last scan
  /// did not see (it is then counted from its start at the next scan). nullopt: no job.
  std::optional<JobKey> job_of(pid_t pid);

 private:
  struct Proc {
    std::optional<JobKey> job;
    MonoTime identified_at{};
    double last_cpu_s = 0;
    bool counted = false;      // last_cpu_s is a baseline from an earlier scan
    uint64_t start_ticks = 0;  // its start after boot, once counted (a reused pid differs)
    uint64_t seen = 0;         // the rescan that last saw it
    ino_t ino = 0;             // of its /proc entry; 0: not listed yet
    bool rechecked = false;    // looked at again after recheck_unassigned
  };
  struct Job {
    std::filesystem::path cpu_stat;  // empty: the sum of its processes
    double last_cgroup_cpu_s = -1;   // < 0: no baseline yet
    double cpu_s = 0;                // this scan
    uint64_t seen = 0;
  };

  // Reads the process's cgroup, then its environment; registers its job.
  Proc identify(pid_t pid, MonoTime now);
  // Lists /proc: identifies new processes, counts the CPU of those of cgroup-less jobs, marks
  // live jobs seen and forgets processes that are gone.
  Status rescan(MonoTime now, uint64_t scan_id, bool first, JobScan& out);
  // Between rescans: the CPU of the known processes of cgroup-less jobs; marks live jobs seen
  // and forgets processes that are gone (a cgroup job is live while its cpu.stat reads).
  void refresh(uint64_t scan_id);
  enum class Read { kCounted, kGone, kReused };
  // Adds the CPU time process `pid` used since the previous scan to `job`.
  Read count_cpu(pid_t pid, Proc& p, Job& job, bool first);
  bool read(const std::filesystem::path& path, size_t max_bytes);

  JobTrackerOptions options_;
  HeldFile proc_stat_;  // read at every scan
  HeldFile uptime_;
  std::unordered_map<pid_t, Proc> procs_;
  std::map<JobKey, Job> jobs_;
  uint64_t scans_ = 0;
  MonoTime last_rescan_{};
  double last_busy_s_ = -1;
  double last_uptime_s_ = -1;
  double ticks_per_s_ = 100;
  std::string buffer_;
};

}  // namespace carbonclock

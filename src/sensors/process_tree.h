// A job's processes, read from /proc (root overridable for tests). The tree is followed from
// the job's first process through /proc/PID/task/TID/children, so the cost of a reading grows
// with the job's processes and threads, never with the rest of the host. Processes that leave
// the tree (a daemon whose parent exits) are kept: once seen they are followed by pid, and
// while this process adopts orphans (adopt_orphans()) they are re-parented to it and found
// even when they left between two readings.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"

namespace carbonclock {

/// One process's counters from /proc/PID/stat and /proc/PID/statm.
struct ProcessStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';           ///< 'R', 'S', 'D', ..., 'Z' for a zombie
  int threads = 1;            ///< num_threads
  uint64_t start_ticks = 0;   ///< start time after boot in clock ticks: tells a reused pid apart
  double cpu_s = 0;           ///< utime + stime of the process itself, seconds
  double children_cpu_s = 0;  ///< cutime + cstime: the children it has waited for, seconds
  double resident_b = 0;      ///< resident set size, bytes (0 for a zombie)
  std::string name;           ///< comm, as in /proc/PID/stat
};

/// Reads /proc/PID/stat and statm; nullopt when the process is gone.
std::optional<ProcessStat> read_process(pid_t pid,
                                        const std::filesystem::path& proc_root = "/proc");

/// The children of every thread of `pid` (/proc/PID/task/*/children). nullopt when the
/// kernel has no children files (built without CONFIG_PROC_CHILDREN); empty when `pid` is
/// gone or childless.
std::optional<std::vector<pid_t>> process_children(
    pid_t pid, const std::filesystem::path& proc_root = "/proc");

/// Every live process whose ancestry leads to `root` (including `root`) and, while this
/// process adopts orphans, every process re-parented to it and their descendants. Processes
/// that vanish during the walk are skipped. Empty when `root` is gone and nothing was adopted.
std::vector<ProcessStat> process_tree(pid_t root, const std::filesystem::path& proc_root = "/proc");

/// Pids only, for callers that need membership (e.g. GPU process lists).
std::vector<pid_t> process_tree_pids(pid_t root, const std::filesystem::path& proc_root = "/proc");

/// The same tree found the way carbonclock did before it followed children files: by reading
/// every process in `proc_root` and linking parents. Its cost grows with the host's process
/// count; it is the fallback for kernels without children files and the benchmark's baseline.
std::vector<ProcessStat> process_tree_by_scan(pid_t root,
                                              const std::filesystem::path& proc_root = "/proc");

// ---- adopting orphans ----
//
// A child subreaper (prctl PR_SET_CHILD_SUBREAPER) receives its orphaned descendants instead
// of init, so a double-forking daemon started by the job stays a child of carbonclock, where
// the meter finds it. The attribute belongs to the whole process; the state below mirrors it
// and is therefore process-wide too.

/// Makes this process a child subreaper. The children it has at this moment (its own
/// helpers, e.g. the watchdog) are recorded and never counted as the job's, so start helpers
/// first. Idempotent. Error with the kernel's reason when prctl fails.
Status adopt_orphans();
/// Undoes adopt_orphans() (tests): orphans go to init again and the helper list is cleared.
void stop_adopting_orphans();
/// Whether adopt_orphans() is in effect.
bool adopting_orphans();
/// The helpers recorded by adopt_orphans(); nullopt while not adopting.
std::optional<std::vector<pid_t>> adoption_helpers();
/// Reaps (waitpid with WNOHANG, one pid at a time) every exited child of this process except
/// `job` (which its supervisor waits for) and the helpers: the jobs' adopted orphans. Does
/// nothing while not adopting. Returns how many it reaped.
size_t reap_adopted_orphans(pid_t job);

// ---- following a job over time ----

/// Where a ProcessTreeTracker reads. this_process() describes the real /proc and this
/// process; tests describe a fake /proc.
struct ProcessTreeSource {
  std::filesystem::path proc_root = "/proc";
  /// The process that spawned the job: the sink of the job's exit and, with `helpers`
  /// set, the parent of adopted orphans.
  pid_t self = 0;
  /// Set while `self` adopts orphans: its children other than these belong to the job.
  std::optional<std::vector<pid_t>> helpers;
  /// CPU seconds of the children `self` has reaped so far (getrusage RUSAGE_CHILDREN).
  std::function<double()> reaped_children_cpu_s;
  /// Find the tree by reading every process (the benchmark's baseline); otherwise this is
  /// only done when the kernel has no children files.
  bool scan_all = false;

  /// The real /proc, getpid() and this process's adoption state now: create trackers after
  /// adopt_orphans().
  static ProcessTreeSource this_process(std::filesystem::path proc_root = "/proc");
};

/// What one reading found.
struct TreeReading {
  double cpu_s = 0;       ///< CPU seconds of the job's processes since the tracker was made
  double resident_b = 0;  ///< resident memory of its live processes now
  size_t processes = 0;   ///< live processes followed now
};

/// Follows a job's processes from one reading to the next and accounts for their CPU time.
///
/// The total is the live processes' own CPU time plus that of the children they reaped
/// (cutime + cstime), plus what `self` reaped (the job's first process, adopted orphans), plus
/// the last-seen CPU time of processes whose exit was not accounted by any parent (a parent
/// that ignores SIGCHLD, or one outside the tree). So a child that exits between two readings
/// is counted at the next reading, in the interval where it ran, not when the job ends.
/// The walk is not atomic: a child reaped while the walk runs is missed once and its time
/// reaches its parent at the next reading; the tracker carries it until then, so the total
/// never decreases and nothing is counted twice.
class ProcessTreeTracker {
 public:
  explicit ProcessTreeTracker(ProcessTreeSource source);

  /// The job's first process; again after the job was restarted (processes already followed
  /// stay followed).
  void attach(pid_t root);
  /// Walks the tree now. `warnings` gets one line the first time something cannot be
  /// followed (no children files; a process that left the tree while orphans are not adopted).
  TreeReading read(std::vector<std::string>& warnings);
  /// Processes of the last reading that are alive and not the job's first process: after
  /// the job ended, the ones it left running.
  std::vector<ProcessStat> survivors() const;
  /// Whether anything was followed that the job's first process does not account for when
  /// it is reaped: an adopted orphan, a process that left the tree, an exit no parent
  /// accounted, an earlier first process (restart). While false, the kernel's CPU total for
  /// the reaped first process is the job's whole, exact total.
  bool followed_beyond_root() const { return beyond_root_; }

 private:
  void walk(std::unordered_map<pid_t, ProcessStat>& out, std::vector<std::string>& warnings);
  double reaped_cpu_s() const;

  ProcessTreeSource source_;
  pid_t root_ = 0;
  std::unordered_map<pid_t, ProcessStat> members_;  // the last reading
  double reaped_base_s_ = 0, reaped_last_s_ = 0;
  double lost_s_ = 0;     // exits no parent accounted: their last-seen CPU time
  double pending_s_ = 0;  // exits seen at the last reading whose time has not reached a parent
  double reported_s_ = 0;
  bool scan_ = false;
  bool mode_known_ = false;
  bool warned_scan_ = false;
  bool warned_left_ = false;
  bool beyond_root_ = false;
};

}  // namespace carbonclock

// Reading a job's process tree from /proc (root overridable for tests).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <vector>

namespace carbonclock {

/// One process's counters from /proc/PID/stat and /proc/PID/statm.
struct ProcessStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  double cpu_s = 0;       ///< utime + stime of the process itself, seconds
  double resident_b = 0;  ///< resident set size, bytes
};

/// Every live process whose ancestry leads to `root` (including `root`), by scanning
/// `proc_root`. Processes that vanish during the scan are skipped. Empty when `root` is gone.
std::vector<ProcessStat> process_tree(pid_t root, const std::filesystem::path& proc_root = "/proc");

/// Pids only, for callers that need membership (e.g. GPU process lists).
std::vector<pid_t> process_tree_pids(pid_t root, const std::filesystem::path& proc_root = "/proc");

}  // namespace carbonclock

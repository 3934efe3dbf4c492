// The exporter's own cost, exported under the names every Prometheus client uses
// (process_cpu_seconds_total, process_resident_memory_bytes, ...), read from /proc/self.
#pragma once

#include <dirent.h>

#include <filesystem>
#include <string>

#include "exporter/proc_files.h"

namespace carbonclock {

struct ProcessStats {
  double cpu_s = 0;         ///< user + system CPU seconds
  double resident_b = 0;    ///< resident set size, bytes
  double virtual_b = 0;     ///< virtual memory size, bytes
  double open_fds = 0;      ///< entries in /proc/self/fd
  double max_fds = 0;       ///< the soft RLIMIT_NOFILE
  double start_time_s = 0;  ///< seconds since the Unix epoch
  double threads = 0;
};

class SelfStats {
 public:
  /// `proc_root` is "/proc" in production.
  explicit SelfStats(std::filesystem::path proc_root = "/proc");
  ~SelfStats();
  SelfStats(const SelfStats&) = delete;
  SelfStats& operator=(const SelfStats&) = delete;
  /// Reads them now; fields that cannot be read stay 0. The stat file and the fd directory
  /// are opened by the constructor and stay open (they are read at every scrape); the
  /// directory's own descriptor is not counted in open_fds.
  ProcessStats read();

 private:
  std::filesystem::path proc_root_;
  HeldFile stat_;
  DIR* fd_dir_ = nullptr;
  double ticks_per_s_;
  double page_b_;
  double boot_time_s_ = 0;
  std::string buffer_;
};

}  // namespace carbonclock

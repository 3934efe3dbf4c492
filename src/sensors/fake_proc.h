// Test support: a fake /proc with the files the process-tree reader uses (stat, statm and
// task/TID/children), so that tree accounting is tested without timing or real processes.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace carbonclock {

class FakeProc {
 public:
  /// `children_files`: false mimics a kernel without CONFIG_PROC_CHILDREN.
  explicit FakeProc(std::filesystem::path root, bool children_files = true)
      : root_(std::move(root)), children_files_(children_files) {
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  ~FakeProc() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  FakeProc(const FakeProc&) = delete;
  FakeProc& operator=(const FakeProc&) = delete;

  const std::filesystem::path& root() const { return root_; }
  /// Seconds per clock tick, the unit of the CPU times written below.
  static double tick_s() { return 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK)); }

  struct Process {
    pid_t pid = 0;
    pid_t ppid = 0;
    long long cpu_ticks = 0;       ///< utime (stime stays 0)
    long long children_ticks = 0;  ///< cutime (cstime stays 0)
    uint64_t start_ticks = 1;
    char state = 'S';
    long long resident_pages = 0;
    std::string name = "proc";
    std::vector<pid_t> children;  ///< listed in task/PID/children
  };

  /// Writes (or rewrites) a process.
  void set(const Process& p) {
    auto dir = root_ / std::to_string(p.pid);
    std::filesystem::create_directories(dir / "task" / std::to_string(p.pid));
    std::ofstream(dir / "stat", std::ios::trunc)
        << p.pid << " (" << p.name << ") " << p.state << " " << p.ppid << " " << p.pid << " "
        << p.pid << " 0 -1 4194304 0 0 0 0 " << p.cpu_ticks << " 0 " << p.children_ticks
        << " 0 20 0 1 0 " << p.start_ticks << " 1000000 " << p.resident_pages << "\n";
    std::ofstream(dir / "statm", std::ios::trunc) << "1000 " << p.resident_pages << " 0 0 0 0 0\n";
    if (children_files_) {
      std::ofstream out(dir / "task" / std::to_string(p.pid) / "children", std::ios::trunc);
      for (pid_t c : p.children) out << c << " ";
    }
  }
  /// The process is gone (reaped).
  void remove(pid_t pid) { std::filesystem::remove_all(root_ / std::to_string(pid)); }

 private:
  std::filesystem::path root_;
  bool children_files_;
};

}  // namespace carbonclock

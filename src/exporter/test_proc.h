// Test support: a fake /proc (and cgroup v2 tree) with settable CPU counters, cgroups and
// environments, for the job tracker, the node estimate and the node meter.
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace carbonclock {

class FakeProc {
 public:
  explicit FakeProc(std::filesystem::path root) : root_(std::move(root)) {
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(proc());
    std::filesystem::create_directories(cgroup());
    set_node(0, 0);
    set_uptime(1000);
    set_meminfo(16ull << 20, 12ull << 20);
  }
  ~FakeProc() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  FakeProc(const FakeProc&) = delete;
  FakeProc& operator=(const FakeProc&) = delete;

  std::filesystem::path proc() const { return root_ / "proc"; }
  std::filesystem::path cgroup() const { return root_ / "cgroup"; }

  /// /proc/stat's first line: `busy_ticks` split over user and system, `idle_ticks` idle.
  void set_node(unsigned long long busy_ticks, unsigned long long idle_ticks) {
    std::ofstream(proc() / "stat", std::ios::trunc)
        << fmt::format("cpu  {} 0 {} {} 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\nbtime 1700000000\n",
                       busy_ticks / 2, busy_ticks - busy_ticks / 2, idle_ticks);
  }
  void set_uptime(double seconds) {
    std::ofstream(proc() / "uptime", std::ios::trunc) << fmt::format("{:.2f} 0.00\n", seconds);
  }
  void set_meminfo(unsigned long long total_kb, unsigned long long available_kb) {
    std::ofstream(proc() / "meminfo", std::ios::trunc)
        << fmt::format("MemTotal:       {} kB\nMemFree:        1 kB\nMemAvailable:   {} kB\n",
                       total_kb, available_kb);
  }

  /// A process with the given cgroup file text and environment (NUL-separated when written).
  void add_process(int pid, const std::string& cgroup_text, const std::string& environ_text,
                   unsigned long long start_ticks = 0) {
    auto dir = proc() / std::to_string(pid);
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "cgroup") << cgroup_text;
    std::string env = environ_text;
    for (char& c : env) {
      if (c == '\n') c = '\0';
    }
    std::ofstream(dir / "environ", std::ios::binary) << env;
    set_cpu(pid, 0, 0, start_ticks);
  }
  /// utime and stime (ticks) of the process itself, and its start (ticks after boot).
  void set_cpu(int pid, unsigned long long utime, unsigned long long stime,
               unsigned long long start_ticks = 0) {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
    // stime cutime cstime priority nice threads itreal starttime vsize rss
    std::ofstream(proc() / std::to_string(pid) / "stat", std::ios::trunc)
        << fmt::format("{} (fake job) S 1 {} {} 0 -1 0 0 0 0 0 {} {} 0 0 20 0 1 0 {} 1000000 100\n",
                       pid, pid, pid, utime, stime, start_ticks);
  }
  void set_cgroup(int pid, const std::string& cgroup_text) {
    std::ofstream(proc() / std::to_string(pid) / "cgroup", std::ios::trunc) << cgroup_text;
  }
  void remove_process(int pid) { std::filesystem::remove_all(proc() / std::to_string(pid)); }
  /// Process `pid` exits and a new one takes its pid: a new /proc entry (another inode, as
  /// the kernel gives), with the given cgroup, environment and start.
  void replace_process(int pid, const std::string& cgroup_text, const std::string& environ_text,
                       unsigned long long start_ticks) {
    const auto dir = proc() / std::to_string(pid);
    const auto staged = proc() / ("new." + std::to_string(pid));
    std::filesystem::rename(dir, staged);  // the old entry lives on until the new one exists
    add_process(pid, cgroup_text, environ_text, start_ticks);
    std::filesystem::remove_all(staged);
  }

  /// cpu.stat of a cgroup v2 directory (relative to the cgroup root).
  void set_cgroup_usage(const std::string& dir, unsigned long long usage_usec) {
    std::filesystem::create_directories(cgroup() / dir);
    std::ofstream(cgroup() / dir / "cpu.stat", std::ios::trunc)
        << fmt::format("usage_usec {}\nuser_usec {}\nsystem_usec 0\n", usage_usec, usage_usec);
  }

 private:
  std::filesystem::path root_;
};

}  // namespace carbonclock

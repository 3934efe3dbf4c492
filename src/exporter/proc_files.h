// Small readers for the /proc files the exporter polls: one open and read per file into a
// reused buffer, no streams (they are read every second).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace carbonclock {

/// Reads up to `max_bytes` of `path` into `out` (replacing it). False when the file cannot be
/// opened or read (a process that exited, a permission refused); errno says why.
bool read_small_file(const std::filesystem::path& path, std::string& out, size_t max_bytes);

/// A /proc or sysfs file read again and again through one descriptor, opened at the first
/// read and then re-read from offset 0 with pread (the kernel regenerates its text), so a
/// periodic read costs no path lookup, open or close. Not copyable.
class HeldFile {
 public:
  explicit HeldFile(std::filesystem::path path) : path_(std::move(path)) {}
  ~HeldFile();
  HeldFile(const HeldFile&) = delete;
  HeldFile& operator=(const HeldFile&) = delete;
  const std::filesystem::path& path() const { return path_; }
  /// As read_small_file: up to `max_bytes` into `out`; false (errno says why) when the file
  /// cannot be opened or read; a failed read closes it, so the next read opens it again.
  bool read(std::string& out, size_t max_bytes);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

/// Busy ticks of all CPUs from /proc/stat's first line: user + nice + system + irq + softirq +
/// steal (guest time is already in user). nullopt when the line is missing or short.
std::optional<uint64_t> node_busy_ticks(std::string_view proc_stat);

/// Memory in use from /proc/meminfo: MemTotal - MemAvailable, bytes. nullopt when either is
/// missing.
std::optional<double> meminfo_used_bytes(std::string_view meminfo);

/// Clock ticks per second (sysconf(_SC_CLK_TCK), 100 where unknown).
double clock_ticks_per_s();

}  // namespace carbonclock

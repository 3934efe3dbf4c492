#include "exporter/proc_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <vector>

namespace carbonclock {

bool read_small_file(const std::filesystem::path& path, std::string& out, size_t max_bytes) {
  out.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char chunk[4096];
  bool ok = true;
  int saved = 0;
  while (out.size() < max_bytes) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      ok = false;
      saved = errno;
    }
    if (n <= 0) break;
    out.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!ok) errno = saved;
  return ok;
}

HeldFile::~HeldFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool HeldFile::read(std::string& out, size_t max_bytes) {
  out.clear();
  if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return false;
  char chunk[4096];
  while (out.size() < max_bytes) {
    const ssize_t n = ::pread(fd_, chunk, sizeof chunk, static_cast<off_t>(out.size()));
    if (n < 0) {
      const int saved = errno;
      ::close(fd_);
      fd_ = -1;
      errno = saved;
      return false;
    }
    if (n == 0) break;
    out.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

std::optional<uint64_t> node_busy_ticks(std::string_view stat) {
  if (!stat.starts_with("cpu ")) return std::nullopt;
  stat = stat.substr(0, stat.find('\n'));
  std::vector<uint64_t> v;
  size_t at = 4;
  while (at < stat.size()) {
    while (at < stat.size() && stat[at] == ' ') ++at;
    const size_t end = std::min(stat.find(' ', at), stat.size());
    if (end > at) {
      uint64_t x = 0;
      auto [p, ec] = std::from_chars(stat.data() + at, stat.data() + end, x);
      if (ec != std::errc()) return std::nullopt;
      v.push_back(x);
    }
    at = end;
  }
  if (v.size() < 7) return std::nullopt;
  // user nice system idle iowait irq softirq [steal guest guest_nice]
  return v[0] + v[1] + v[2] + v[5] + v[6] + (v.size() > 7 ? v[7] : 0);
}

namespace {

std::optional<double> meminfo_kb(std::string_view text, std::string_view key) {
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find('\n', at), text.size());
    std::string_view line = text.substr(at, end - at);
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':') {
      line.remove_prefix(key.size() + 1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      uint64_t kb = 0;
      auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), kb);
      if (ec != std::errc()) return std::nullopt;
      return static_cast<double>(kb);
    }
    at = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> meminfo_used_bytes(std::string_view meminfo) {
  auto total = meminfo_kb(meminfo, "MemTotal");
  auto available = meminfo_kb(meminfo, "MemAvailable");
  if (!total || !available) return std::nullopt;
  return std::max(0.0, *total - *available) * 1024.0;
}

double clock_ticks_per_s() {
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(ticks) : 100.0;
}

}  // namespace carbonclock

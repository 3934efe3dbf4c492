#include "exporter/self_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <vector>

#include "exporter/proc_files.h"

namespace carbonclock {
namespace {

double number(std::string_view s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

SelfStats::SelfStats(std::filesystem::path proc_root)
    : proc_root_(std::move(proc_root)),
      stat_(proc_root_ / "self/stat"),
      ticks_per_s_(clock_ticks_per_s()),
      page_b_(static_cast<double>(::sysconf(_SC_PAGESIZE))) {
  if (read_small_file(proc_root_ / "stat", buffer_, 1 << 20)) {
    const size_t at = buffer_.find("\nbtime ");
    if (at != std::string::npos) {
      std::string_view rest(buffer_);
      rest.remove_prefix(at + 7);
      boot_time_s_ = number(rest.substr(0, rest.find('\n')));
    }
  }
  // Opened now, so the descriptors they hold are there from the start (process_open_fds stays
  // as it was before the first scrape).
  stat_.read(buffer_, 4096);
  fd_dir_ = ::opendir((proc_root_ / "self/fd").c_str());
}

SelfStats::~SelfStats() {
  if (fd_dir_ != nullptr) ::closedir(fd_dir_);
}

ProcessStats SelfStats::read() {
  ProcessStats out;
  if (stat_.read(buffer_, 4096)) {
    std::string_view text(buffer_);
    const size_t close = text.rfind(')');
    if (close != std::string_view::npos) {
      text.remove_prefix(close + 2);
      std::vector<std::string_view> f;  // f[k - 3] is field k of proc(5)
      while (!text.empty()) {
        const size_t sp = std::min(text.find(' '), text.size());
        f.push_back(text.substr(0, sp));
        text.remove_prefix(std::min(sp + 1, text.size()));
      }
      if (f.size() > 21) {
        out.cpu_s = (number(f[11]) + number(f[12])) / ticks_per_s_;
        out.threads = number(f[17]);
        out.start_time_s = boot_time_s_ + number(f[19]) / ticks_per_s_;
        out.virtual_b = number(f[20]);
        out.resident_b = number(f[21]) * page_b_;
      }
    }
  }
  if (fd_dir_ == nullptr) {
    fd_dir_ = ::opendir((proc_root_ / "self/fd").c_str());
  } else {
    ::rewinddir(fd_dir_);  // the next readdir lists the descriptors open now
  }
  if (fd_dir_ != nullptr) {
    while (dirent* e = ::readdir(fd_dir_)) {
      if (e->d_name[0] != '.') out.open_fds += 1;
    }
    out.open_fds -= 1;  // the directory stream itself
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) out.max_fds = static_cast<double>(limit.rlim_cur);
  return out;
}

}  // namespace carbonclock

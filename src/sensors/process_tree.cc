#include "sensors/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <string_view>
#include <unordered_map>

namespace carbonclock {
namespace {

// Reads a small /proc file into buf with one read(); returns bytes read or -1.
ssize_t read_small(const std::string& path, char* buf, size_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = ::read(fd, buf, size - 1);
  ::close(fd);
  if (n >= 0) buf[n] = '\0';
  return n;
}

bool parse_stat(std::string_view text, ProcessStat& out) {
  // Format: pid (comm) state ppid ... field 14 utime, 15 stime. comm may contain spaces and
  // parentheses, so fields are counted from the last ')'.
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return false;
  std::string_view rest = text.substr(close + 2);
  long long fields[13] = {};
  int field = 3;  // rest starts at field 3 (state)
  size_t pos = 0;
  while (field <= 15 && pos < rest.size()) {
    size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    if (field >= 4) {
      long long v = 0;
      std::from_chars(rest.data() + pos, rest.data() + end, v);
      fields[field - 4] = v;
    }
    pos = end + 1;
    ++field;
  }
  if (field <= 15) return false;
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  out.ppid = static_cast<pid_t>(fields[0]);
  out.cpu_s = static_cast<double>(fields[14 - 4] + fields[15 - 4]) / ticks;
  return true;
}

}  // namespace

std::vector<ProcessStat> process_tree(pid_t root, const std::filesystem::path& proc_root) {
  std::unordered_map<pid_t, ProcessStat> all;
  DIR* dir = ::opendir(proc_root.c_str());
  if (dir == nullptr) return {};
  char buf[1024];
  const std::string base = proc_root.string() + "/";
  while (dirent* e = ::readdir(dir)) {
    pid_t pid = 0;
    auto [p, ec] = std::from_chars(e->d_name, e->d_name + std::strlen(e->d_name), pid);
    if (ec != std::errc() || *p != '\0') continue;
    if (read_small(base + e->d_name + "/stat", buf, sizeof buf) <= 0) continue;
    ProcessStat st;
    st.pid = pid;
    if (!parse_stat(buf, st)) continue;
    all.emplace(pid, st);
  }
  ::closedir(dir);
  if (!all.contains(root)) return {};

  std::unordered_map<pid_t, std::vector<pid_t>> children;
  for (const auto& [pid, st] : all) children[st.ppid].push_back(pid);
  std::vector<ProcessStat> out;
  std::vector<pid_t> stack{root};
  static const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  while (!stack.empty()) {
    pid_t pid = stack.back();
    stack.pop_back();
    ProcessStat st = all[pid];
    if (read_small(base + std::to_string(pid) + "/statm", buf, sizeof buf) > 0) {
      std::string_view s(buf);
      auto sp = s.find(' ');
      if (sp != std::string_view::npos) {
        long long pages = 0;
        std::from_chars(buf + sp + 1, buf + s.size(), pages);
        st.resident_b = static_cast<double>(pages) * page;
      }
    }
    out.push_back(st);
    if (auto it = children.find(pid); it != children.end()) {
      stack.insert(stack.end(), it->second.begin(), it->second.end());
    }
  }
  return out;
}

std::vector<pid_t> process_tree_pids(pid_t root, const std::filesystem::path& proc_root) {
  std::vector<pid_t> pids;
  for (const auto& st : process_tree(root, proc_root)) pids.push_back(st.pid);
  return pids;
}

}  // namespace carbonclock

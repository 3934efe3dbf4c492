#include "sensors/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <span>
#include <string_view>

#include "common/files.h"

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

// Reads a whole file into `out` (a children file can be long); false when it cannot be opened.
// A /proc seq file fills each read as far as it can, so a short read is its end: one read
// for the usual small file.
bool read_all(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char chunk[4096];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(chunk, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof chunk) break;
  }
  ::close(fd);
  return true;
}

bool parse_pid(std::string_view text, pid_t& pid) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  return ec == std::errc() && p == text.data() + text.size() && pid > 0;
}

// Appends the pids in a children file ("12 34 56 ").
void parse_pid_list(std::string_view text, std::vector<pid_t>& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    pid_t pid = 0;
    if (parse_pid(text.substr(pos, end - pos), pid)) out.push_back(pid);
    pos = end + 1;
  }
}

bool parse_stat(std::string_view text, ProcessStat& out) {
  // Format: pid (comm) state ppid ... 14 utime, 15 stime, 16 cutime, 17 cstime,
  // 20 num_threads, 22 starttime. comm may hold spaces and parentheses, so fields are
  // counted from the last ')'.
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
      close + 2 >= text.size()) {
    return false;
  }
  out.name.assign(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 2);
  out.state = rest[0];
  long long fields[23] = {};
  int field = 3;  // rest starts at field 3 (state)
  size_t pos = 0;
  while (field <= 22 && pos < rest.size()) {
    size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    if (field >= 4) std::from_chars(rest.data() + pos, rest.data() + end, fields[field]);
    pos = end + 1;
    ++field;
  }
  if (field <= 22) return false;
  static const auto kTickS = 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  out.ppid = static_cast<pid_t>(fields[4]);
  out.cpu_s = static_cast<double>(fields[14] + fields[15]) * kTickS;
  out.children_cpu_s = static_cast<double>(fields[16] + fields[17]) * kTickS;
  out.threads = static_cast<int>(std::max(1LL, fields[20]));
  out.start_ticks = static_cast<uint64_t>(fields[22]);
  return true;
}

std::string pid_dir(const std::string& proc, pid_t pid) { return proc + "/" + std::to_string(pid); }

// Reads stat (and statm when `memory`) under an already built /proc/PID directory. Resident
// memory comes from statm, not stat's rss field: recent kernels give stat an approximate
// per-CPU count that reads 0 for a small new process.
bool read_process_at(const std::string& dir, pid_t pid, bool memory, ProcessStat& st) {
  char buf[1024];
  if (read_small(dir + "/stat", buf, sizeof buf) <= 0) return false;
  st.pid = pid;
  if (!parse_stat(buf, st)) return false;
  st.resident_b = 0;
  if (memory && st.state != 'Z' && read_small(dir + "/statm", buf, sizeof buf) > 0) {
    std::string_view s(buf);
    auto sp = s.find(' ');
    if (sp != std::string_view::npos) {
      long long pages = 0;
      std::from_chars(buf + sp + 1, buf + s.size(), pages);
      static const auto kPageB = static_cast<double>(::sysconf(_SC_PAGESIZE));
      st.resident_b = static_cast<double>(pages) * kPageB;
    }
  }
  return true;
}

// Appends the children of every thread of the process in `dir`. A single-threaded process
// has one children file, read without listing its task directory.
void append_children(const std::string& dir, pid_t pid, int threads, std::string& buf,
                     std::vector<pid_t>& out) {
  const std::string task = dir + "/task";
  if (threads <= 1) {
    if (read_all(task + "/" + std::to_string(pid) + "/children", buf)) parse_pid_list(buf, out);
    return;
  }
  DIR* d = ::opendir(task.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    pid_t tid = 0;
    if (!parse_pid(e->d_name, tid)) continue;
    if (read_all(task + "/" + e->d_name + "/children", buf)) parse_pid_list(buf, out);
  }
  ::closedir(d);
}

// Whether the kernel has children files, probed on `pid`; true when `pid` is gone (nothing
// can be learnt from it, and the walk finds nothing either way).
bool has_children_files(const std::string& proc, pid_t pid) {
  const std::string task = pid_dir(proc, pid) + "/task/" + std::to_string(pid);
  if (::access(task.c_str(), F_OK) != 0) return true;
  return ::access((task + "/children").c_str(), F_OK) == 0;
}

// Every process in `proc`, by pid.
std::unordered_map<pid_t, ProcessStat> scan_all(const std::string& proc) {
  std::unordered_map<pid_t, ProcessStat> all;
  DIR* dir = ::opendir(proc.c_str());
  if (dir == nullptr) return all;
  while (dirent* e = ::readdir(dir)) {
    pid_t pid = 0;
    if (!parse_pid(e->d_name, pid)) continue;
    ProcessStat st;
    if (read_process_at(proc + "/" + e->d_name, pid, false, st)) all.emplace(pid, std::move(st));
  }
  ::closedir(dir);
  return all;
}

// A walk's starting point; `start_ticks` (when not 0) must match, so that a followed
// process's pid reused by another process is not taken for it.
struct Root {
  pid_t pid;
  uint64_t start_ticks;
};

// Reads the processes reachable from `roots` through children files into `out`, each parent
// before its children (a child reaped during the walk is then missed, never counted twice).
void walk_children(const std::string& proc, std::span<const Root> roots,
                   std::unordered_map<pid_t, ProcessStat>& out) {
  std::vector<pid_t> stack;
  std::string buf;
  for (const Root& root : roots) {
    if (out.contains(root.pid)) continue;
    stack.assign(1, root.pid);
    bool first = true;
    while (!stack.empty()) {
      pid_t pid = stack.back();
      stack.pop_back();
      if (out.contains(pid)) continue;
      const std::string dir = pid_dir(proc, pid);
      ProcessStat st;
      if (!read_process_at(dir, pid, true, st)) continue;
      if (first && root.start_ticks != 0 && st.start_ticks != root.start_ticks) break;
      first = false;
      append_children(dir, pid, st.threads, buf, stack);
      out.emplace(pid, std::move(st));
    }
  }
}

// The same from a scan of every process.
void walk_scan(const std::string& proc, std::span<const Root> roots,
               const std::unordered_map<pid_t, ProcessStat>& all,
               std::unordered_map<pid_t, ProcessStat>& out) {
  std::unordered_map<pid_t, std::vector<pid_t>> children;
  for (const auto& [pid, st] : all) children[st.ppid].push_back(pid);
  std::vector<pid_t> stack;
  for (const Root& root : roots) {
    auto it = all.find(root.pid);
    if (out.contains(root.pid) || it == all.end()) continue;
    if (root.start_ticks != 0 && it->second.start_ticks != root.start_ticks) continue;
    stack.assign(1, root.pid);
    while (!stack.empty()) {
      pid_t pid = stack.back();
      stack.pop_back();
      auto found = all.find(pid);
      if (found == all.end() || out.contains(pid)) continue;
      ProcessStat st = found->second;
      read_process_at(pid_dir(proc, pid), pid, true, st);  // for its memory
      out.emplace(pid, std::move(st));
      if (auto c = children.find(pid); c != children.end()) {
        stack.insert(stack.end(), c->second.begin(), c->second.end());
      }
    }
  }
}

// Children of `self` that belong to jobs: all but `helpers`.
void append_adopted(const std::vector<pid_t>& children, const std::vector<pid_t>& helpers,
                    pid_t except, std::vector<Root>& roots) {
  for (pid_t c : children) {
    if (c != except && std::find(helpers.begin(), helpers.end(), c) == helpers.end()) {
      roots.push_back({c, 0});
    }
  }
}

std::vector<pid_t> children_by_scan(const std::string& proc, pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& [pid, st] : scan_all(proc)) {
    if (st.ppid == parent) out.push_back(pid);
  }
  return out;
}

std::vector<pid_t> children_of(const std::string& proc, pid_t parent) {
  auto kids = process_children(parent, proc);
  return kids ? std::move(*kids) : children_by_scan(proc, parent);
}

std::vector<ProcessStat> to_vector(std::unordered_map<pid_t, ProcessStat>& tree) {
  std::vector<ProcessStat> out;
  out.reserve(tree.size());
  for (auto& [pid, st] : tree) out.push_back(std::move(st));
  return out;
}

struct Adoption {
  std::mutex mu;
  std::optional<std::vector<pid_t>> helpers;  // set while adopting
};

Adoption& adoption() {
  static Adoption a;
  return a;
}

}  // namespace

std::optional<ProcessStat> read_process(pid_t pid, const std::filesystem::path& proc_root) {
  ProcessStat st;
  if (!read_process_at(pid_dir(proc_root.string(), pid), pid, true, st)) return std::nullopt;
  return st;
}

std::optional<std::vector<pid_t>> process_children(pid_t pid,
                                                   const std::filesystem::path& proc_root) {
  const std::string proc = proc_root.string();
  if (!has_children_files(proc, pid)) return std::nullopt;
  std::vector<pid_t> out;
  std::string buf;
  // The thread count decides whether the task directory must be listed; 2 forces listing
  // when stat is unreadable.
  auto st = read_process(pid, proc_root);
  append_children(pid_dir(proc, pid), pid, st ? st->threads : 2, buf, out);
  return out;
}

std::vector<ProcessStat> process_tree(pid_t root, const std::filesystem::path& proc_root) {
  const std::string proc = proc_root.string();
  std::vector<Root> roots{{root, 0}};
  // Orphans adopted by this process belong to its jobs (only meaningful on the real /proc).
  std::optional<std::vector<pid_t>> helpers =
      proc_root == "/proc" ? adoption_helpers() : std::nullopt;
  std::unordered_map<pid_t, ProcessStat> out;
  if (has_children_files(proc, root)) {
    if (helpers) append_adopted(children_of(proc, ::getpid()), *helpers, root, roots);
    walk_children(proc, roots, out);
  } else {
    auto all = scan_all(proc);
    if (helpers) {
      for (const auto& [pid, st] : all) {
        if (st.ppid == ::getpid()) append_adopted({pid}, *helpers, root, roots);
      }
    }
    walk_scan(proc, roots, all, out);
  }
  return to_vector(out);
}

std::vector<pid_t> process_tree_pids(pid_t root, const std::filesystem::path& proc_root) {
  std::vector<pid_t> pids;
  for (const auto& st : process_tree(root, proc_root)) pids.push_back(st.pid);
  return pids;
}

std::vector<ProcessStat> process_tree_by_scan(pid_t root, const std::filesystem::path& proc_root) {
  const std::string proc = proc_root.string();
  auto all = scan_all(proc);
  std::unordered_map<pid_t, ProcessStat> out;
  const Root roots[] = {{root, 0}};
  walk_scan(proc, roots, all, out);
  return to_vector(out);
}

// ---- adopting orphans ----

Status adopt_orphans() {
  Adoption& a = adoption();
  std::lock_guard lock(a.mu);
  if (a.helpers) return {};
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) != 0) {
    return make_error(
        "cannot adopt the job's orphaned processes (prctl PR_SET_CHILD_SUBREAPER: {}): a "
        "process the job daemonises is metered only if it is seen before its parent exits",
        errno_text(errno));
  }
  a.helpers = children_of("/proc", ::getpid());
  return {};
}

void stop_adopting_orphans() {
  Adoption& a = adoption();
  std::lock_guard lock(a.mu);
  if (!a.helpers) return;
  ::prctl(PR_SET_CHILD_SUBREAPER, 0L, 0L, 0L, 0L);
  a.helpers.reset();
}

bool adopting_orphans() { return adoption_helpers().has_value(); }

std::optional<std::vector<pid_t>> adoption_helpers() {
  Adoption& a = adoption();
  std::lock_guard lock(a.mu);
  return a.helpers;
}

size_t reap_adopted_orphans(pid_t job) {
  auto helpers = adoption_helpers();
  if (!helpers) return 0;
  size_t reaped = 0;
  for (pid_t c : children_of("/proc", ::getpid())) {
    if (c == job || std::find(helpers->begin(), helpers->end(), c) != helpers->end()) continue;
    int status = 0;
    if (::waitpid(c, &status, WNOHANG) == c) ++reaped;
  }
  return reaped;
}

// ---- following a job over time ----

ProcessTreeSource ProcessTreeSource::this_process(std::filesystem::path proc_root) {
  ProcessTreeSource s;
  s.proc_root = std::move(proc_root);
  s.self = ::getpid();
  s.helpers = adoption_helpers();
  s.reaped_children_cpu_s = [] {
    struct rusage ru {};
    ::getrusage(RUSAGE_CHILDREN, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  };
  return s;
}

ProcessTreeTracker::ProcessTreeTracker(ProcessTreeSource source) : source_(std::move(source)) {
  reaped_base_s_ = reaped_last_s_ = reaped_cpu_s();
}

void ProcessTreeTracker::attach(pid_t root) {
  if (root_ > 0 && root != root_) beyond_root_ = true;
  root_ = root;
}

double ProcessTreeTracker::reaped_cpu_s() const {
  return source_.reaped_children_cpu_s ? source_.reaped_children_cpu_s() : 0.0;
}

void ProcessTreeTracker::walk(std::unordered_map<pid_t, ProcessStat>& out,
                              std::vector<std::string>& warnings) {
  const std::string proc = source_.proc_root.string();
  if (!mode_known_) {
    mode_known_ = true;
    scan_ = source_.scan_all || !has_children_files(proc, source_.self > 0 ? source_.self : root_);
    if (scan_ && !source_.scan_all && !warned_scan_) {
      warned_scan_ = true;
      warnings.emplace_back(
          "this kernel has no /proc/PID/task/TID/children files (CONFIG_PROC_CHILDREN): the "
          "job's processes are found by reading every process on the host at each reading, "
          "which costs more on a busy host");
    }
  }
  // The job's first process, the orphans adopted by self, then every process followed so far
  // (one that left the tree is still the job's).
  std::vector<Root> roots;
  if (root_ > 0) roots.push_back({root_, 0});
  std::unordered_map<pid_t, ProcessStat> all;
  if (scan_) all = scan_all(proc);
  if (source_.helpers && source_.self > 0) {
    std::vector<pid_t> kids;
    if (scan_) {
      for (const auto& [pid, st] : all) {
        if (st.ppid == source_.self) kids.push_back(pid);
      }
    } else {
      kids = children_of(proc, source_.self);
    }
    append_adopted(kids, *source_.helpers, root_, roots);
  }
  for (const auto& [pid, st] : members_) roots.push_back({pid, st.start_ticks});
  if (scan_) {
    walk_scan(proc, roots, all, out);
  } else {
    walk_children(proc, roots, out);
  }
}

TreeReading ProcessTreeTracker::read(std::vector<std::string>& warnings) {
  std::unordered_map<pid_t, ProcessStat> now;
  double reaped = reaped_last_s_;
  // A child reaped by self during the walk would be counted twice (alive in the walk and in
  // the reaped total) or not at all: walk again when the reaped total moved meanwhile.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const double before = reaped_cpu_s();
    now.clear();
    walk(now, warnings);
    reaped = reaped_cpu_s();
    if (reaped == before) break;
  }

  // Exits since the last reading: their last-seen CPU time (own + reaped children) must
  // reach the followed ancestor that reaps them, as children time, or self, as reaped time.
  auto alive_member = [&](pid_t pid) {
    auto old = members_.find(pid);
    auto cur = now.find(pid);
    return old != members_.end() && cur != now.end() &&
           cur->second.start_ticks == old->second.start_ticks;
  };
  double arrived = reaped - reaped_last_s_;
  double departed = 0;
  for (const auto& [pid, old] : members_) {
    if (alive_member(pid)) {
      arrived += std::max(0.0, now.at(pid).children_cpu_s - old.children_cpu_s);
      continue;
    }
    // The nearest ancestor that is still followed (or self) receives it; an ancestor that
    // exited too passes it on with its own time.
    pid_t sink = old.ppid;
    for (size_t hops = 0; hops <= members_.size(); ++hops) {
      if (sink == source_.self || alive_member(sink) || !members_.contains(sink)) break;
      sink = members_.at(sink).ppid;
    }
    const double last_s = old.cpu_s + old.children_cpu_s;
    if (sink == source_.self || alive_member(sink)) {
      departed += last_s;
    } else {
      lost_s_ += last_s;  // reaped outside the tree (e.g. by init): only what was seen counts
      beyond_root_ = true;
    }
  }
  // What departed at the last reading and has still not arrived was not accounted by its
  // parent (it ignores SIGCHLD): keep the time that was seen. (Sums of clock ticks in
  // doubles: a shortfall below a nanosecond is rounding, not a loss.)
  const double paid = std::min(pending_s_, arrived);
  if (pending_s_ - paid > 1e-9) {
    lost_s_ += pending_s_ - paid;
    beyond_root_ = true;
  }
  arrived -= paid;
  pending_s_ = departed - std::min(departed, arrived);

  TreeReading r;
  double live_s = 0;
  for (const auto& [pid, st] : now) {
    live_s += st.cpu_s + st.children_cpu_s;
    r.resident_b += st.resident_b;
    if (st.state != 'Z') ++r.processes;
    const bool parent_followed = st.ppid == source_.self || now.contains(st.ppid);
    if (pid != root_ && (st.ppid == source_.self || !parent_followed)) beyond_root_ = true;
    if (!warned_left_ && pid != root_ && !parent_followed) {
      warned_left_ = true;
      warnings.emplace_back(fmt::format(
          "process {} ({}) left the job's process tree (re-parented to pid {}); carbonclock "
          "keeps metering it, but {}",
          pid, st.name, st.ppid,
          source_.helpers ? "a process re-parented outside carbonclock may be missed"
                          : "processes that leave the tree between two readings are missed "
                            "(carbonclock does not adopt orphans here)"));
    }
  }
  reported_s_ = std::max(reported_s_, live_s + (reaped - reaped_base_s_) + lost_s_ + pending_s_);
  r.cpu_s = reported_s_;
  reaped_last_s_ = reaped;
  members_ = std::move(now);
  return r;
}

std::vector<ProcessStat> ProcessTreeTracker::survivors() const {
  std::vector<ProcessStat> out;
  for (const auto& [pid, st] : members_) {
    if (pid != root_ && st.state != 'Z') out.push_back(st);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return out;
}

}  // namespace carbonclock

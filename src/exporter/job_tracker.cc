#include "exporter/job_tracker.h"

#include <dirent.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "common/files.h"
#include "exporter/proc_files.h"

namespace carbonclock {
namespace {

// The numbers after the ')' that ends the comm field of /proc/PID/stat: field k (1-based, as
// in proc(5)) is fields[k - 3].
std::vector<std::string_view> stat_fields(std::string_view text) {
  std::vector<std::string_view> out;
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) return out;
  text.remove_prefix(close + 1);
  while (!text.empty()) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.remove_prefix(1);
    const size_t end = std::min(text.find(' '), text.size());
    if (end > 0) out.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return out;
}

double to_double(std::string_view s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

uint64_t to_u64(std::string_view s) {
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// usage_usec from a cgroup v2 cpu.stat, seconds.
std::optional<double> cgroup_usage_s(std::string_view text) {
  const size_t at = text.find("usage_usec ");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + 11);
  return static_cast<double>(to_u64(rest.substr(0, rest.find('\n')))) * 1e-6;
}

}  // namespace

JobTracker::JobTracker(JobTrackerOptions options)
    : options_(std::move(options)),
      proc_stat_(options_.proc_root / "stat"),
      uptime_(options_.proc_root / "uptime"),
      ticks_per_s_(clock_ticks_per_s()) {}

bool JobTracker::read(const std::filesystem::path& path, size_t max_bytes) {
  return read_small_file(path, buffer_, max_bytes);
}

JobTracker::Proc JobTracker::identify(pid_t pid, MonoTime now) {
  Proc p;
  p.identified_at = now;
  const auto dir = options_.proc_root / std::to_string(pid);
  std::string v2_dir;
  if (read(dir / "cgroup", 64 * 1024)) {
    if (auto cg = job_from_cgroup(buffer_)) {
      p.job = std::move(cg->key);
      v2_dir = std::move(cg->v2_dir);
    }
  }
  // Environments can be large; the variables sought are usually near the start.
  if (!p.job && read(dir / "environ", 256 * 1024)) p.job = job_from_environ(buffer_);
  if (p.job && !jobs_.contains(*p.job)) {
    Job job;
    if (!v2_dir.empty()) {
      auto cpu_stat = options_.cgroup_root / v2_dir / "cpu.stat";
      if (read(cpu_stat, 4096) && cgroup_usage_s(buffer_)) job.cpu_stat = std::move(cpu_stat);
    }
    jobs_.emplace(*p.job, std::move(job));
  }
  return p;
}

JobTracker::Read JobTracker::count_cpu(pid_t pid, Proc& p, Job& job, bool first) {
  if (!read(options_.proc_root / std::to_string(pid) / "stat", 4096)) return Read::kGone;
  const auto f = stat_fields(buffer_);
  if (f.size() < 20) return Read::kGone;
  // utime, stime, cutime, cstime (fields 14..17) and starttime (22), in ticks.
  const double cpu_s =
      static_cast<double>(to_u64(f[11]) + to_u64(f[12]) + to_u64(f[13]) + to_u64(f[14])) /
      ticks_per_s_;
  const uint64_t start_ticks = to_u64(f[19]);
  if (p.counted && start_ticks != p.start_ticks) return Read::kReused;
  if (!p.counted) {
    const double start_s = static_cast<double>(start_ticks) / ticks_per_s_;
    // Started since the previous scan: all its CPU time is new. Otherwise a baseline.
    const bool new_since_last = !first && last_uptime_s_ >= 0 && start_s > last_uptime_s_;
    p.last_cpu_s = new_since_last ? 0 : cpu_s;
    p.start_ticks = start_ticks;
    p.counted = true;
  }
  job.cpu_s += std::max(0.0, cpu_s - p.last_cpu_s);
  p.last_cpu_s = cpu_s;
  return Read::kCounted;
}

Status JobTracker::rescan(MonoTime now, uint64_t scan_id, bool first, JobScan& out) {
  DIR* dir = ::opendir(options_.proc_root.c_str());
  if (dir == nullptr) {
    return make_error(ErrorCode::kIo, "{}: cannot list: {}", options_.proc_root.string(),
                      errno_text(errno));
  }
  while (dirent* e = ::readdir(dir)) {
    pid_t pid = 0;
    const char* name = e->d_name;
    auto [end, ec] = std::from_chars(name, name + std::strlen(name), pid);
    if (ec != std::errc() || *end != '\0' || pid <= 0) continue;
    ++out.processes;
    auto it = procs_.find(pid);
    if (it == procs_.end()) {
      it = procs_.emplace(pid, identify(pid, now)).first;
    } else if (it->second.ino != 0 && it->second.ino != e->d_ino) {
      it->second = identify(pid, now);  // the pid was freed and taken since the last rescan
    } else if (!it->second.job && !it->second.rechecked &&
               now - it->second.identified_at >= options_.recheck_unassigned) {
      it->second = identify(pid, now);
      it->second.rechecked = true;
    }
    Proc& p = it->second;
    p.ino = e->d_ino;
    p.seen = scan_id;
    if (!p.job) continue;
    Job& job = jobs_[*p.job];
    job.seen = scan_id;
    if (!job.cpu_stat.empty()) continue;  // the cgroup counts it
    if (count_cpu(pid, p, job, first) == Read::kReused) {
      // The pid was freed and taken by another process since the previous scan.
      p = identify(pid, now);
      p.ino = e->d_ino;
      p.seen = scan_id;
      if (!p.job) continue;
      Job& other = jobs_[*p.job];
      other.seen = scan_id;
      if (other.cpu_stat.empty()) count_cpu(pid, p, other, first);
    }
  }
  ::closedir(dir);
  std::erase_if(procs_, [&](const auto& entry) { return entry.second.seen != scan_id; });
  return {};
}

void JobTracker::refresh(uint64_t scan_id) {
  for (auto it = procs_.begin(); it != procs_.end();) {
    Proc& p = it->second;
    if (!p.job) {
      ++it;
      continue;
    }
    auto job = jobs_.find(*p.job);
    if (job == jobs_.end()) {  // its job ended (a cgroup that went): found again by a rescan
      it = procs_.erase(it);
      continue;
    }
    // A cgroup job is live while its cpu.stat reads (checked with the jobs).
    if (job->second.cpu_stat.empty() &&
        count_cpu(it->first, p, job->second, false) != Read::kCounted) {
      // Exited, or its pid reused by a process the next rescan identifies.
      it = procs_.erase(it);
      continue;
    }
    job->second.seen = scan_id;
    ++it;
  }
  for (auto& [key, job] : jobs_) {
    if (!job.cpu_stat.empty()) job.seen = scan_id;
  }
}

Result<JobScan> JobTracker::scan(MonoTime now) {
  if (!proc_stat_.read(buffer_, 1 << 20)) {
    return make_error(ErrorCode::kIo, "{}: cannot read: {}", proc_stat_.path().string(),
                      errno_text(errno));
  }
  const auto ticks = node_busy_ticks(buffer_);
  if (!ticks) {
    return make_error("{}: no 'cpu' line with 7 or more counters",
                      (options_.proc_root / "stat").string());
  }
  const double busy_s = static_cast<double>(*ticks) / ticks_per_s_;
  double uptime_s = -1;
  if (uptime_.read(buffer_, 256)) uptime_s = to_double(buffer_);

  const bool first = scans_ == 0;
  const bool rescanning =
      first || options_.rescan <= Nanos::zero() || now - last_rescan_ >= options_.rescan;
  JobScan out;
  out.rescanned = rescanning;
  for (auto& [key, job] : jobs_) job.cpu_s = 0;
  const uint64_t scan_id = scans_ + 1;
  if (rescanning) {
    if (Status listed = rescan(now, scan_id, first, out); !listed) {
      // Nothing else changes: the next scan counts from the previous one.
      for (auto& [key, job] : jobs_) job.cpu_s = 0;
      return listed.error();
    }
    last_rescan_ = now;
  } else {
    refresh(scan_id);
    out.processes = procs_.size();
  }
  scans_ = scan_id;
  out.node_busy_cpu_s = first ? 0 : std::max(0.0, busy_s - last_busy_s_);

  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Job& job = it->second;
    bool live = job.seen == scan_id;
    if (live && !job.cpu_stat.empty()) {
      if (read(job.cpu_stat, 4096)) {
        if (auto usage = cgroup_usage_s(buffer_)) {
          if (job.last_cgroup_cpu_s >= 0) {
            job.cpu_s = std::max(0.0, *usage - job.last_cgroup_cpu_s);
          }
          job.last_cgroup_cpu_s = *usage;
        }
      } else if (!rescanning) {
        live = false;  // its cgroup is gone: the job has ended
      }
    }
    if (!live) {
      it = jobs_.erase(it);
      continue;
    }
    out.jobs.emplace_back(it->first, first ? 0.0 : job.cpu_s);
    ++it;
  }
  last_busy_s_ = busy_s;
  last_uptime_s_ = uptime_s;
  return out;
}

std::optional<JobKey> JobTracker::job_of(pid_t pid) {
  auto it = procs_.find(pid);
  if (it == procs_.end()) {
    // Started since the last scan: identified now, counted from its start at the next scan.
    it = procs_.emplace(pid, identify(pid, MonoTime{})).first;
    it->second.seen = scans_;
  }
  return it->second.job;
}

}  // namespace carbonclock

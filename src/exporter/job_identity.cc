#include "exporter/job_identity.h"

#include <algorithm>
#include <vector>

namespace carbonclock {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

bool all_of(std::string_view s, bool (*ok)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), ok);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_uid_char(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || c == '-' || c == '_'; }
bool is_label_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
         c == '-';
}

// A pod UID as Kubernetes writes it: 36 characters of hex and dashes (underscores in systemd
// slice names, turned back into dashes).
std::optional<std::string> pod_uid(std::string_view text) {
  if (text.size() != 36 || !all_of(text, is_uid_char)) return std::nullopt;
  std::string uid(text);
  std::replace(uid.begin(), uid.end(), '_', '-');
  return uid;
}

// The job in one cgroup path ("/system.slice/slurmstepd.scope/job_12345/step_0/user/task_0").
// `dir` receives the path up to and including the job's segment, without the leading '/'.
std::optional<JobKey> job_in_path(std::string_view path, std::string& dir) {
  const auto segments = split(path, '/');
  bool under_slurm = false;
  std::string prefix;
  for (std::string_view seg : segments) {
    if (seg.empty()) continue;
    prefix += (prefix.empty() ? "" : "/") + std::string(seg);
    if (seg.find("slurm") != std::string_view::npos) under_slurm = true;
    if (under_slurm && seg.starts_with("job_") && all_of(seg.substr(4), is_digit) &&
        seg.size() <= 4 + 20) {
      dir = prefix;
      return JobKey{Scheduler::kSlurm, std::string(seg.substr(4))};
    }
    // cgroupfs driver: /kubepods/burstable/pod<UID>/<container>
    if (seg.starts_with("pod")) {
      if (auto uid = pod_uid(seg.substr(3))) {
        dir = prefix;
        return JobKey{Scheduler::kKubernetes, *uid};
      }
    }
    // systemd driver: kubepods-burstable-pod<UID_WITH_UNDERSCORES>.slice
    if (seg.starts_with("kubepods") && seg.ends_with(".slice")) {
      const size_t pod = seg.rfind("-pod");
      if (pod != std::string_view::npos) {
        std::string_view rest = seg.substr(pod + 4);
        rest.remove_suffix(std::string_view(".slice").size());
        if (auto uid = pod_uid(rest)) {
          dir = prefix;
          return JobKey{Scheduler::kKubernetes, *uid};
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(Scheduler scheduler) {
  switch (scheduler) {
    case Scheduler::kSlurm:
      return "slurm";
    case Scheduler::kKubernetes:
      return "kubernetes";
    case Scheduler::kCarbonclock:
      return "carbonclock";
    case Scheduler::kOverflow:
      return "overflow";
  }
  return "?";
}

std::optional<CgroupJob> job_from_cgroup(std::string_view cgroup_file) {
  std::optional<CgroupJob> v1_job;
  for (std::string_view line : split(cgroup_file, '\n')) {
    // ID:CONTROLLERS:PATH; the path may itself contain ':'.
    const size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    const size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const bool unified = line.substr(0, first) == "0" && second == first + 1;
    std::string dir;
    auto key = job_in_path(line.substr(second + 1), dir);
    if (!key) continue;
    if (unified) return CgroupJob{std::move(*key), std::move(dir)};
    if (!v1_job) v1_job = CgroupJob{std::move(*key), ""};
  }
  return v1_job;
}

std::optional<JobKey> job_from_environ(std::string_view environ) {
  std::optional<JobKey> run;
  for (std::string_view entry : split(environ, '\0')) {
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = entry.substr(0, eq), value = entry.substr(eq + 1);
    if (value.size() > 64 || !all_of(value, is_label_char)) continue;
    if (name == "SLURM_JOB_ID") return JobKey{Scheduler::kSlurm, std::string(value)};
    if (name == "CARBONCLOCK_RUN_ID") run = JobKey{Scheduler::kCarbonclock, std::string(value)};
  }
  return run;
}

}  // namespace carbonclock

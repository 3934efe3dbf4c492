#include "exporter/attribution.h"

#include <algorithm>
#include <map>

namespace carbonclock {

JobShares gpu_shares(const std::vector<GpuProcess>& processes,
                     const std::function<std::optional<JobKey>(pid_t)>& job_of) {
  const bool by_utilisation = std::any_of(processes.begin(), processes.end(), [](const auto& p) {
    return p.sm_util_pct.value_or(0) > 0;
  });
  double total = 0;
  std::map<JobKey, double> weights;
  for (const GpuProcess& p : processes) {
    const double w = by_utilisation ? std::max(0.0, p.sm_util_pct.value_or(0)) : 1.0;
    total += w;
    if (auto job = job_of(p.pid)) weights[*job] += w;
  }
  JobShares out;
  if (total <= 0) return out;
  for (auto& [job, w] : weights) {
    if (w > 0) out.emplace_back(job, w / total);
  }
  return out;
}

JobShares cpu_shares(const JobScan& scan) {
  double jobs_s = 0;
  for (const auto& [job, s] : scan.jobs) jobs_s += s;
  const double total = std::max(scan.node_busy_cpu_s, jobs_s);
  JobShares out;
  if (total <= 0) return out;
  for (const auto& [job, s] : scan.jobs) {
    if (s > 0) out.emplace_back(job, s / total);
  }
  return out;
}

}  // namespace carbonclock

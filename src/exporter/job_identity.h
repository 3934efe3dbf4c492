// Which job a process belongs to, read from what the kernel says about it: its cgroup (Slurm
// jobs, Kubernetes pods; set by the scheduler, so a user cannot forge it) and, for processes
// outside both, its environment (SLURM_JOB_ID of a job without cgroup confinement, and the
// CARBONCLOCK_RUN_ID that `carbonclock run` gives its job; a user can set these, so they are
// attribution hints, not proof).
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace carbonclock {

enum class Scheduler {
  kSlurm,        ///< a Slurm job id ("12345")
  kKubernetes,   ///< a Kubernetes pod UID ("0f2b2c3e-1c4d-4b7e-9a51-6a0f3d2c1b00")
  kCarbonclock,  ///< a `carbonclock run` run id ("20261127T235901Z-1a2b3c")
  kOverflow,     ///< jobs beyond the exporter's --max-jobs, counted together
};

/// "slurm" | "kubernetes" | "carbonclock" | "overflow".
const char* to_string(Scheduler scheduler);

struct JobKey {
  Scheduler scheduler = Scheduler::kSlurm;
  std::string id;
  auto operator<=>(const JobKey&) const = default;
};

/// A job found in a cgroup file, and the job's own cgroup directory under the unified (v2)
/// hierarchy ("system.slice/slurmstepd.scope/job_12345"), where its cpu.stat counts the CPU
/// time of all its processes, exited ones included; empty when the job is found only in a v1
/// controller's path.
struct CgroupJob {
  JobKey key;
  std::string v2_dir;
};

/// Reads /proc/PID/cgroup text (one "ID:CONTROLLERS:PATH" line per hierarchy). Slurm:
/// a "job_<digits>" path segment under a segment naming slurm ("slurm", "slurmstepd.scope");
/// Kubernetes: a "pod<UID>" segment (cgroupfs driver) or "kubepods-...-pod<UID>.slice" with
/// the UID's dashes written as underscores (systemd driver). nullopt for anything else.
std::optional<CgroupJob> job_from_cgroup(std::string_view cgroup_file);

/// Reads /proc/PID/environ bytes (NUL-separated NAME=VALUE): SLURM_JOB_ID, else
/// CARBONCLOCK_RUN_ID. Values that are not 1..64 characters of [A-Za-z0-9._-] are ignored (they
/// become Prometheus label values).
std::optional<JobKey> job_from_environ(std::string_view environ);

}  // namespace carbonclock

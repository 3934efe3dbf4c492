// The attribution model: how a device's measured energy is split among the jobs on the node.
// It is a model, not a measurement (docs/exporter.md):
//   GPU:       by the job's processes on the GPU (NVML's running compute processes), weighted
//              by each process's SM utilisation where the driver reports any above zero for the
//              GPU, else equally per process. A GPU with no process keeps its energy
//              unattributed (it stays in the node and device counters).
//   CPU, DRAM: by CPU time: a job's CPU seconds over the seconds all CPUs spent busy (as
//              Kepler does); what other processes and the kernel used stays unattributed.
#pragma once

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "exporter/job_identity.h"
#include "exporter/job_tracker.h"
#include "sensors/gpu_processes.h"

namespace carbonclock {

/// A job and its share (0..1) of a device's energy; shares sum to at most 1.
using JobShares = std::vector<std::pair<JobKey, double>>;

/// A GPU's shares (see above); processes for which `job_of` has no job keep their share
/// unattributed.
JobShares gpu_shares(const std::vector<GpuProcess>& processes,
                     const std::function<std::optional<JobKey>(pid_t)>& job_of);

/// CPU and DRAM shares from one scan: each job's CPU seconds over the node's busy seconds, or
/// over the jobs' sum when that is larger (the scan reads /proc/stat and the processes at
/// slightly different moments).
JobShares cpu_shares(const JobScan& scan);

}  // namespace carbonclock

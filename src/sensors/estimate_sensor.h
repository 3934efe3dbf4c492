// A labelled estimate where no counter exists (cloud VMs, RAPL unreadable): CPU energy from
// the job's process-tree CPU time, DRAM energy from its resident memory.
#pragma once

#include <filesystem>
#include <memory>

#include "sensors/sensor.h"

namespace carbonclock {

struct EstimateModel {
  /// Watts drawn per fully busy core. Default 10 W: a typical cloud server CPU's TDP divided
  /// by its cores (e.g. Xeon Platinum 8375C, 300 W / 32 cores = 9.4 W; EPYC 7R13, 280 W /
  /// 48 cores = 5.8 W; Xeon E5-2686 v4, 145 W / 18 cores = 8.1 W), rounded up because TDP
  /// excludes turbo. Overridable with --cpu-watts-per-core.
  double cpu_w_per_core = 10.0;
  /// Watts per GB of resident memory. Default 0.375 W/GB (3 W per 8 GB DIMM), the figure
  /// CodeCarbon uses. Overridable with --dram-watts-per-gb.
  double dram_w_per_gb = 0.375;
  /// The job ran before the sensor's first read() (the Python API metering its own process):
  /// count only the CPU time it uses from the first read() on; it is not reaped, so its tracked
  /// total stands at the end and it is not reported as a survivor. Needs attach_job() before
  /// the first read().
  bool job_already_running = false;
  bool estimate_cpu = true;
  bool estimate_dram = true;
  std::filesystem::path proc_root = "/proc";
  /// The job's processes are read at most this often. A reading costs a few microseconds
  /// per process and thread of the job (bench/meter_bench), whatever else runs on the host.
  Nanos min_scan_interval = std::chrono::seconds(1);
  /// Find the job's processes by reading every process on the host, as carbonclock did
  /// before it followed children files: only for the benchmark's baseline.
  bool scan_all_processes = false;
};

/// The estimate sensor. Devices "cpu-estimate" and/or "dram-estimate", method kEstimate.
/// It follows the job's whole process tree (ProcessTreeTracker), including processes that
/// leave it, and the orphans this process adopts: create it after adopt_orphans().
std::unique_ptr<Sensor> make_estimate_sensor(const EstimateModel& model);

}  // namespace carbonclock

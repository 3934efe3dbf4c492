// Distributed runs (the multi-node layout shared by `carbonclock run` under srun/torchrun and
// the Python API, issues 13 and 11): under Slurm or torchrun every task of a job writes into
// OUT/<job id>/<node>/;
// one task per node, elected by an exclusive lock, meters the node's devices and writes
// run.json + journal.jsonl; every task writes tasks/<global rank>.json with its windows.
//
//   OUT/<job id>/<node>/run.json, journal.jsonl     the node's meter only
//   OUT/<job id>/<node>/.meter.lock                 flock(LOCK_EX|LOCK_NB), held for the run
//   OUT/<job id>/<node>/tasks/<global rank>.json     every task, the meter too
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "config/config.h"

namespace carbonclock {

/// Where a task stands in a distributed job.
struct DistributedContext {
  bool active = false;   ///< false: not distributed (the single-run layout)
  std::string launcher;  ///< "slurm" | "torchrun"
  std::string job_id;    ///< SLURM_JOB_ID | TORCHELASTIC_RUN_ID
  std::string node;      ///< SLURMD_NODENAME | this host's name
  int rank = 0;          ///< global rank: SLURM_PROCID | RANK
  int local_rank = 0;    ///< SLURM_LOCALID | LOCAL_RANK
  int world_size = 1;    ///< SLURM_NTASKS | WORLD_SIZE
  int node_rank = 0;     ///< SLURM_NODEID | GROUP_RANK
};

/// Detects a distributed context from the environment, first match wins:
///   Slurm (SLURM_JOB_ID set): job SLURM_JOB_ID, node SLURMD_NODENAME (else the host name), rank
///     SLURM_PROCID, local rank SLURM_LOCALID, world size SLURM_NTASKS; a torchrun started by
///     srun gives each worker its own RANK/LOCAL_RANK/WORLD_SIZE, which then take precedence
///     (every worker of one srun task shares its SLURM_PROCID).
///   torchrun (TORCHELASTIC_RUN_ID set): job TORCHELASTIC_RUN_ID, node the host name, node rank
///     GROUP_RANK, rank RANK, local rank LOCAL_RANK, world size WORLD_SIZE.
/// Otherwise inactive. Job and node names are made safe as one path component each.
DistributedContext detect_distributed(const EnvLookup& env);

/// OUT/<job id>/<node>.
std::filesystem::path node_dir(const std::filesystem::path& out, const DistributedContext& ctx);

/// The node's meter lock, OUT/<job id>/<node>/.meter.lock, held while it lives.
class MeterLock {
 public:
  /// Creates NODE_DIR (and tasks/) and tries flock(LOCK_EX|LOCK_NB) on .meter.lock. Returns
  /// null when another task holds it; an Error when the directory or file cannot be created.
  static Result<std::unique_ptr<MeterLock>> try_acquire(const std::filesystem::path& node_dir);
  ~MeterLock();
  MeterLock(const MeterLock&) = delete;
  MeterLock& operator=(const MeterLock&) = delete;

 private:
  explicit MeterLock(int fd) : fd_(fd) {}
  int fd_;
};

/// A named window of a task (Python `window()`), begin and end in UTC. Energy only when the task
/// is its node's meter (read from the node's counters at the window's begin and end); members
/// record the times and the merge prices them from the node's timeline.
struct WindowRecord {
  std::string name;
  SysTime begin_utc;
  SysTime end_utc;
  std::optional<double> energy_j;
  std::vector<std::pair<std::string, double>> device_energy_j;  ///< device id -> joules
};

/// {"name", "begin_utc", "end_utc", "duration_s", "energy_j" (null for members), "devices"}.
nlohmann::json window_to_json(const WindowRecord& window);

/// tasks/<global rank>.json.
struct TaskRecord {
  std::string role;  ///< "meter" | "member"
  pid_t pid = 0;
  std::vector<pid_t> pids;  ///< the process tree the task saw
  std::vector<std::string> command;
  SysTime start_utc;
  SysTime end_utc;
  std::optional<int> exit_code;
  std::string note;  ///< a member: why it metered nothing
  std::vector<WindowRecord> windows;
};

/// The "cluster" object of a meter's run.json: job_id, node, rank, local_rank, world_size, role.
nlohmann::json cluster_json(const DistributedContext& ctx, const std::string& role);

/// The task file's document (cluster fields, the record, schema_version).
nlohmann::json task_to_json(const TaskRecord& task, const DistributedContext& ctx);

/// Writes NODE_DIR/tasks/<rank>.json atomically.
Status save_task(const std::filesystem::path& node_dir, const TaskRecord& task,
                 const DistributedContext& ctx);

}  // namespace carbonclock

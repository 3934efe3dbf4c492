// Distributed jobs: which task of which job on which node this process is (Slurm, torchrun),
// and the per-node run directory layout they share (docs/slurm.md, "Run directory layout"):
//
//   OUT/<job id>/<node>/run.json, journal.jsonl   written by the node's one meter
//   OUT/<job id>/<node>/.meter.lock               flock'ed by the meter for its whole run
//   OUT/<job id>/<node>/tasks/<global rank>.json  written by every task, the meter too
//
// The meter is elected by the lock: whoever takes it first meters every device of the node;
// the others meter nothing and record their process trees, so no device is counted twice
// whatever the task layout. The Python API's distributed mode writes the same layout.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "config/config.h"

namespace carbonclock {

enum class Launcher { kNone, kSlurm, kTorchrun };
/// "none" | "slurm" | "torchrun".
const char* to_string(Launcher launcher);

/// Where a task of a distributed job sits.
struct DistributedContext {
  Launcher launcher = Launcher::kNone;
  std::string job_id;  ///< a safe path component (see detect_distributed)
  std::string node;    ///< a safe path component
  int rank = 0;        ///< global rank
  int local_rank = 0;  ///< rank among the tasks on this node
  int world_size = 1;  ///< tasks in the job (step)
  /// Tasks of the job on this node, where the launcher says (Slurm: SLURM_STEP_TASKS_PER_NODE
  /// or SLURM_TASKS_PER_NODE at SLURM_NODEID; torchrun: LOCAL_WORLD_SIZE).
  std::optional<int> tasks_on_node;
  /// Nodes in the job (Slurm: SLURM_STEP_NUM_NODES, SLURM_JOB_NUM_NODES, SLURM_NNODES;
  /// torchrun: GROUP_WORLD_SIZE).
  std::optional<int> node_count;
  /// What was off in the environment (a value that is not a number, a job id made safe).
  std::vector<std::string> warnings;

  bool distributed() const { return launcher != Launcher::kNone; }
};

/// Detects a distributed context from the environment, first match wins:
/// - Slurm: SLURM_JOB_ID (job id), SLURMD_NODENAME (node; else `host`), SLURM_PROCID (global
///   rank), SLURM_LOCALID (local rank), SLURM_NTASKS (world size);
/// - torchrun: TORCHELASTIC_RUN_ID (job id), GROUP_RANK (node index; node name = `host`), RANK,
///   LOCAL_RANK, WORLD_SIZE;
/// - otherwise not distributed (launcher kNone).
/// Missing or malformed numbers default to rank 0 of 1 (with a warning when malformed). The
/// job id and node become path components: characters other than letters, digits, '.', '_'
/// and '-' are replaced by '_' (with a warning). `host` empty: this machine's host name.
DistributedContext detect_distributed(const EnvLookup& env, std::string_view host = {});

/// This machine's host name (gethostname).
std::string local_host_name();

/// The counts of "2(x3),1"-style Slurm task lists: the count of node `node_index`, nullopt
/// when the text is malformed or too short.
std::optional<int> slurm_tasks_on_node(std::string_view tasks_per_node, int node_index);

// ---- the per-node layout -------------------------------------------------------------------

inline constexpr const char* kMeterLockFile = ".meter.lock";
inline constexpr const char* kTasksDir = "tasks";
/// Version of tasks/<rank>.json. Readers refuse newer versions.
inline constexpr int kTaskSchemaVersion = 1;

/// OUT/<job id>.
std::filesystem::path job_dir_for(const std::filesystem::path& out, const DistributedContext& dc);
/// OUT/<job id>/<node>.
std::filesystem::path node_dir_for(const std::filesystem::path& out, const DistributedContext& dc);

enum class TaskRole { kMeter, kMember };
/// "meter" | "member".
const char* to_string(TaskRole role);

/// A named stretch of a task's work (the Python API's `window()`): begin/end UTC, and the
/// node's energy over it when the task is the node's meter.
struct TaskWindow {
  std::string name;
  SysTime begin_utc;
  SysTime end_utc;
  std::optional<double> energy_j;
};

/// tasks/<global rank>.json.
struct TaskRecord {
  int schema_version = kTaskSchemaVersion;
  std::string job_id;
  std::string node;
  Launcher launcher = Launcher::kNone;
  int rank = 0;
  int local_rank = 0;
  int world_size = 1;
  TaskRole role = TaskRole::kMember;
  pid_t pid = 0;      ///< the task's own process (carbonclock, or the Python process)
  pid_t job_pid = 0;  ///< the job's first process, when the task started one
  std::vector<std::string> command;
  SysTime start_utc;
  std::optional<SysTime> end_utc;  ///< unset while the task runs (or when it died)
  std::optional<int> exit_code;
  std::vector<pid_t> processes;  ///< every process of the job's tree the task saw
  /// The CPU seconds the kernel accounted to the job's whole process tree at its end, and the
  /// estimate model's watts per busy core: the merge prices a member's CPU time with them
  /// when its node's meter has no CPU counter (the estimate covers the meter's own tree only).
  std::optional<double> cpu_s;
  std::optional<double> cpu_w_per_core;
  std::vector<TaskWindow> windows;
  std::string note;  ///< e.g. why the task meters nothing
};

nlohmann::json task_to_json(const TaskRecord& task);
/// Parses a tasks/<rank>.json document; `origin` names it in errors. Refuses a newer version.
Result<TaskRecord> task_from_json(const nlohmann::json& doc, const std::string& origin);
/// Writes NODE_DIR/tasks/<rank>.json atomically.
Status save_task(const TaskRecord& task, const std::filesystem::path& node_dir);

/// The task records of a node directory, by rank. A file that cannot be read or parsed becomes
/// one line in `warnings`.
std::vector<TaskRecord> load_tasks(const std::filesystem::path& node_dir,
                                   std::vector<std::string>& warnings);

/// How often a node's meter looks at tasks/ while it waits for the node's other tasks, and how
/// long it waits for tasks the launcher announced that have not joined yet.
inline constexpr Nanos kTaskPoll = std::chrono::milliseconds(100);
inline constexpr Nanos kTaskJoinGrace = std::chrono::seconds(30);

/// The error for `run --gpus used` in a distributed job: the node's meter sees only its own
/// task's processes, so it cannot tell which GPUs the node's other tasks use.
Error gpus_used_refused();

/// Whether process `pid` exists on this host (kill(pid, 0)).
bool process_alive(pid_t pid);

/// One task's place in the per-node layout, from joining it to its end. Holds the meter lock
/// (when it won it) until destroyed.
class NodeTask {
 public:
  /// Creates OUT/<job id>/<node>/tasks/ and tries the meter lock without waiting
  /// (flock LOCK_EX|LOCK_NB on .meter.lock). The task becomes the meter when it gets the lock
  /// and the node has no run yet; otherwise a member (a task that gets the lock after the
  /// node's meter finished is a member too, and says so). Errors: the directories cannot be
  /// created, or the lock cannot be used (a file system without flock).
  static Result<std::unique_ptr<NodeTask>> join(const DistributedContext& dc,
                                                const std::filesystem::path& out);
  ~NodeTask();
  NodeTask(const NodeTask&) = delete;
  NodeTask& operator=(const NodeTask&) = delete;

  bool is_meter() const { return record_.role == TaskRole::kMeter; }
  const DistributedContext& context() const { return dc_; }
  const std::filesystem::path& node_dir() const { return node_dir_; }
  std::filesystem::path job_dir() const { return node_dir_.parent_path(); }
  const TaskRecord& record() const { return record_; }
  /// run.json's "cluster" object for the meter.
  nlohmann::json cluster_json() const;
  /// One line: "task 1 of 2 of Slurm job 77 on node n1: the node's meter (DIR)".
  std::string summary() const;

  /// The job started: writes tasks/<rank>.json (no end yet) and starts following the job's
  /// process tree every `interval`.
  Status started(const std::vector<std::string>& command, pid_t job_pid, SysTime start_utc,
                 Nanos interval);
  /// The job was restarted (a resume command): follow `pid` from now on.
  void follow(pid_t job_pid);
  /// Meter only, after its own job ended: waits while other tasks of this node run, polling
  /// tasks/ every `poll`: until every task file present has an end or its process is gone,
  /// and, where the launcher said how many tasks the node has, until that many have joined
  /// (giving up on late ones after `join_grace`). `note` hears what it waits for. Returns
  /// warnings (tasks that never joined).
  std::vector<std::string> wait_for_members(Nanos poll, Nanos join_grace,
                                            const std::function<void(const std::string&)>& note);
  /// The job ended: writes the final tasks/<rank>.json.
  Status finished(SysTime end_utc, int exit_code, std::optional<double> cpu_s,
                  std::optional<double> cpu_w_per_core);

 private:
  NodeTask() = default;
  void stop_following();

  DistributedContext dc_;
  std::filesystem::path node_dir_;
  int lock_fd_ = -1;
  TaskRecord record_;

  // Following the job's process tree.
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  pid_t root_ = 0;
  std::set<pid_t> seen_;
};

}  // namespace carbonclock

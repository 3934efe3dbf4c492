#include "app/distributed.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <charconv>

#include "app/run_common.h"
#include "common/files.h"
#include "metering/run_record.h"

namespace carbonclock {
namespace {

std::optional<std::string> non_empty(const EnvLookup& env, const char* name) {
  auto v = env(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

int int_or(const EnvLookup& env, const char* name, int fallback) {
  auto v = non_empty(env, name);
  if (!v) return fallback;
  int out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  return ec == std::errc() && end == v->data() + v->size() ? out : fallback;
}

// One path component: anything but letters, digits, '.', '-', '_' becomes '_'; never "." or "..".
std::string path_component(const std::string& text) {
  std::string out;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

}  // namespace

DistributedContext detect_distributed(const EnvLookup& env) {
  DistributedContext ctx;
  const bool torchrun = non_empty(env, "TORCHELASTIC_RUN_ID").has_value();
  if (auto job = non_empty(env, "SLURM_JOB_ID")) {
    ctx.active = true;
    ctx.launcher = "slurm";
    ctx.job_id = *job;
    ctx.node = non_empty(env, "SLURMD_NODENAME").value_or(host_name());
    ctx.node_rank = int_or(env, "SLURM_NODEID", 0);
    ctx.rank = int_or(env, "SLURM_PROCID", 0);
    ctx.local_rank = int_or(env, "SLURM_LOCALID", 0);
    ctx.world_size = int_or(env, "SLURM_NTASKS", 1);
    if (torchrun) {  // torchrun under srun: the workers of one task share its SLURM_PROCID
      ctx.rank = int_or(env, "RANK", ctx.rank);
      ctx.local_rank = int_or(env, "LOCAL_RANK", ctx.local_rank);
      ctx.world_size = int_or(env, "WORLD_SIZE", ctx.world_size);
    }
  } else if (torchrun) {
    ctx.active = true;
    ctx.launcher = "torchrun";
    ctx.job_id = *non_empty(env, "TORCHELASTIC_RUN_ID");
    ctx.node = host_name();
    ctx.node_rank = int_or(env, "GROUP_RANK", 0);
    ctx.rank = int_or(env, "RANK", 0);
    ctx.local_rank = int_or(env, "LOCAL_RANK", 0);
    ctx.world_size = int_or(env, "WORLD_SIZE", 1);
  } else {
    return ctx;
  }
  ctx.job_id = path_component(ctx.job_id);
  ctx.node = path_component(ctx.node);
  return ctx;
}

std::filesystem::path node_dir(const std::filesystem::path& out, const DistributedContext& ctx) {
  return out / ctx.job_id / ctx.node;
}

Result<std::unique_ptr<MeterLock>> MeterLock::try_acquire(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir / "tasks", ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "{}: cannot create the node's run directory: {}",
                      dir.string(), ec.message());
  }
  const auto path = dir / ".meter.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(ErrorCode::kIo, "{}: cannot open: {}", path.string(), errno_text(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return std::unique_ptr<MeterLock>();
    return make_error(ErrorCode::kIo, "{}: cannot lock: {}", path.string(), errno_text(err));
  }
  return std::unique_ptr<MeterLock>(new MeterLock(fd));
}

MeterLock::~MeterLock() { ::close(fd_); }  // closing the descriptor releases the lock

nlohmann::json window_to_json(const WindowRecord& w) {
  nlohmann::json devices = nlohmann::json::object();
  for (const auto& [id, joules] : w.device_energy_j) devices[id] = joules;
  return {{"name", w.name},
          {"begin_utc", format_utc_millis(w.begin_utc)},
          {"end_utc", format_utc_millis(w.end_utc)},
          {"duration_s", to_seconds(w.end_utc - w.begin_utc)},
          {"energy_j", w.energy_j ? nlohmann::json(*w.energy_j) : nlohmann::json()},
          {"devices", std::move(devices)}};
}

nlohmann::json cluster_json(const DistributedContext& ctx, const std::string& role) {
  return {{"job_id", ctx.job_id},
          {"node", ctx.node},
          {"rank", ctx.rank},
          {"local_rank", ctx.local_rank},
          {"world_size", ctx.world_size},
          {"node_rank", ctx.node_rank},
          {"launcher", ctx.launcher},
          {"role", role}};
}

nlohmann::json task_to_json(const TaskRecord& task, const DistributedContext& ctx) {
  nlohmann::json windows = nlohmann::json::array();
  for (const auto& w : task.windows) windows.push_back(window_to_json(w));
  nlohmann::json doc = cluster_json(ctx, task.role);
  doc["schema_version"] = kRunSchemaVersion;
  doc["pid"] = task.pid;
  doc["pids"] = task.pids;
  doc["command"] = task.command;
  doc["start_utc"] = format_utc_millis(task.start_utc);
  doc["end_utc"] = format_utc_millis(task.end_utc);
  doc["exit_code"] = task.exit_code ? nlohmann::json(*task.exit_code) : nlohmann::json();
  doc["metered"] = task.role == "meter";
  if (!task.note.empty()) doc["note"] = task.note;
  doc["windows"] = std::move(windows);
  return doc;
}

Status save_task(const std::filesystem::path& dir, const TaskRecord& task,
                 const DistributedContext& ctx) {
  return write_file_atomic(dir / "tasks" / (std::to_string(ctx.rank) + ".json"),
                           task_to_json(task, ctx).dump(2) + "\n");
}

}  // namespace carbonclock

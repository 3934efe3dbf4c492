#include "app/distributed.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>

#include "common/files.h"
#include "common/json_text.h"
#include "metering/journal.h"
#include "sensors/process_tree.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::optional<int> parse_count(std::string_view text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

// A variable's value as a number >= 0: unset gives nullopt silently, a malformed value nullopt
// and a warning.
std::optional<int> env_count(const EnvLookup& env, const char* name,
                             std::vector<std::string>& warnings) {
  auto v = env(name);
  if (!v || v->empty()) return std::nullopt;
  auto n = parse_count(*v);
  if (!n) warnings.push_back(fmt::format("{}='{}' is not a number; ignored", name, *v));
  return n;
}

// Job ids and node names become directory names: keep them to a portable set.
std::string path_component(const std::string& text, const char* what,
                           std::vector<std::string>& warnings) {
  std::string out;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  if (out != text) {
    warnings.push_back(fmt::format("{} '{}' is used as the directory name '{}'", what, text, out));
  }
  return out;
}

void fill_ranks(DistributedContext& dc, const EnvLookup& env, const char* rank,
                const char* local_rank, const char* world_size) {
  dc.rank = env_count(env, rank, dc.warnings).value_or(0);
  dc.local_rank = env_count(env, local_rank, dc.warnings).value_or(0);
  dc.world_size = std::max(env_count(env, world_size, dc.warnings).value_or(1), 1);
}

json time_or_null(const std::optional<SysTime>& t) {
  return t ? json(format_utc_millis(*t)) : json(nullptr);
}

Result<SysTime> utc_field(const json& doc, const char* key, const std::string& origin) {
  auto t = parse_utc(doc.at(key).get<std::string>());
  if (!t) return t.error().with_context(origin + ": " + key);
  return *t;
}

}  // namespace

const char* to_string(Launcher launcher) {
  switch (launcher) {
    case Launcher::kSlurm:
      return "slurm";
    case Launcher::kTorchrun:
      return "torchrun";
    case Launcher::kNone:
      break;
  }
  return "none";
}

const char* to_string(TaskRole role) { return role == TaskRole::kMeter ? "meter" : "member"; }

std::string local_host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

std::optional<int> slurm_tasks_on_node(std::string_view text, int node_index) {
  // "2(x3),1": three nodes with 2 tasks, then one with 1.
  int index = 0;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
    int repeat = 1;
    if (size_t paren = item.find("(x"); paren != std::string_view::npos) {
      if (item.back() != ')') return std::nullopt;
      auto r = parse_count(item.substr(paren + 2, item.size() - paren - 3));
      if (!r || *r == 0) return std::nullopt;
      repeat = *r;
      item = item.substr(0, paren);
    }
    auto count = parse_count(item);
    if (!count) return std::nullopt;
    if (node_index < index + repeat) return *count;
    index += repeat;
  }
  return std::nullopt;
}

DistributedContext detect_distributed(const EnvLookup& env, std::string_view host) {
  DistributedContext dc;
  std::string host_name = host.empty() ? local_host_name() : std::string(host);
  auto set = [&](const char* name) {
    auto v = env(name);
    return v && !v->empty() ? v : std::nullopt;
  };
  if (auto job = set("SLURM_JOB_ID")) {
    dc.launcher = Launcher::kSlurm;
    dc.job_id = path_component(*job, "SLURM_JOB_ID", dc.warnings);
    dc.node = path_component(set("SLURMD_NODENAME").value_or(host_name), "node name", dc.warnings);
    fill_ranks(dc, env, "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NTASKS");
    auto node_id = env_count(env, "SLURM_NODEID", dc.warnings);
    auto per_node = set("SLURM_STEP_TASKS_PER_NODE");
    if (!per_node) per_node = set("SLURM_TASKS_PER_NODE");
    if (per_node) {
      dc.tasks_on_node = slurm_tasks_on_node(*per_node, node_id.value_or(0));
      if (!dc.tasks_on_node) {
        dc.warnings.push_back(
            fmt::format("tasks per node '{}' not understood; ignored", *per_node));
      }
    }
    for (const char* name : {"SLURM_STEP_NUM_NODES", "SLURM_JOB_NUM_NODES", "SLURM_NNODES"}) {
      if (set(name)) {
        dc.node_count = env_count(env, name, dc.warnings);
        break;
      }
    }
    return dc;
  }
  if (auto run = set("TORCHELASTIC_RUN_ID")) {
    dc.launcher = Launcher::kTorchrun;
    dc.job_id = path_component(*run, "TORCHELASTIC_RUN_ID", dc.warnings);
    if (*run == "none") {
      dc.warnings.push_back(
          "TORCHELASTIC_RUN_ID is 'none' (torchrun without --rdzv-id): every such job shares "
          "the directory 'none'; give torchrun --rdzv-id");
    }
    dc.node = path_component(host_name, "node name", dc.warnings);
    fill_ranks(dc, env, "RANK", "LOCAL_RANK", "WORLD_SIZE");
    dc.tasks_on_node = env_count(env, "LOCAL_WORLD_SIZE", dc.warnings);
    dc.node_count = env_count(env, "GROUP_WORLD_SIZE", dc.warnings);
    (void)env_count(env, "GROUP_RANK", dc.warnings);  // validated; the node is named by host
    return dc;
  }
  return dc;
}

fs::path job_dir_for(const fs::path& out, const DistributedContext& dc) { return out / dc.job_id; }

fs::path node_dir_for(const fs::path& out, const DistributedContext& dc) {
  return out / dc.job_id / dc.node;
}

// ---- task records ------------------------------------------------------------------------

json task_to_json(const TaskRecord& t) {
  json windows = json::array();
  for (const TaskWindow& w : t.windows) {
    json j = {{"name", w.name},
              {"begin_utc", format_utc_millis(w.begin_utc)},
              {"end_utc", format_utc_millis(w.end_utc)}};
    if (w.energy_j) j["energy_j"] = *w.energy_j;
    windows.push_back(std::move(j));
  }
  json doc = {{"schema_version", t.schema_version},
              {"job_id", t.job_id},
              {"node", t.node},
              {"launcher", to_string(t.launcher)},
              {"rank", t.rank},
              {"local_rank", t.local_rank},
              {"world_size", t.world_size},
              {"role", to_string(t.role)},
              {"pid", t.pid},
              {"job_pid", t.job_pid},
              {"command", t.command},
              {"start_utc", format_utc_millis(t.start_utc)},
              {"end_utc", time_or_null(t.end_utc)},
              {"exit_code", t.exit_code ? json(*t.exit_code) : json(nullptr)},
              {"processes", t.processes},
              {"windows", std::move(windows)}};
  if (t.cpu_s) doc["cpu_s"] = *t.cpu_s;
  if (t.cpu_w_per_core) doc["cpu_w_per_core"] = *t.cpu_w_per_core;
  if (!t.note.empty()) doc["note"] = t.note;
  return doc;
}

Result<TaskRecord> task_from_json(const json& doc, const std::string& origin) {
  try {
    TaskRecord t;
    t.schema_version = doc.at("schema_version").get<int>();
    if (t.schema_version > kTaskSchemaVersion) {
      return make_error("{}: schema_version {} is newer than this carbonclock understands ({})",
                        origin, t.schema_version, kTaskSchemaVersion);
    }
    t.job_id = doc.at("job_id").get<std::string>();
    t.node = doc.at("node").get<std::string>();
    std::string launcher = doc.value("launcher", "none");
    t.launcher = launcher == "slurm"      ? Launcher::kSlurm
                 : launcher == "torchrun" ? Launcher::kTorchrun
                                          : Launcher::kNone;
    t.rank = doc.at("rank").get<int>();
    t.local_rank = doc.value("local_rank", 0);
    t.world_size = doc.value("world_size", 1);
    std::string role = doc.at("role").get<std::string>();
    if (role != "meter" && role != "member") {
      return make_error("{}: role '{}' is neither meter nor member", origin, role);
    }
    t.role = role == "meter" ? TaskRole::kMeter : TaskRole::kMember;
    t.pid = doc.value("pid", 0);
    t.job_pid = doc.value("job_pid", 0);
    t.command = doc.value("command", std::vector<std::string>{});
    auto start = utc_field(doc, "start_utc", origin);
    if (!start) return start.error();
    t.start_utc = *start;
    if (doc.contains("end_utc") && !doc.at("end_utc").is_null()) {
      auto end = utc_field(doc, "end_utc", origin);
      if (!end) return end.error();
      t.end_utc = *end;
    }
    if (doc.contains("exit_code") && !doc.at("exit_code").is_null()) {
      t.exit_code = doc.at("exit_code").get<int>();
    }
    t.processes = doc.value("processes", std::vector<pid_t>{});
    if (doc.contains("cpu_s")) t.cpu_s = doc.at("cpu_s").get<double>();
    if (doc.contains("cpu_w_per_core")) t.cpu_w_per_core = doc.at("cpu_w_per_core").get<double>();
    for (const json& w : doc.value("windows", json::array())) {
      TaskWindow win;
      win.name = w.value("name", "");
      auto b = utc_field(w, "begin_utc", origin + ": windows");
      if (!b) return b.error();
      auto e = utc_field(w, "end_utc", origin + ": windows");
      if (!e) return e.error();
      win.begin_utc = *b;
      win.end_utc = *e;
      if (w.contains("energy_j") && !w.at("energy_j").is_null()) {
        win.energy_j = w.at("energy_j").get<double>();
      }
      t.windows.push_back(std::move(win));
    }
    t.note = doc.value("note", "");
    return t;
  } catch (const json::exception& e) {
    return make_error("{}: not a valid task record: {}", origin, e.what());
  }
}

Status save_task(const TaskRecord& task, const fs::path& node_dir) {
  return write_file_atomic(node_dir / kTasksDir / fmt::format("{}.json", task.rank),
                           dump_json(task_to_json(task), 2) + "\n");
}

std::vector<TaskRecord> load_tasks(const fs::path& node_dir, std::vector<std::string>& warnings) {
  std::map<int, TaskRecord> by_rank;
  std::error_code ec;
  fs::directory_iterator it(node_dir / kTasksDir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".json" || !parse_count(p.stem().string())) continue;
    auto text = read_file(p);
    if (!text) {
      warnings.push_back(text.error().message());
      continue;
    }
    auto doc = parse_carbonclock_json(*text, p.string());
    if (!doc) {
      warnings.push_back(doc.error().message() + " (the file is damaged)");
      continue;
    }
    auto task = task_from_json(*doc, p.string());
    if (!task) {
      warnings.push_back(task.error().message());
      continue;
    }
    by_rank[task->rank] = std::move(*task);
  }
  std::vector<TaskRecord> out;
  for (auto& [rank, t] : by_rank) out.push_back(std::move(t));
  return out;
}

Error gpus_used_refused() {
  return make_error(
      "--gpus used cannot be told apart in a distributed job: the node's meter sees only its "
      "own task's processes; give --gpus all (every GPU of the node, the default) or a list of "
      "GPUs");
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

// ---- NodeTask ----------------------------------------------------------------------------

Result<std::unique_ptr<NodeTask>> NodeTask::join(const DistributedContext& dc,
                                                 const fs::path& out) {
  std::unique_ptr<NodeTask> task(new NodeTask());
  task->dc_ = dc;
  task->node_dir_ = node_dir_for(out, dc);
  std::error_code ec;
  fs::create_directories(task->node_dir_ / kTasksDir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "{}: cannot create the node's run directory: {}",
                      task->node_dir_.string(), ec.message());
  }
  fs::path lock = task->node_dir_ / kMeterLockFile;
  task->lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (task->lock_fd_ < 0) {
    return make_error(ErrorCode::kIo, "{}: cannot open the meter lock: {}", lock.string(),
                      errno_text(errno));
  }
  TaskRecord& r = task->record_;
  r.job_id = dc.job_id;
  r.node = dc.node;
  r.launcher = dc.launcher;
  r.rank = dc.rank;
  r.local_rank = dc.local_rank;
  r.world_size = dc.world_size;
  r.pid = ::getpid();
  if (::flock(task->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      return make_error(ErrorCode::kIo,
                        "{}: cannot take the meter lock: {} (the run directory must be on a file "
                        "system that supports flock)",
                        lock.string(), errno_text(errno));
    }
    r.role = TaskRole::kMember;
    r.note =
        "another task of this node holds the meter lock and meters the node's devices; "
        "this task meters nothing";
    return task;
  }
  if (fs::exists(task->node_dir_ / kJournalFile, ec) ||
      fs::exists(task->node_dir_ / kRunFile, ec)) {
    // The node's meter has finished already: metering again would count the node twice.
    ::close(task->lock_fd_);
    task->lock_fd_ = -1;
    r.role = TaskRole::kMember;
    r.note = "this task started after the node's meter had finished; its energy is not metered";
    return task;
  }
  r.role = TaskRole::kMeter;
  return task;
}

NodeTask::~NodeTask() {
  stop_following();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

json NodeTask::cluster_json() const {
  return {{"job_id", dc_.job_id},
          {"node", dc_.node},
          {"launcher", to_string(dc_.launcher)},
          {"rank", dc_.rank},
          {"local_rank", dc_.local_rank},
          {"world_size", dc_.world_size},
          {"tasks_on_node", dc_.tasks_on_node ? json(*dc_.tasks_on_node) : json(nullptr)},
          {"node_count", dc_.node_count ? json(*dc_.node_count) : json(nullptr)},
          {"role", to_string(record_.role)}};
}

std::string NodeTask::summary() const {
  return fmt::format("task {} of {} of {} job {} on node {}: {} ({})", dc_.rank, dc_.world_size,
                     dc_.launcher == Launcher::kSlurm ? "Slurm" : "torchrun", dc_.job_id, dc_.node,
                     is_meter() ? "the node's meter, metering every device of the node"
                                : "a member, metering nothing",
                     node_dir_.string());
}

Status NodeTask::started(const std::vector<std::string>& command, pid_t job_pid, SysTime start_utc,
                         Nanos interval) {
  record_.command = command;
  record_.job_pid = job_pid;
  record_.start_utc = start_utc;
  {
    std::lock_guard lock(mu_);
    root_ = job_pid;
    seen_.insert(job_pid);
  }
  record_.processes.assign(seen_.begin(), seen_.end());
  Status saved = save_task(record_, node_dir_);
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      pid_t root = root_;
      lock.unlock();
      std::vector<pid_t> pids = process_tree_pids(root);
      lock.lock();
      seen_.insert(pids.begin(), pids.end());
      cv_.wait_for(lock, interval, [this] { return stop_; });
    }
  });
  return saved;
}

void NodeTask::follow(pid_t job_pid) {
  std::lock_guard lock(mu_);
  root_ = job_pid;
  seen_.insert(job_pid);
}

void NodeTask::stop_following() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> NodeTask::wait_for_members(
    Nanos poll, Nanos join_grace, const std::function<void(const std::string&)>& note) {
  std::vector<std::string> warnings;
  const auto since = std::chrono::steady_clock::now();
  std::string last_said;
  for (;;) {
    std::vector<std::string> ignored;
    std::vector<TaskRecord> tasks = load_tasks(node_dir_, ignored);
    int joined = 0;
    std::vector<int> running;
    for (const TaskRecord& t : tasks) {
      if (t.rank == record_.rank) continue;
      ++joined;
      if (!t.end_utc && process_alive(t.pid)) running.push_back(t.rank);
    }
    int expected = dc_.tasks_on_node ? *dc_.tasks_on_node - 1 : 0;
    bool late = joined < expected && std::chrono::steady_clock::now() - since < join_grace;
    if (running.empty() && !late) {
      if (joined < expected) {
        warnings.push_back(fmt::format(
            "{} of the {} tasks expected on node {} never joined its run directory within {}",
            expected - joined, expected + 1, dc_.node, format_duration(join_grace)));
      }
      return warnings;
    }
    std::string said =
        running.empty()
            ? fmt::format("waiting for {} more task(s) of this node to start", expected - joined)
            : fmt::format(
                  "the job's task on this node ended; metering on until the other "
                  "{} task(s) of the node end (rank{} {})",
                  running.size(), running.size() == 1 ? "" : "s", fmt::join(running, ", "));
    if (said != last_said && note) note(said);
    last_said = said;
    std::this_thread::sleep_for(poll);
  }
}

Status NodeTask::finished(SysTime end_utc, int exit_code, std::optional<double> cpu_s,
                          std::optional<double> cpu_w_per_core) {
  stop_following();
  record_.end_utc = end_utc;
  record_.exit_code = exit_code;
  record_.cpu_s = cpu_s;
  record_.cpu_w_per_core = cpu_w_per_core;
  record_.processes.assign(seen_.begin(), seen_.end());
  return save_task(record_, node_dir_);
}

}  // namespace carbonclock

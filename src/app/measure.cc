#include "app/measure.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "accounting/history.h"
#include "app/cluster.h"
#include "app/host_info.h"
#include "app/store_access.h"
#include "execution/supervisor.h"
#include "intensity/intensity_provider.h"
#include "metering/journal.h"
#include "metering/sensor_setup.h"

namespace carbonclock {
namespace {

std::string new_run_id(SysTime start) {
  std::string t = format_utc(start);  // 2026-11-27T23:59:01Z -> 20261127T235901Z
  std::string compact;
  for (char c : t) {
    if (c != '-' && c != ':') compact.push_back(c);
  }
  std::random_device rd;
  return fmt::format("{}-{:06x}", compact, rd() & 0xffffff);
}

std::map<std::string, std::string> scheduler_env(const EnvLookup& env) {
  std::map<std::string, std::string> out;
  for (const char* name :
       {"SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID",
        "SLURM_CLUSTER_NAME", "PBS_JOBID", "LSB_JOBID", "JOB_ID", "KUBERNETES_POD_NAME"}) {
    if (auto v = env(name)) out[name] = *v;
  }
  return out;
}

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

RunOverhead self_overhead(int64_t samples, double interval_s) {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  return {cpu, static_cast<double>(ru.ru_maxrss) / 1024.0, samples, interval_s};
}

struct Checked {
  Nanos interval{};
  Nanos bucket{};
  GpuSelection gpus;
  AccountingInputs inputs;
};

Result<Checked> check_request(const MeasureRequest& r) {
  Checked c;
  if (r.command.empty()) return make_error("no command to run: give it after --");
  auto interval = parse_duration(r.interval);
  if (!interval) return interval.error().with_context("--interval");
  if (*interval < std::chrono::milliseconds(50)) {
    return make_error("--interval {} is below the 50ms minimum", r.interval);
  }
  c.interval = *interval;
  auto bucket = parse_duration(r.bucket);
  if (!bucket) return bucket.error().with_context("--bucket");
  if (*bucket < std::chrono::seconds(1) || std::chrono::hours(24) % *bucket != Nanos(0)) {
    return make_error(
        "--bucket {} must be at least 1s and divide a day evenly (e.g. 1m, 5m, 15m, 1h)", r.bucket);
  }
  c.bucket = *bucket;
  auto gpus = parse_gpu_selection(r.gpus);
  if (!gpus) return gpus.error();
  c.gpus = *gpus;
  if (!(r.cpu_w_per_core >= 0 && std::isfinite(r.cpu_w_per_core)) ||
      !(r.dram_w_per_gb >= 0 && std::isfinite(r.dram_w_per_gb))) {
    return make_error(
        "--cpu-watts-per-core and --dram-watts-per-gb must be finite numbers, not negative");
  }
  auto inputs = resolve_inputs(r.choices, nullptr);
  if (!inputs) return inputs.error();
  c.inputs = std::move(*inputs);
  return c;
}

// The emissions of a finished run and its history record. Nothing here changes the run's exit
// status: a failure is a warning, the run directory stays.
void account_and_record(MeasureResult& out, const AccountingInputs& inputs, const MeasureRequest& r,
                        AppContext& ctx, bool record = true) {
  auto opened = open_store(r.db, StoreMode::kCreate, ctx.env);
  if (!opened) {
    ctx.observer.warning(opened.error().message() +
                         " (emissions use the embedded profiles; the run is not recorded in the "
                         "history)");
  }
  GridStore* store = opened ? opened->get() : nullptr;
  IntensityProvider provider(store);
  auto account = account_run(out.run, inputs, provider);
  if (!account) {
    ctx.observer.warning("no emissions for this run: " + account.error().message());
  } else {
    out.account = std::move(*account);
  }
  if (!store || !record) return;
  // Every run with a run directory is recorded; one that could not be priced says so.
  HistoryEntry entry = out.account
                           ? history_entry(out.run, *out.account, out.run_dir.string())
                           : unpriced_history_entry(out.run, inputs.zone, out.run_dir.string());
  if (auto s = store->record_run(entry); !s) {
    ctx.observer.warning("run not recorded in the history: " + s.error().message());
  }
}

/// Passes the supervisor's stop and continue notices on to the run's observer.
class StopNotices final : public SupervisorEvents {
 public:
  explicit StopNotices(RunObserver& observer) : observer_(observer) {}
  void job_stopped(int sig) override { observer_.job_stopped(sig); }
  void job_continued() override { observer_.job_continued(); }
  void stopping_self(int sig) override { observer_.suspending(sig); }
  void continued_self() override { observer_.continued(); }

 private:
  RunObserver& observer_;
};

}  // namespace

Result<MeasureResult> measure_command(const MeasureRequest& r, AppContext& ctx,
                                      RunObserver& observer) {
  auto checked = check_request(r);
  if (!checked) return checked.error();
  {
    // An unknown zone is refused before the job starts, not warned about after it.
    auto opened = open_store(r.db, StoreMode::kIfExists, ctx.env);
    IntensityProvider provider(opened ? opened->get() : nullptr);
    if (Status s = provider.check_zone(checked->inputs.selection); !s) return s.error();
  }
  MeasureResult out;
  // A task of a distributed job: OUT/<job id>/<node>/, one meter per node (app/distributed.h).
  std::unique_ptr<NodeTask> task;
  if (DistributedContext dist = detect_distributed(ctx.env); dist.distributed()) {
    if (checked->gpus.mode == GpuSelection::Mode::kUsed) return gpus_used_refused();
    auto joined = NodeTask::join(dist, r.out.empty() ? r.runs_dir : r.out);
    if (!joined) return joined.error();
    task = std::move(*joined);
  }
  const bool meters = !task || task->is_meter();

  // Before any thread exists, so every thread inherits the mask and only wait() sees them.
  Supervisor::block_signals();

  // Carbon-aware execution: plan, then wait for the first planned slot.
  auto scheduled =
      ScheduledRun::prepare(r.schedule, checked->inputs.selection, r.db, ctx, observer);
  if (!scheduled) return scheduled.error();
  if (*scheduled) {
    observer.planned((*scheduled)->plan_summary());
    if (int rc = (*scheduled)->wait_for_start(); rc != 0) {
      out.exit_code = rc;
      return out;
    }
  }

  SensorSetup setup;
  setup.use_gpus = !r.no_gpu;
  setup.nvml.gpus = checked->gpus;
  // A node's meter meters every GPU of the node, not one task's binding.
  if (auto cvd = ctx.env("CUDA_VISIBLE_DEVICES"); cvd && !task) {
    setup.nvml.cuda_visible_devices = *cvd;
  }
  if (auto root = ctx.env("CARBONCLOCK_SYSFS_ROOT")) setup.sysfs_root = *root;
  setup.estimate.cpu_w_per_core = r.cpu_w_per_core;
  setup.estimate.dram_w_per_gb = r.dram_w_per_gb;
  SensorSet sensors = meters ? open_sensors(setup) : SensorSet{{}, {task->record().note}};
  if (task) sensors.notes.insert(sensors.notes.begin(), task->summary());
  out.sensor_notes = sensors.notes;
  observer.sensors_opened(sensors.notes);

  Meter meter(std::move(sensors.sensors), ctx.clock,
              {checked->interval, checked->bucket, std::chrono::seconds(1)});
  meter.start();

  RunRecord& run = out.run;
  run.id = new_run_id(meter.start_utc());
  run.carbonclock_version = r.version;
  run.command = r.command;
  run.start_utc = meter.start_utc();
  run.host = host_name();
  run.scheduler = scheduler_env(ctx.env);
  run.tags = r.tags;
  run.timeline.bucket = checked->bucket;
  run.timeline.devices = meter.devices();
  run.overhead.interval_s = to_seconds(checked->interval);
  run.warnings = sensors.notes;
  const AccountingInputs& inputs = checked->inputs;
  if (r.choices.region) run.region = inputs.region.value_or(*r.choices.region);
  if (r.choices.zone || r.choices.region) run.zone = inputs.zone;
  run.pue = r.choices.pue;
  run.per = r.choices.per;
  run.work = r.choices.work;
  if (task) {
    run.cluster = task->cluster_json();
    for (const auto& w : task->context().warnings) run.warnings.push_back(w);
  }

  out.run_dir =
      r.out.empty() ? std::filesystem::path(r.runs_dir) / run.id : std::filesystem::path(r.out);
  if (task) out.run_dir = task->node_dir();
  std::error_code ec;
  const bool dir_existed = std::filesystem::exists(out.run_dir, ec);
  if (!task && dir_existed && !std::filesystem::is_empty(out.run_dir, ec)) {
    return make_error("{}: run directory exists and is not empty", out.run_dir.string());
  }
  std::filesystem::create_directories(out.run_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "{}: cannot create run directory: {}", out.run_dir.string(),
                      ec.message());
  }
  Result<std::unique_ptr<JournalWriter>> journal = std::unique_ptr<JournalWriter>();
  if (meters) journal = JournalWriter::create(out.run_dir, run);
  if (!journal) {
    // Nothing half-written is left behind (a full disk): no job ran; a run directory this run
    // created goes, a node's shared directory or one that existed keeps everything else.
    if (dir_existed || task) {
      std::filesystem::remove(out.run_dir / kJournalFile, ec);
    } else {
      std::filesystem::remove_all(out.run_dir, ec);
    }
    return journal.error();
  }
  meter.set_journal(journal->get());

  // The job and its children carry the run id, so `carbonclock exporter` can attribute them.
  ::setenv("CARBONCLOCK_RUN_ID", run.id.c_str(), 1);
  Supervisor supervisor;
  StopNotices stop_notices(observer);
  supervisor.set_events(&stop_notices);
  if (*scheduled) (*scheduled)->configure(supervisor);
  SpawnError spawn_error;
  if (!supervisor.spawn(r.command, &spawn_error)) {
    journal.value().reset();
    if (!task) std::filesystem::remove_all(out.run_dir, ec);
    out.spawn_error = spawn_error.message;
    out.exit_code = spawn_error.exit_code;
    return out;
  }
  out.job_ran = true;
  meter.attach_job(supervisor.pid());
  if (task) {
    if (auto s = task->started(r.command, supervisor.pid(), run.start_utc, checked->interval); !s) {
      run.warnings.push_back(s.error().message());
    }
  }
  observer.job_started(supervisor.pid());
  meter.set_on_sample([&observer](const MeterStatus& s) { observer.sample(s); });
  meter.start_thread();
  JobExit exit = *scheduled ? (*scheduled)
                                  ->execute(supervisor,
                                            [&meter, &task](pid_t pid) {
                                              meter.attach_job(pid);
                                              if (task) task->follow(pid);
                                            })
                            : supervisor.wait();
  if (task) {
    SysTime job_end = ctx.clock.system_now();
    if (task->is_meter()) {
      auto note = [&observer](const std::string& text) { observer.note(text); };
      for (auto& w : task->wait_for_members(kTaskPoll, kTaskJoinGrace, note)) {
        run.warnings.push_back(std::move(w));
      }
    }
    if (auto s = task->finished(job_end, exit.exit_code, exit.cpu_s, r.cpu_w_per_core); !s) {
      run.warnings.push_back(s.error().message());
    }
  }
  meter.finish(exit.cpu_s);
  observer.job_ended();

  run.timeline = meter.timeline();
  run.end_utc = run.start_utc + meter.elapsed();
  run.exit_code = exit.exit_code;
  out.exit_code = exit.exit_code;
  if (task) out.cluster = MeasureResult::Cluster{task->record(), task->job_dir()};
  if (!meters) {
    out.warnings.assign(run.warnings.begin() + static_cast<ptrdiff_t>(sensors.notes.size()),
                        run.warnings.end());
    return out;  // a member: its tasks/<rank>.json is all it writes
  }
  for (const auto& w : meter.warnings()) run.warnings.push_back(w);
  run.overhead = self_overhead(meter.samples(), to_seconds(checked->interval));
  // After the job, so neither its start nor its supervision waits on this.
  run.host_info = collect_host_info(r.command, ctx.env);
  (*journal)->end(meter.elapsed(), exit.exit_code, run.overhead);
  (void)(*journal)->flush();  // a failure is in problem(): what the journal lost, if anything
  if (std::string p = (*journal)->problem(); !p.empty()) run.warnings.push_back(p);
  if (*scheduled) {
    (*scheduled)->record(run);
    out.schedule_summary = (*scheduled)->outcome_summary();
  }
  if (auto s = save_run(run, out.run_dir); !s) {
    ctx.observer.warning(s.error().message() + " (the journal is kept; `carbonclock report " +
                         out.run_dir.string() + "` rebuilds the run)");
  }
  // The sensor notes were shown when the run started; new warnings only.
  out.warnings.assign(run.warnings.begin() + static_cast<ptrdiff_t>(sensors.notes.size()),
                      run.warnings.end());
  account_and_record(out, inputs, r, ctx, /*record=*/!task);
  // The job is recorded once, merged from every node that has finished so far.
  if (task) record_cluster_job(task->job_dir(), r.choices.defaults, r.db, ctx);
  return out;
}

}  // namespace carbonclock

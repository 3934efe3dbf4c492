#include "app/measure.h"

#include <stdlib.h>

#include <filesystem>

#include "app/cluster.h"
#include "app/host_info.h"
#include "app/run_common.h"
#include "execution/supervisor.h"
#include "metering/journal.h"

namespace carbonclock {
namespace {

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
  if (r.command.empty()) return make_error("no command to run: give it after --");
  auto checked =
      check_metering(r.interval, r.bucket, r.gpus, r.cpu_w_per_core, r.dram_w_per_gb, r.choices);
  if (!checked) return checked.error();
  // An unknown zone is refused before the job starts, not warned about after it.
  if (Status s = check_zone_known(checked->inputs, r.db, ctx); !s) return s.error();
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

  RunSensors sensor_options{checked->gpus, r.no_gpu, r.cpu_w_per_core, r.dram_w_per_gb};
  // A node's meter meters every GPU of the node, not one task's binding.
  sensor_options.honour_cuda_visible = !task;
  SensorSet sensors =
      meters ? open_run_sensors(sensor_options, ctx.env) : SensorSet{{}, {task->record().note}};
  if (task) sensors.notes.insert(sensors.notes.begin(), task->summary());
  out.sensor_notes = sensors.notes;
  observer.sensors_opened(sensors.notes);

  Meter meter(std::move(sensors.sensors), ctx.clock,
              {checked->interval, checked->bucket, std::chrono::seconds(1)});
  meter.start();

  RunRecord& run = out.run;
  run = start_run_record(
      meter, {r.version, r.command, r.tags, &*checked, &r.choices, sensors.notes}, ctx.env);
  const AccountingInputs& inputs = checked->inputs;
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

  out.exit_code = exit.exit_code;
  if (task) out.cluster = MeasureResult::Cluster{task->record(), task->job_dir()};
  if (!meters) {
    run.timeline = meter.timeline();
    run.end_utc = run.start_utc + meter.elapsed();
    run.exit_code = exit.exit_code;
    out.warnings.assign(run.warnings.begin() + static_cast<ptrdiff_t>(sensors.notes.size()),
                        run.warnings.end());
    return out;  // a member: its tasks/<rank>.json is all it writes
  }
  // After the job, so neither its start nor its supervision waits on this.
  run.host_info = collect_host_info(r.command, ctx.env);
  finish_run_record(run, meter, **journal, exit.exit_code,
                    self_overhead(meter.samples(), to_seconds(checked->interval)));
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
  account_and_record(run, out.run_dir, inputs, r.db, ctx, out.account,
                     /*record_history=*/!task);
  // The job is recorded once, merged from every node that has finished so far.
  if (task) record_cluster_job(task->job_dir(), r.choices.defaults, r.db, ctx);
  return out;
}

}  // namespace carbonclock

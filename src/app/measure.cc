#include "app/measure.h"

#include <filesystem>

#include "app/run_common.h"
#include "execution/supervisor.h"
#include "metering/journal.h"

namespace carbonclock {

Result<MeasureResult> measure_command(const MeasureRequest& r, AppContext& ctx,
                                      RunObserver& observer) {
  if (r.command.empty()) return make_error("no command to run: give it after --");
  auto checked =
      check_metering(r.interval, r.bucket, r.gpus, r.cpu_w_per_core, r.dram_w_per_gb, r.choices);
  if (!checked) return checked.error();
  // An unknown zone is refused before the job starts, not warned about after it.
  if (Status s = check_zone_known(checked->inputs, r.db, ctx); !s) return s.error();
  MeasureResult out;

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

  SensorSet sensors =
      open_run_sensors({checked->gpus, r.no_gpu, r.cpu_w_per_core, r.dram_w_per_gb}, ctx.env);
  out.sensor_notes = sensors.notes;
  observer.sensors_opened(sensors.notes);

  Meter meter(std::move(sensors.sensors), ctx.clock,
              {checked->interval, checked->bucket, std::chrono::seconds(1)});
  meter.start();

  RunRecord& run = out.run;
  run = start_run_record(
      meter, {r.version, r.command, r.tags, &*checked, &r.choices, sensors.notes}, ctx.env);
  const AccountingInputs& inputs = checked->inputs;

  auto run_dir = create_run_dir(r.out, r.runs_dir, run.id);
  if (!run_dir) return run_dir.error();
  out.run_dir = *run_dir;
  std::error_code ec;
  auto journal = JournalWriter::create(out.run_dir, run);
  if (!journal) return journal.error();
  meter.set_journal(journal->get());

  Supervisor supervisor;
  if (*scheduled) (*scheduled)->configure(supervisor);
  SpawnError spawn_error;
  if (!supervisor.spawn(r.command, &spawn_error)) {
    journal.value().reset();
    std::filesystem::remove_all(out.run_dir, ec);
    out.spawn_error = spawn_error.message;
    out.exit_code = spawn_error.exit_code;
    return out;
  }
  out.job_ran = true;
  meter.attach_job(supervisor.pid());
  observer.job_started(supervisor.pid());
  meter.set_on_sample([&observer](const MeterStatus& s) { observer.sample(s); });
  meter.start_thread();
  JobExit exit =
      *scheduled ? (*scheduled)->execute(supervisor, [&meter](pid_t pid) { meter.attach_job(pid); })
                 : supervisor.wait();
  meter.finish(exit.cpu_s);
  observer.job_ended();

  finish_run_record(run, meter, **journal, exit.exit_code,
                    self_overhead(meter.samples(), to_seconds(checked->interval)));
  out.exit_code = exit.exit_code;
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
  account_and_record(run, out.run_dir, inputs, r.db, ctx, out.account);
  return out;
}

}  // namespace carbonclock

// Use case: `carbonclock run -- CMD`: meter a job's energy while it runs (optionally at the
// planned times), write its run directory, account its carbon and record it in the history.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "accounting/accounting.h"
#include "app/context.h"
#include "app/distributed.h"
#include "app/schedule.h"
#include "metering/meter.h"
#include "metering/run_record.h"
#include "sensors/estimate_sensor.h"

namespace carbonclock {

struct MeasureRequest {
  std::vector<std::string> command;  ///< argv of the job
  std::string interval = "1s";
  std::string bucket = "5m";
  std::string out;  ///< run directory; empty: runs_dir/<id>
  std::string runs_dir = "carbonclock-runs";
  std::string gpus = "all";
  bool no_gpu = false;
  std::vector<std::string> tags;
  double cpu_w_per_core = EstimateModel{}.cpu_w_per_core;
  double dram_w_per_gb = EstimateModel{}.dram_w_per_gb;
  AccountingChoices choices;  ///< zone, PUE, functional unit (defaults loaded by the caller)
  std::string db;
  ScheduleArgs schedule;  ///< carbon-aware execution
  std::string version;    ///< carbonclock's version, for run.json
};

/// Hears a run as it goes: sensors found, samples, the schedule's countdown.
class RunObserver : public ScheduleObserver {
 public:
  /// The sensors were opened: one line per missing or partial sensor.
  virtual void sensors_opened(const std::vector<std::string>& notes) { (void)notes; }
  /// A scheduled run's first plan, before any waiting.
  virtual void planned(const std::string& summary) { (void)summary; }
  /// The job started (its process group is `pid`).
  virtual void job_started(pid_t pid) { (void)pid; }
  /// Called from the sampler thread after each sample: keep it short.
  virtual void sample(const MeterStatus& status) { (void)status; }
  /// The job ended; the meter stopped.
  virtual void job_ended() {}
  /// The job was stopped by signal `sig` from someone else (not carbonclock's plan, not the
  /// terminal); it stays stopped until someone continues it or a termination signal comes.
  virtual void job_stopped(int sig) { (void)sig; }
  /// The job stopped by someone else runs again.
  virtual void job_continued() {}
  /// The job stopped at the terminal (Ctrl-Z, signal `sig`): carbonclock stops with it now;
  /// leave the terminal as the shell expects it.
  virtual void suspending(int sig) { (void)sig; }
  /// carbonclock and the job were continued (fg/bg).
  virtual void continued() {}
};

struct MeasureResult {
  /// The exit status to pass on: the job's (128+N after signal N, 127 not found, 126 not
  /// executable), or 128+N when a signal came before the job started.
  int exit_code = 0;
  bool job_ran = false;
  /// The command could not be started (exit_code 127 not found, 126 not executable); no run
  /// directory is left.
  std::optional<std::string> spawn_error;
  RunRecord run;
  std::filesystem::path run_dir;
  std::vector<std::string> sensor_notes;  ///< shown when the run started
  std::optional<CarbonAccount> account;   ///< unset when accounting failed (warned)
  std::string schedule_summary;           ///< scheduled runs: what happened
  std::vector<std::string> warnings;      ///< run-level problems (also in run.json)
  /// A task of a distributed job (Slurm, torchrun; app/distributed.h): `run_dir` is
  /// OUT/<job id>/<node>. A member (role kMember) writes only tasks/<rank>.json: `run` then
  /// holds no devices, and `account` is unset.
  struct Cluster {
    TaskRecord task;
    std::filesystem::path job_dir;
  };
  std::optional<Cluster> cluster;
};

/// Validates everything (options, zone, run directory) before starting the job, then runs it
/// to its end. Errors (before the job starts): bad options, an unknown zone, an unusable run
/// directory, a failed plan. Once the job has started nothing is an error: problems become
/// warnings and the job's exit status is returned.
Result<MeasureResult> measure_command(const MeasureRequest& request, AppContext& ctx,
                                      RunObserver& observer);

}  // namespace carbonclock

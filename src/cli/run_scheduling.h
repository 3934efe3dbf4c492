// Carbon-aware execution glue for `carbonclock run` and `carbonclock plan`: parses the
// scheduling options, builds the intensity the plan rests on, drives the executor around the
// supervisor and writes the schedule into run.json. The logic is in src/execution/.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "execution/executor.h"
#include "execution/job_control.h"
#include "execution/planning_intensity.h"
#include "execution/schedule_record.h"
#include "execution/supervisor.h"
#include "execution/watchdog.h"
#include "grid/store.h"
#include "metering/run_record.h"

namespace carbonclock::cli {

/// The scheduling options as typed.
struct ScheduleArgs {
  std::string flex_start;                      ///< N: "12h" or "50%"
  std::string pause_resume;                    ///< N
  std::string deadline;                        ///< T: UTC time or "+DURATION" from now
  std::string deadline_mode = "pause-resume";  ///< with --deadline alone
  std::string expected_duration;
  std::string slot = "5m";
  std::string signal, factor;
  std::string intensity_file;
  std::string forecast_source;  ///< watttime | electricitymaps | ukci: fetch before planning
  std::string pause_signal;
  std::string resume_command;
  std::string pause_grace = "60s";

  /// True when any of --flex-start, --pause-resume, --deadline was given.
  bool active() const { return !flex_start.empty() || !pause_resume.empty() || !deadline.empty(); }
};

/// Registers --flex-start, --pause-resume, --deadline, --deadline-mode, --slot, --signal,
/// --factor, --intensity-file; with `run_options` also --expected-duration, --pause-signal,
/// --resume-command, --pause-grace.
void add_schedule_options(CLI::App* cmd, ScheduleArgs& args, bool run_options);

/// The parsed request: algorithm, deadline, the job's expected duration, the slot.
struct ScheduleRequestSpec {
  Algorithm algorithm = Algorithm::kPauseResume;
  SysTime requested_start_utc;
  SysTime deadline_utc;
  Nanos expected_duration{};
  Nanos slot{};
  std::string window;  ///< "50%", "12h" or "deadline"
  std::optional<Signal> signal;
  std::optional<Factor> factor;
};

/// Parses the scheduling options for a job of `expected_duration` requested at `now`.
/// Errors: none or several of --flex-start/--pause-resume/--deadline, bad N, bad deadline, slot
/// under 1s.
Result<ScheduleRequestSpec> parse_schedule(const ScheduleArgs& args, Nanos expected_duration,
                                           SysTime now);

/// Opens the store for planning: `db` when given, else the default path when that file exists;
/// nullopt (no store) otherwise.
Result<std::optional<GridStore>> open_planning_store(const std::string& db);

/// A forecast fetched for planning: where it is stored and what it is.
struct FetchedForecast {
  std::string store_zone;  ///< the provider's zone id the series is stored under
  Signal signal = Signal::kAverage;
  Factor factor = Factor::kLifecycle;
  std::string note;  ///< one line for the terminal: what was fetched, or that the cache served
};

/// Fetches `source`'s current forecast for the catalogue zone `zone` into `store` (credentials
/// and base URLs as for `grid fetch`; a forecast issued recently enough is reused without a
/// request). WattTime is asked for the zone's WattTime region. Error for an unknown source, a
/// zone the provider cannot serve, or a failed request (callers warn and plan on stored data).
Result<FetchedForecast> fetch_planning_forecast(const std::string& source, const std::string& zone,
                                                GridStore& store, SysTime from, SysTime to);

/// Applies a fetched forecast to planning sources: stored data is looked up under its zone id
/// and, unless the user chose them, its signal and factor.
void use_fetched_forecast(const FetchedForecast& fetched, IntensitySources& sources);

/// The intensity function the executor re-reads at every slot boundary.
IntensityFn make_intensity_fn(IntensitySources sources);

/// `carbonclock run` with scheduling: plans, waits for the first slot, supervises the job.
class ScheduledRun {
 public:
  /// nullptr when no scheduling option was given. `zone` is the run's grid zone (from
  /// --zone/--region or the default); `db` the --db option.
  static Result<std::unique_ptr<ScheduledRun>> prepare(const ScheduleArgs& args,
                                                       const std::string& zone,
                                                       const std::string& db, bool quiet);
  ~ScheduledRun();

  /// Waits (countdown on the status line) until the plan says run. 0: start the job now;
  /// 128+N: a termination signal came first (nothing was started).
  int wait_for_start();
  /// Makes the supervisor spawn the job in a new session (see Supervisor::set_new_session).
  void configure(Supervisor& supervisor);
  /// After spawn: pauses and resumes the job per plan until it ends. `on_restart` learns the
  /// pid of a job restarted by --resume-command (the meter follows it).
  JobExit execute(Supervisor& supervisor, std::function<void(pid_t)> on_restart = {});
  /// Adds the plan, the realised schedule and the savings to the run record; prints a line.
  void record(RunRecord& run);

 private:
  ScheduledRun() = default;
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace carbonclock::cli

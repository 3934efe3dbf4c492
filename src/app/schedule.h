// Use cases of carbon-aware execution: `plan` (a plan for a job, without running anything) and
// the scheduled part of `run` (ScheduledRun: plan, wait for the first slot, pause and resume the
// job per plan, record the schedule). The logic is in src/execution; the intensity comes from
// the intensity provider's planning chain, after fetching a provider forecast when asked.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/context.h"
#include "common/error.h"
#include "execution/executor.h"
#include "execution/job_control.h"
#include "execution/supervisor.h"
#include "forecasting/quantile.h"
#include "metering/run_record.h"
#include "regions/catalogue.h"

namespace carbonclock {

/// The scheduling options as typed (shared by the CLI and Python front ends).
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
  /// "" or point | p10 | p50 | p90: plan on this quantile of carbonclock's own forecast's
  /// prediction interval (docs/forecasting.md "Planning on a quantile").
  std::string risk;
  std::string pause_signal;
  std::string resume_command;
  std::string pause_grace = "60s";

  /// True when any of --flex-start, --pause-resume, --deadline was given.
  bool active() const { return !flex_start.empty() || !pause_resume.empty() || !deadline.empty(); }
};

/// The parsed request: algorithm, deadline, the job's expected duration, the slot.
struct ScheduleSpec {
  Algorithm algorithm = Algorithm::kPauseResume;
  SysTime requested_start_utc;
  SysTime deadline_utc;
  Nanos expected_duration{};
  Nanos slot{};
  std::string window;  ///< "50%", "12h" or "deadline"
  std::optional<Signal> signal;
  std::optional<Factor> factor;
  ForecastQuantile risk = ForecastQuantile::kPoint;  ///< --risk
};

/// What --risk did to a plan: how many of its slots rest on the asked quantile of carbonclock's
/// own forecast (the only basis with prediction intervals), and what the others rest on.
struct RiskUse {
  ForecastQuantile quantile = ForecastQuantile::kPoint;  ///< asked
  size_t slots = 0;                                      ///< the plan's slots
  size_t on_quantile = 0;  ///< slots planned on the quantile of carbonclock's own forecast
  /// "planned on p90 of carbonclock's own forecast (regression) for 24 of 24 slots", or the
  /// labelled fall-back: "--risk p90: 12 of 24 slots rest on forecast (watttime), which has no
  /// prediction intervals: planned on its values as they are". Empty for the point forecast.
  std::string text;
};
/// Counts from the plan's intensity (its provenance per slot).
RiskUse risk_use(const SlottedIntensity& intensity, ForecastQuantile quantile);
/// {quantile, slots, slots_on_quantile, note}: plan JSON's `risk` and run.json's
/// `schedule.plan.risk` (schemas/plan.schema.json, schemas/run.schema.json).
nlohmann::ordered_json risk_to_json(const RiskUse& risk);

/// Re-planning reads the intensity and ranks every slot left before the deadline, at every slot
/// boundary, while termination signals wait: its cost (a few microseconds a slot) must stay a
/// small share of a slot. Windows are limited to this many slots per second of slot length
/// (a 1s slot: 5.5 h) and this many in all (a 5m slot: 694 days).
constexpr int64_t kMaxPlanSlotsPerSlotSecond = 20'000;
constexpr int64_t kMaxPlanSlots = 200'000;
/// The most slots a window may hold with slots of `slot`.
int64_t max_plan_slots(Nanos slot);

/// Parses the scheduling options for a job of `expected_duration` requested at `now`.
/// Errors: none or several of --flex-start/--pause-resume/--deadline, bad N, bad deadline, slot
/// under 1s, a window of more slots than max_plan_slots() (the message names a slot that fits),
/// an unknown --risk, --risk with --intensity-file (a scripted file has no intervals).
Result<ScheduleSpec> parse_schedule(const ScheduleArgs& args, Nanos expected_duration, SysTime now);

// ---- plan ----------------------------------------------------------------------------------

struct PlanRequest {
  std::optional<std::string> zone, region;
  std::string zones;     ///< other zones to compare, comma-separated
  std::string duration;  ///< the job's running time (or from --profile)
  std::optional<double> energy_kwh;
  std::string profile;  ///< a run directory: its duration and energy, laid flat
  std::string db;
  ScheduleArgs schedule;
};

/// One zone's plan.
struct ZonePlan {
  std::string zone;
  std::optional<Error> error;
  Decision decision;
  SlottedIntensity intensity;
  RiskUse risk;  ///< what --risk did to this plan
  std::vector<RunInterval> runs;
  double expected_g = 0;
  double immediate_g = 0;
  double saving_pct() const;
};

struct PlanResult {
  ScheduleSpec spec;
  Nanos duration{};
  double energy_kwh = 0;
  std::string profile_note;  ///< "profile: DIR (1h, 0.3 kWh) laid flat"
  ZonePlan home;
  std::vector<ZonePlan> others;
  SysTime start_utc() const { return home.runs.front().start_utc; }
  size_t pauses() const { return home.runs.empty() ? 0 : home.runs.size() - 1; }
};

/// Plans the job in its zone and the others, as of ctx.clock's now. Errors: bad options, an
/// unknown zone, no intensity for the home zone (other zones' failures are in their plans).
Result<PlanResult> plan_job(const PlanRequest& request, AppContext& ctx);

// ---- run with a schedule -------------------------------------------------------------------

/// Hears the waiting countdown (front ends draw a status line).
class ScheduleObserver : public Observer {
 public:
  /// While waiting: the job is planned to run next at `next_run_utc` (called about each second).
  virtual void waiting(SysTime now, SysTime next_run_utc, double expected_saving_pct) {
    (void)now;
    (void)next_run_utc;
    (void)expected_saving_pct;
  }
  /// The wait is over (clear the status line).
  virtual void waiting_done() {}
};

/// `carbonclock run` with scheduling: plans, waits for the first slot, supervises the job.
class ScheduledRun {
 public:
  /// nullptr when no scheduling option was given. `zone` is the run's grid zone.
  static Result<std::unique_ptr<ScheduledRun>> prepare(const ScheduleArgs& args,
                                                       const ZoneSelection& zone,
                                                       const std::string& db, AppContext& ctx,
                                                       ScheduleObserver& observer);
  ~ScheduledRun();

  /// Waits until the plan says run. 0: start the job now; 128+N: a termination signal came
  /// first (nothing was started).
  int wait_for_start();
  /// Makes the supervisor spawn the job in a new session (see Supervisor::set_new_session).
  void configure(Supervisor& supervisor);
  /// After spawn: pauses and resumes the job per plan until it ends. `on_restart` learns the
  /// pid of a job restarted by --resume-command (the meter follows it).
  JobExit execute(Supervisor& supervisor, std::function<void(pid_t)> on_restart = {});
  /// Adds the plan, the realised schedule and the savings to the run record.
  void record(RunRecord& run);
  /// One line on the first plan: algorithm, deadline, runs, expected saving, intensity.
  std::string plan_summary() const;
  /// One line on what happened: runs, pauses, saving (after record()).
  std::string outcome_summary() const;

 private:
  ScheduledRun() = default;
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace carbonclock

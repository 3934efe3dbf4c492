// The carbon-aware executor: runs a job in the cleanest slots before its deadline. Flexible
// Start waits (re-planning at every slot boundary) and then runs the job to completion; Pause
// and Resume also pauses and resumes it at slot boundaries, re-planning the work left over the
// latest intensity each time. The deadline is a promise: when the slack reaches zero the job
// runs straight through to the end. The OS side (signals, resume commands, watchdog) is behind
// JobControl, so the logic runs against a fake job and a ManualClock in tests.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "execution/online_planner.h"
#include "execution/supervisor.h"
#include "shifting/plan.h"

namespace carbonclock {

/// What pausing did.
enum class PauseKind {
  kStopped,       ///< SIGSTOP to the job's process group
  kCheckpointed,  ///< the job exited 0 after --pause-signal; --resume-command restarts it
  kStopFallback,  ///< the job ignored --pause-signal for the grace period: SIGSTOP instead
  kJobEnded,      ///< the job ended otherwise while being paused (its exit is final)
};

struct PauseOutcome {
  PauseKind kind = PauseKind::kStopped;
  std::optional<JobExit> exit;  ///< kJobEnded: how it ended
  std::string note;
};

/// What resuming did.
struct ResumeOutcome {
  /// Set when the job had already been resumed (by the watchdog, keeping the deadline): then.
  std::optional<SysTime> resumed_at;
  std::string note;
};

/// The job, as the executor drives it.
class JobControl {
 public:
  virtual ~JobControl() = default;
  /// Blocks until wall-clock `until`, the job's end or a termination signal (which the real
  /// implementation forwards to the job), whichever comes first. Without a running job
  /// (before its start, or checkpointed) it only sleeps and watches for signals. A paused job
  /// resumed meanwhile without being asked (WaitResult::resumed_at) also ends the wait.
  virtual WaitResult wait_until(SysTime until) = 0;
  /// Pauses the running job. `latest_resume_utc`: the job must run again by then to finish by
  /// the deadline (the real implementation has the watchdog keep it). Error when it cannot
  /// pause safely: the job then still runs.
  virtual Result<PauseOutcome> pause(SysTime latest_resume_utc) = 0;
  /// Resumes a paused job (SIGCONT, or runs the resume command). Error when it cannot: the
  /// message says what to run by hand.
  virtual Result<ResumeOutcome> resume() = 0;
};

/// One entry of the realised schedule.
struct ScheduleEvent {
  SysTime at_utc;
  std::string action;  ///< plan | start | pause | resume | straight-through | signal | exit | note
  std::string note;
};

/// [start, end) while the job ran.
struct RunInterval {
  SysTime start_utc;
  SysTime end_utc;
};

struct ExecutionOptions {
  Algorithm algorithm = Algorithm::kPauseResume;
  SysTime deadline_utc;       ///< the job must have finished by then
  Nanos expected_duration{};  ///< running time the job needs
};

/// The intensity to plan on over [from, to), as known at `as_of`.
using IntensityFn =
    std::function<Result<SlottedIntensity>(SysTime as_of, SysTime from, SysTime to)>;

/// A status-line update: what the executor does now.
struct ExecutionStatus {
  bool running = false;
  SysTime next_change_utc;  ///< when the state may change next
  SysTime next_run_utc;     ///< while waiting: when the job is planned to run next
  double expected_saving_pct = 0;
  std::string text;  ///< "waiting 12m34s for a cleaner slot (expected saving 23 %)"
};

class Executor {
 public:
  /// `status` (optional) is called at each decision. The first intensity is read by plan().
  Executor(ExecutionOptions options, IntensityFn intensity, Clock& clock,
           std::function<void(const ExecutionStatus&)> status = {});

  /// Makes the first plan. Errors: deadline in the past, deadline too close for the expected
  /// duration, no intensity for the window.
  Status plan();
  /// The first plan's decision (after plan()).
  const Decision& first_decision() const { return first_; }
  /// The intensity the first plan rests on.
  const SlottedIntensity& first_intensity() const { return first_intensity_; }
  /// When plan() was made.
  SysTime planned_at() const { return planned_at_; }

  /// Before the job starts: waits, re-planning at every slot boundary, until the plan says run.
  /// Returns 0 to start now, or 128+N when termination signal N arrived first.
  int wait_for_start(JobControl& job);
  /// From the job's start to its end: pauses and resumes it per plan; returns how it ended.
  /// A termination signal forwarded to the job stops all planning (the job is continued).
  JobExit supervise(JobControl& job);

  const std::vector<ScheduleEvent>& events() const { return events_; }
  const std::vector<RunInterval>& running() const { return running_; }
  /// The latest intensity planned on (forecasts re-read during the run).
  const SlottedIntensity& latest_intensity() const { return intensity_; }
  /// Error text when resuming failed (the job could not be continued), else empty.
  const std::string& resume_error() const { return resume_error_; }

 private:
  Decision decide_now(SysTime now, bool started);
  void refresh_intensity(SysTime now);
  double run_s(SysTime now) const;
  /// The latest time the job may run again and still finish by the deadline.
  SysTime latest_resume(SysTime now) const;
  /// No slack left: the job must run from now to the end.
  bool slack_exhausted(SysTime now) const;
  void event(SysTime at, std::string action, std::string note = {});
  void report(const Decision& d, SysTime now, bool running);

  ExecutionOptions options_;
  IntensityFn intensity_fn_;
  Clock& clock_;
  std::function<void(const ExecutionStatus&)> status_;
  SlottedIntensity intensity_;
  SlottedIntensity first_intensity_;
  Decision first_;
  SysTime planned_at_{};
  std::vector<ScheduleEvent> events_;
  std::vector<RunInterval> running_;
  std::optional<SysTime> run_since_;
  double run_done_s_ = 0;
  bool straight_ = false;
  bool intensity_error_noted_ = false;
  std::string resume_error_;
};

}  // namespace carbonclock

// The real JobControl: a job under a Supervisor, paused with SIGSTOP (default) or with a pause
// signal the job answers by checkpointing and exiting, resumed with SIGCONT or a resume command,
// and registered with the Watchdog whenever it may be stopped.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "execution/executor.h"
#include "execution/supervisor.h"
#include "execution/watchdog.h"

namespace carbonclock {

/// How to pause and resume.
struct PauseMethod {
  int pause_signal = 0;                     ///< 0: SIGSTOP the process group
  std::vector<std::string> resume_command;  ///< with pause_signal: restarts from the checkpoint
  Nanos grace{std::chrono::seconds(60)};    ///< how long the job may take to exit on the signal
};

/// Parses a signal name or number: "USR1", "SIGUSR1", "TERM", "10". Error lists examples.
Result<int> parse_signal_name(std::string_view text);

class ProcessJobControl final : public JobControl {
 public:
  /// `supervisor` has spawned the job (new session) or will before the first pause; the
  /// watchdog is told about every process group carbonclock may leave stopped. Without a
  /// watchdog (null) the job is never paused: pause() says so.
  ProcessJobControl(Supervisor& supervisor, Watchdog* watchdog, Clock& clock, PauseMethod method);

  /// Registers the supervisor's current job with the watchdog (call right after spawn).
  void job_started();
  /// Called with the new process's pid after the resume command restarted the job.
  void set_on_restart(std::function<void(pid_t)> fn) { on_restart_ = std::move(fn); }

  /// While the job is paused, also confirms the watchdog at every wake-up (at least once a
  /// second): a watchdog that is lost (gone, stopped, frozen) gets the job resumed at once
  /// (WaitResult::safety_lost), and one that resumed the job at its latest resume time is
  /// reported (WaitResult::resumed_at).
  WaitResult wait_until(SysTime until) override;
  /// Confirms a live watchdog and tells it the latest resume time before pausing; Error (the
  /// job not paused) when it cannot.
  Result<PauseOutcome> pause(SysTime latest_resume_utc) override;
  Result<ResumeOutcome> resume() override;

 private:
  void job_ended();
  /// Pings the watchdog while the job is paused; see wait_until.
  WaitResult check_watchdog();
  /// Runs the resume command now (the job is checkpointed).
  Status restart();
  bool paused() const { return stopped_ || checkpointed_; }
  Supervisor& supervisor_;
  Watchdog* watchdog_;
  Clock& clock_;
  PauseMethod method_;
  bool stopped_ = false;
  bool checkpointed_ = false;
  pid_t watched_ = -1;
  std::function<void(pid_t)> on_restart_;
};

}  // namespace carbonclock

// Supervising a job: spawn it directly (no shell) in its own process group, pass its
// stdin/stdout/stderr through untouched, forward termination signals to the group, and
// report how it ended. It behaves like a shell's job control: a job stopped from the terminal
// (Ctrl-Z) stops carbonclock too and is continued with it; a job stopped by someone else is
// reported and continued when a termination signal must reach it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/time.h"

namespace carbonclock {

struct JobExit {
  int exit_code = 0;  ///< the child's exit code, or 128+N when it died of signal N
  int signal = 0;     ///< N when it died of a signal, else 0
  double cpu_s = 0;   ///< user + system CPU seconds of the job's whole tree (from wait4)
};

/// What Supervisor::wait_for (and JobControl::wait_until) saw: the job's end, a termination
/// signal forwarded to it, or neither (the time came).
struct WaitResult {
  std::optional<JobExit> exit;  ///< set when the job ended
  int forwarded_signal = 0;     ///< SIGINT/SIGTERM/SIGHUP/SIGQUIT received and forwarded
  /// Set when the paused job was resumed without being asked to (JobControl::wait_until): the
  /// watchdog kept the deadline while carbonclock could not, or the watchdog was lost and the
  /// job was resumed at once. From then on it runs straight through.
  std::optional<SysTime> resumed_at;
  std::string resumed_note;  ///< why (for the schedule's events)
  bool safety_lost = false;  ///< the watchdog was lost (warn the user)
};

/// Failure to start: exit 127 for an unknown command, 126 for one that cannot be executed.
struct SpawnError {
  int exit_code = 127;
  std::string message;
};

/// What the supervisor tells its owner while it waits; called on the waiting thread.
class SupervisorEvents {
 public:
  virtual ~SupervisorEvents() = default;
  /// The job was stopped by signal `sig` from someone other than carbonclock or the terminal;
  /// it stays stopped until someone continues it (or a termination signal arrives).
  virtual void job_stopped(int sig) { (void)sig; }
  /// The job stopped by someone else runs again.
  virtual void job_continued() {}
  /// The job stopped on the terminal's signal `sig` (Ctrl-Z, background tty access):
  /// carbonclock is about to stop itself the same way (restore the terminal now).
  virtual void stopping_self(int sig) { (void)sig; }
  /// carbonclock was continued (fg/bg) and continues the job.
  virtual void continued_self() {}
};

class Supervisor {
 public:
  /// Blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGCHLD in the calling thread; call before
  /// any other thread starts so that every thread inherits the mask and wait() receives them.
  static void block_signals();

  Supervisor() = default;
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  /// Spawns argv[0] (searched in PATH) in a new process group with default signal handling.
  /// When carbonclock owns the terminal's foreground, the job's group takes it over so the
  /// job reads the terminal and gets Ctrl-C as if run directly.
  bool spawn(const std::vector<std::string>& argv, SpawnError* error);
  pid_t pid() const { return pid_; }
  /// Receives stop/continue notices (may be null). Not owned.
  void set_events(SupervisorEvents* events) { events_ = events; }

  /// Waits for the job to exit, forwarding SIGINT/SIGTERM/SIGHUP/SIGQUIT to its process group
  /// (and SIGCONT after them while the job is stopped, so it can act on them). A job that
  /// stops on SIGTSTP/SIGTTIN/SIGTTOU while in carbonclock's session stops carbonclock's own
  /// process group the same way, as the terminal would have; when carbonclock is continued it
  /// gives the terminal back (if it holds it) and continues the job. While this process
  /// adopts orphans (adopt_orphans() in sensors/process_tree.h), wait() and wait_for() also
  /// reap the job's exited orphans, never the job or a helper.
  JobExit wait();

  // ---- carbon-aware execution (src/execution/executor.h) ----

  /// Spawn later jobs as leaders of a new session (setsid) instead of a new process group in
  /// carbonclock's session: a stopped job then never becomes a newly orphaned process group
  /// when carbonclock dies, which the kernel would answer with SIGHUP (killing it). The job
  /// keeps stdin/stdout/stderr but does not get the terminal's foreground; carbonclock keeps
  /// it and forwards Ctrl-C. Such a job also gets SIGCONT as its parent-death signal: should
  /// carbonclock and its watchdog both die at once, its first process is continued still.
  /// Call before spawn().
  void set_new_session(bool on) { new_session_ = on; }
  /// Sends `signal` to the job's process group; Error when there is no job or kill fails.
  Status signal_group(int signal);
  /// Waits at most `timeout` for the job to exit; a termination signal that arrives meanwhile
  /// is forwarded to the job's group (and the group continued, so a stopped job can act on
  /// it) and returned at once. Pending signals are taken even when `timeout` is zero or the
  /// call comes late. Neither: both fields empty.
  WaitResult wait_for(Nanos timeout);
  /// True while a spawned job has not been reaped.
  bool running() const { return pid_ > 0 && !reaped_; }
  /// While set, the job's stops are carbonclock's own pauses: not reported as someone else's.
  void expect_stops(bool on) { expect_stops_ = on; }
  /// Takes over `pid`, a child of this process started by someone else (the watchdog's
  /// restart of a checkpointed job), as the job.
  void adopt(pid_t pid);

 private:
  void restore_terminal();
  void give_terminal();
  /// Handles one wait4 status of the job that is not its end (a stop or a continue).
  void on_state_change(int status);
  std::optional<JobExit> poll_exit();
  pid_t pid_ = -1;
  bool gave_terminal_ = false;
  bool new_session_ = false;
  bool reaped_ = false;
  bool expect_stops_ = false;
  int stopped_by_ = 0;  ///< the signal that stopped the job (someone else's), else 0
  SupervisorEvents* events_ = nullptr;
};

}  // namespace carbonclock

// Supervising a job: spawn it directly (no shell) in its own process group, pass its
// stdin/stdout/stderr through untouched, forward termination signals to the group, and
// report how it ended.
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

/// What Supervisor::wait_until saw: the job's end, a termination signal forwarded to it, or
/// neither (the time came).
struct WaitResult {
  std::optional<JobExit> exit;  ///< set when the job ended
  int forwarded_signal = 0;     ///< SIGINT/SIGTERM/SIGHUP/SIGQUIT received and forwarded
};

/// Failure to start: exit 127 for an unknown command, 126 for one that cannot be executed.
struct SpawnError {
  int exit_code = 127;
  std::string message;
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

  /// Waits for the job to exit, forwarding SIGINT/SIGTERM/SIGHUP/SIGQUIT to its process group.
  /// While this process adopts orphans (adopt_orphans() in sensors/process_tree.h), wait()
  /// and wait_for() also reap the job's exited orphans, never the job or a helper.
  JobExit wait();

  // ---- carbon-aware execution (src/execution/executor.h) ----

  /// Spawn later jobs as leaders of a new session (setsid) instead of a new process group in
  /// carbonclock's session: a stopped job then never becomes a newly orphaned process group
  /// when carbonclock dies, which the kernel would answer with SIGHUP (killing it). The job
  /// keeps stdin/stdout/stderr but does not get the terminal's foreground; carbonclock keeps
  /// it and forwards Ctrl-C. Call before spawn().
  void set_new_session(bool on) { new_session_ = on; }
  /// Sends `signal` to the job's process group; Error when there is no job or kill fails.
  Status signal_group(int signal);
  /// Waits at most `timeout` for the job to exit; a termination signal that arrives meanwhile
  /// is forwarded to the job's group (and the group continued, so a stopped job can act on
  /// it) and returned at once. Neither: both fields empty.
  WaitResult wait_for(Nanos timeout);
  /// True while a spawned job has not been reaped.
  bool running() const { return pid_ > 0 && !reaped_; }

 private:
  void restore_terminal();
  pid_t pid_ = -1;
  bool gave_terminal_ = false;
  bool new_session_ = false;
  bool reaped_ = false;
};

}  // namespace carbonclock

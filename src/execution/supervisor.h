// Supervising a job: spawn it directly (no shell) in its own process group, pass its
// stdin/stdout/stderr through untouched, forward termination signals to the group, and
// report how it ended.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"

namespace carbonclock {

struct JobExit {
  int exit_code = 0;  ///< the child's exit code, or 128+N when it died of signal N
  int signal = 0;     ///< N when it died of a signal, else 0
  double cpu_s = 0;   ///< user + system CPU seconds of the job's whole tree (from wait4)
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
  JobExit wait();

 private:
  void restore_terminal();
  pid_t pid_ = -1;
  bool gave_terminal_ = false;
};

}  // namespace carbonclock

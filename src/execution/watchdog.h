// The watchdog: a paused job is never left stopped. A small process forked from carbonclock
// holds one end of a socket pair whose other end only carbonclock holds (close-on-exec, so jobs
// never inherit it). carbonclock tells it which process groups to look after; when the connection
// closes for any reason (normal exit, crash, SIGKILL) the watchdog sends SIGCONT to every group
// still registered and exits.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"

namespace carbonclock {

class Watchdog {
 public:
  /// Forks the watchdog. It runs in its own process group, ignores SIGINT/SIGTERM/SIGHUP/
  /// SIGQUIT/SIGPIPE, keeps only stderr open (for one line when it had to continue a job) and
  /// touches nothing but read(), kill() and write() after fork. Error when pipe or fork fails.
  /// `resume_command` (argv, may be empty) is what restarts a job that checkpointed and
  /// exited (--pause-signal): if carbonclock goes away while the job is checkpointed, the
  /// watchdog runs it, detached in a new session, so the job is never lost.
  static Result<Watchdog> start(std::vector<std::string> resume_command = {});

  Watchdog(Watchdog&& other) noexcept;
  Watchdog& operator=(Watchdog&& other) noexcept;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  /// Closes the pipe and reaps the watchdog; any group still registered is continued.
  ~Watchdog();

  /// Registers a process group to continue if carbonclock goes away (at most 64 at once).
  Status watch(pid_t pgid);
  /// Unregisters it (the job has ended; its id may be reused).
  Status unwatch(pid_t pgid);
  /// The job has checkpointed and exited: run the resume command if carbonclock goes away.
  Status checkpointed();
  /// The job runs again (the resume command was started): nothing to restart any more.
  Status resumed();
  /// The watchdog's process id.
  pid_t pid() const { return pid_; }

 private:
  Watchdog(int write_fd, pid_t pid) : write_fd_(write_fd), pid_(pid) {}
  Status send(int32_t message);
  void close_and_reap();
  int write_fd_ = -1;
  pid_t pid_ = -1;
};

}  // namespace carbonclock

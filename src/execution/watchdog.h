// The watchdog: a paused job is never left stopped. A small process started by carbonclock
// holds one end of a socket pair whose other end only carbonclock holds (close-on-exec, so jobs
// never inherit it). carbonclock tells it which process groups to look after; when the
// connection closes for any reason (normal exit, crash, SIGKILL) the watchdog sends SIGCONT to
// every group still registered and exits. It also keeps the deadline while carbonclock cannot:
// told the latest time a paused job may resume, it resumes the job itself at that time if
// carbonclock has not (carbonclock stopped, frozen or too slow).
//
// Every request is answered, so carbonclock can confirm a live watchdog before each pause: a
// watchdog that is gone, stopped or frozen does not answer, and carbonclock then does not pause.
//
// The watchdog is recognisable: its command line is `carbonclock-watchdog` and its process name
// (comm, 15 characters at most) `carbon-watchdog`, which `pkill carbonclock` does not match. It
// runs in its own session (a kill of carbonclock's process group or terminal does not reach it),
// ignores the terminal's signals and, where permitted, sets its OOM score adjustment to -1000.
// Where the program that links it has the watchdog's entry point in its main executable (the
// carbonclock binary, the tests), it re-executes itself (/proc/self/exe) so that it holds none
// of carbonclock's memory; elsewhere (carbonclock loaded as a library) it stays a fork.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/time.h"

namespace carbonclock {

/// What the watchdog did on its own since carbonclock last asked.
struct WatchdogAction {
  enum class Kind {
    kNone,
    kContinued,  ///< the latest resume time came: it sent SIGCONT to the registered groups
    kRestarted,  ///< the latest resume time came while checkpointed: it ran the resume command
  };
  Kind kind = Kind::kNone;
  SysTime at_utc{};  ///< when it acted
  pid_t pid = -1;    ///< kRestarted: the restarted job, a child of carbonclock (CLONE_PARENT)
};

class Watchdog {
 public:
  /// How the watchdog process is made.
  enum class Launch {
    kAuto,      ///< re-execute this program when it carries the entry point, else fork
    kFork,      ///< fork only (what a library host gets)
    kExecSelf,  ///< re-execute /proc/self/exe; Error when this program cannot run the watchdog
  };

  /// Starts the watchdog and waits (at most 10 s) until it says it is ready. Error when the
  /// socket pair, fork or exec fails or it does not answer. `resume_command` (argv, may be
  /// empty) restarts a job that checkpointed and exited (--pause-signal): if carbonclock goes
  /// away, or the latest resume time passes, while the job is checkpointed, the watchdog runs
  /// it, in a new session.
  static Result<Watchdog> start(std::vector<std::string> resume_command = {},
                                Launch launch = Launch::kAuto);

  /// The command line's argv[0] and the process name the watchdog runs under.
  static constexpr const char* kCommandName = "carbonclock-watchdog";
  static constexpr const char* kProcessName = "carbon-watchdog";
  /// How long carbonclock waits for an answer before it takes the watchdog for lost.
  static constexpr Nanos kAnswerTimeout = std::chrono::seconds(2);

  Watchdog(Watchdog&& other) noexcept;
  Watchdog& operator=(Watchdog&& other) noexcept;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  /// Closes the connection and reaps the watchdog; any group still registered is continued.
  ~Watchdog();

  // Each request below waits for the watchdog's answer; an Error means it is not confirmed
  // alive (gone, stopped or frozen): do not rely on it.

  /// Registers a process group to continue if carbonclock goes away (at most 64 at once).
  Status watch(pid_t pgid);
  /// Unregisters it (the job has ended; its id may be reused).
  Status unwatch(pid_t pgid);
  /// The job (its leader `pid`) is being sent its pause signal and may take until `until` to
  /// save its checkpoint and exit: if carbonclock goes away meanwhile, wait for the job to exit
  /// (until then at most) and run the resume command. checkpointed() or resumed() ends it.
  Status checkpointing(pid_t pid, SysTime until);
  /// The job has checkpointed and exited: run the resume command if carbonclock goes away.
  Status checkpointed();
  /// Nothing to restart any more: the resume command was started, or carbonclock ends on
  /// purpose while the job sits at its checkpoint (a termination signal).
  Status resumed();
  /// The job is paused: resume it at `at` (SIGCONT, or the resume command when checkpointed)
  /// unless carbonclock calls resuming() first.
  Status resume_by(SysTime at);
  /// carbonclock resumes the job now: cancels resume_by. Says whether the watchdog already
  /// did (then carbonclock must not resume it a second time).
  Result<WatchdogAction> resuming();
  /// Confirms the watchdog is alive and answering; says whether it acted on its own.
  Result<WatchdogAction> ping();

  /// The watchdog's process id.
  pid_t pid() const { return pid_; }
  /// Whether it re-executed itself (else it is a fork of carbonclock).
  bool exec_self() const { return exec_self_; }

 private:
  Watchdog(int fd, pid_t pid, bool exec_self) : fd_(fd), pid_(pid), exec_self_(exec_self) {}
  Result<WatchdogAction> request(int32_t type, int32_t pid, int64_t value);
  void close_and_reap();
  int fd_ = -1;
  pid_t pid_ = -1;
  bool exec_self_ = false;
  bool lost_ = false;
};

}  // namespace carbonclock

#include "execution/supervisor.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>

#include "common/files.h"
#include "sensors/process_tree.h"

namespace carbonclock {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr std::chrono::seconds kSigchldGuard{1};

sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwarded) sigaddset(&set, s);
  sigaddset(&set, SIGCHLD);
  return set;
}

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
}

// How a reaped job ended, from wait4's status and resource usage.
JobExit job_exit(int status, const struct rusage& ru) {
  JobExit e;
  e.cpu_s = seconds(ru.ru_utime) + seconds(ru.ru_stime);
  if (WIFEXITED(status)) {
    e.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
    e.exit_code = 128 + e.signal;
  }
  return e;
}

}  // namespace

void Supervisor::block_signals() {
  sigset_t set = handled_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Supervisor::~Supervisor() { restore_terminal(); }

bool Supervisor::spawn(const std::vector<std::string>& argv, SpawnError* error) {
  // Everything the child needs is built before fork: it only calls async-signal-safe
  // functions (the meter's thread may be running when a resume command is started).
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // fork and exec rather than posix_spawn: the job of a scheduled run needs a parent-death
  // signal (prctl), which posix_spawn cannot set. A close-on-exec pipe carries exec's errno.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    error->exit_code = 126;
    error->message = fmt::format("{}: cannot start: pipe: {}", argv[0], errno_text(errno));
    return false;
  }
  const bool new_session = new_session_;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    if (new_session) {
      ::setsid();
      ::prctl(PR_SET_PDEATHSIG, SIGCONT);
    } else {
      ::setpgid(0, 0);
    }
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE}) {
      ::sigaction(s, &dfl, nullptr);
    }
    sigset_t empty;
    sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::execvp(args[0], args.data());
    int e = errno;
    (void)!::write(report[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(report[1]);
  if (pid < 0) {
    int e = errno;
    ::close(report[0]);
    error->exit_code = 126;
    error->message = fmt::format("{}: cannot start: fork: {}", argv[0], errno_text(e));
    return false;
  }
  if (!new_session) ::setpgid(pid, pid);  // both sides, as shells do: no race with tcsetpgrp
  int exec_errno = 0;
  ssize_t n;
  while ((n = ::read(report[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    error->exit_code = exec_errno == ENOENT ? 127 : 126;
    error->message = exec_errno == ENOENT
                         ? fmt::format("{}: command not found", argv[0])
                         : fmt::format("{}: cannot execute: {}", argv[0], errno_text(exec_errno));
    return false;
  }
  pid_ = pid;
  reaped_ = false;
  stopped_by_ = 0;
  // Hand the terminal to the job when we hold it, as a shell does for a foreground job.
  give_terminal();
  return true;
}

void Supervisor::adopt(pid_t pid) {
  pid_ = pid;
  reaped_ = false;
  stopped_by_ = 0;
}

void Supervisor::give_terminal() {
  if (new_session_ || pid_ <= 0 || !::isatty(STDIN_FILENO)) return;
  if (::tcgetpgrp(STDIN_FILENO) != ::getpgrp()) return;
  if (::tcsetpgrp(STDIN_FILENO, pid_) == 0) gave_terminal_ = true;
}

void Supervisor::restore_terminal() {
  if (!gave_terminal_) return;
  gave_terminal_ = false;
  // We are a background group now: block SIGTTOU while taking the terminal back.
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  pthread_sigmask(SIG_BLOCK, &ttou, &old);
  ::tcsetpgrp(STDIN_FILENO, ::getpgrp());
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void Supervisor::on_state_change(int status) {
  if (WIFCONTINUED(status)) {
    if (stopped_by_ != 0) {
      stopped_by_ = 0;
      if (events_ != nullptr) events_->job_continued();
    }
    return;
  }
  if (!WIFSTOPPED(status) || expect_stops_) return;  // carbonclock's own pause
  const int sig = WSTOPSIG(status);
  const bool terminal_stop = sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
  if (terminal_stop && !new_session_) {
    // Job control as a shell does it: the terminal stopped the job (the foreground group we
    // gave it), so the user's job, carbonclock's own process group, stops the same way. The
    // kernel ignores the stop when that group is orphaned; then the job simply goes on.
    if (events_ != nullptr) events_->stopping_self(sig);
    restore_terminal();
    ::kill(0, sig);
    // Continued (fg or bg): the job goes on with us, in the foreground if we are.
    if (events_ != nullptr) events_->continued_self();
    give_terminal();
    ::kill(-pid_, SIGCONT);
    return;
  }
  stopped_by_ = sig;
  if (events_ != nullptr) events_->job_stopped(sig);
}

std::optional<JobExit> Supervisor::poll_exit() {
  for (;;) {
    int status = 0;
    struct rusage ru {};
    pid_t r = ::wait4(pid_, &status, WNOHANG | WUNTRACED | WCONTINUED, &ru);
    if (r == pid_) {
      if (WIFSTOPPED(status) || WIFCONTINUED(status)) {
        on_state_change(status);
        continue;
      }
      reaped_ = true;
      restore_terminal();
      return job_exit(status, ru);
    }
    if (r == 0) return std::nullopt;
    if (r < 0 && errno == EINTR) continue;
    reaped_ = true;  // not our child any more
    restore_terminal();
    return JobExit{1, 0, 0};
  }
}

JobExit Supervisor::wait() {
  sigset_t set = handled_set();
  for (;;) {
    if (auto exit = poll_exit()) return *exit;
    // Sleep until a signal arrives. SIGCHLD is blocked in every thread (block_signals()), so
    // it stays pending until taken here; the timeout only guards against a thread that left
    // it unblocked. Each wake-up costs CPU, so it is long (1 s).
    timespec timeout{kSigchldGuard.count(), 0};
    int sig = ::sigtimedwait(&set, nullptr, &timeout);
    if (sig > 0 && sig != SIGCHLD) {
      ::kill(-pid_, sig);
      // A stopped job cannot act on it (bash's kill does the same for stopped jobs).
      if (stopped_by_ != 0) ::kill(-pid_, SIGCONT);
    }
    // Daemons of the job re-parented to carbonclock (adopt_orphans()) are reaped when a child
    // exits, one pid at a time, so the job's own status stays for wait4 above.
    if (sig == SIGCHLD) reap_adopted_orphans(pid_);
  }
}

Status Supervisor::signal_group(int signal) {
  if (pid_ <= 0 || reaped_) return make_error("no job to signal");
  if (::kill(-pid_, signal) != 0) {
    return make_error("cannot send signal {} to the job's process group {}: {}", signal, pid_,
                      errno_text(errno));
  }
  return {};
}

WaitResult Supervisor::wait_for(Nanos timeout) {
  sigset_t set = handled_set();
  WaitResult out;
  if (!running()) return out;
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto exit = poll_exit()) {
      out.exit = exit;
      return out;
    }
    // Sleep until a signal arrives; the cap guards against a missed SIGCHLD (see wait()). When
    // the time is already up, still take what is pending: a caller that is late (a slow
    // re-plan) must never leave a termination signal waiting.
    auto left = std::max<Nanos>(until - std::chrono::steady_clock::now(), Nanos(0));
    auto nap = std::min<Nanos>(left, kSigchldGuard);
    timespec ts{static_cast<time_t>(nap.count() / 1'000'000'000),
                static_cast<long>(nap.count() % 1'000'000'000)};
    int sig = ::sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGCHLD) {
      reap_adopted_orphans(pid_);
      continue;
    }
    if (sig > 0) {
      ::kill(-pid_, sig);
      ::kill(-pid_, SIGCONT);
      out.forwarded_signal = sig;
      return out;
    }
    if (left <= Nanos(0)) return out;
  }
}

}  // namespace carbonclock

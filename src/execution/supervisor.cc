#include "execution/supervisor.h"

#include <fmt/format.h>
#include <spawn.h>
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

extern char** environ;

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
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, defaults = handled_set();
  sigemptyset(&empty);
  sigaddset(&defaults, SIGTTOU);
  sigaddset(&defaults, SIGTTIN);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  // A new session makes the job its own process group too (setsid), so the flags exclude
  // each other.
  const short group_flag = new_session_ ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP;
  posix_spawnattr_setflags(&attr, group_flag | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int rc = posix_spawnp(&pid_, args[0], nullptr, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    error->exit_code = (rc == ENOENT) ? 127 : 126;
    error->message = rc == ENOENT ? fmt::format("{}: command not found", argv[0])
                                  : fmt::format("{}: cannot execute: {}", argv[0], errno_text(rc));
    return false;
  }
  reaped_ = false;
  // Hand the terminal to the job when we hold it, as a shell does for a foreground job.
  if (!new_session_ && ::isatty(STDIN_FILENO) && ::tcgetpgrp(STDIN_FILENO) == ::getpgrp()) {
    if (::tcsetpgrp(STDIN_FILENO, pid_) == 0) gave_terminal_ = true;
  }
  return true;
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

JobExit Supervisor::wait() {
  sigset_t set = handled_set();
  JobExit out;
  for (;;) {
    int status = 0;
    struct rusage ru {};
    pid_t r = ::wait4(pid_, &status, WNOHANG, &ru);
    if (r == pid_) {
      reaped_ = true;
      out = job_exit(status, ru);
      break;
    }
    if (r < 0 && errno != EINTR) {
      out.exit_code = 1;
      break;
    }
    // Sleep until a signal arrives. SIGCHLD is blocked in every thread (block_signals()), so
    // it stays pending until taken here; the timeout only guards against a thread that left
    // it unblocked. Each wake-up costs CPU, so it is long (1 s).
    timespec timeout{kSigchldGuard.count(), 0};
    int sig = ::sigtimedwait(&set, nullptr, &timeout);
    if (sig > 0 && sig != SIGCHLD) ::kill(-pid_, sig);
    // Daemons of the job re-parented to carbonclock (adopt_orphans()) are reaped when a child
    // exits, one pid at a time, so the job's own status stays for wait4 above.
    if (sig == SIGCHLD) reap_adopted_orphans(pid_);
  }
  restore_terminal();
  return out;
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
  if (pid_ <= 0 || reaped_) return out;
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    struct rusage ru {};
    pid_t r = ::wait4(pid_, &status, WNOHANG, &ru);
    if (r == pid_) {
      reaped_ = true;
      out.exit = job_exit(status, ru);
      restore_terminal();
      return out;
    }
    if (r < 0 && errno != EINTR) {
      reaped_ = true;
      out.exit = JobExit{1, 0, 0};
      return out;
    }
    auto left = until - std::chrono::steady_clock::now();
    if (left <= Nanos(0)) return out;
    // Sleep until a signal arrives; the cap guards against a missed SIGCHLD (see wait()).
    auto nap = std::min<Nanos>(left, kSigchldGuard);
    timespec ts{static_cast<time_t>(nap.count() / 1'000'000'000),
                static_cast<long>(nap.count() % 1'000'000'000)};
    int sig = ::sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGCHLD) reap_adopted_orphans(pid_);
    if (sig > 0 && sig != SIGCHLD) {
      ::kill(-pid_, sig);
      ::kill(-pid_, SIGCONT);
      out.forwarded_signal = sig;
      return out;
    }
  }
}

}  // namespace carbonclock

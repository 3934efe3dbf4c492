#include "execution/watchdog.h"

#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "common/files.h"

namespace carbonclock {
namespace {

constexpr int kMaxGroups = 64;
/// The re-executed watchdog finds its end of the socket pair here.
constexpr int kExecFd = 3;
/// argv[1] of the re-executed watchdog, so that nothing else is taken for it.
constexpr const char* kExecMarker = "--carbonclock-watchdog-socket=3";
/// How long the watchdog waits past a latest resume time before it acts itself: carbonclock
/// resumes the job at that very time when it can, and should not race it.
constexpr int64_t kResumeGraceNs = 100'000'000;
constexpr Nanos kReadyTimeout = std::chrono::seconds(10);

// One request: 16 bytes each way.
struct Message {
  int32_t type;
  int32_t pid;
  int64_t value;
};
struct Answer {
  int32_t kind;  ///< kOk, kError, or a WatchdogAction::Kind + kActionBase
  int32_t pid;
  int64_t at_ns;
};
static_assert(sizeof(Message) == 16 && sizeof(Answer) == 16);

enum : int32_t {
  kReady = 1,
  kWatch,
  kUnwatch,
  kCheckpointed,
  kResumed,
  kResumeBy,
  kResuming,
  kPing,
  kCheckpointing,
};
enum : int32_t { kOk = 0, kError = -1, kActionBase = 100 };

void write_all(int fd, const char* text) {
  size_t n = std::strlen(text);
  while (n > 0) {
    ssize_t w = ::write(fd, text, n);
    if (w <= 0) return;
    text += w;
    n -= static_cast<size_t>(w);
  }
}

int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Reads exactly `n` bytes; false on EOF or error.
bool read_exactly(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool send_exactly(int fd, const void* buf, size_t n) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

/// Whether process `pid` has ended (gone, or a zombie not yet reaped), from /proc/PID/stat.
/// Async-signal-safe.
bool has_ended(pid_t pid) {
  char path[40] = "/proc/";
  char digits[16];
  int n = 0;
  for (auto v = static_cast<unsigned>(pid); n == 0 || v != 0; v /= 10) {
    digits[n++] = static_cast<char>('0' + v % 10);
  }
  size_t at = std::strlen(path);
  while (n > 0) path[at++] = digits[--n];
  std::memcpy(path + at, "/stat", 6);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  char buf[512];
  ssize_t r = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (r <= 0) return true;
  buf[r] = '\0';
  const char* close = std::strrchr(buf, ')');
  if (close == nullptr || close[1] == '\0' || close[2] == '\0') return true;
  return close[2] == 'Z' || close[2] == 'X';
}

void sleep_ms(int ms) {
  timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1'000'000};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/// Starts the resume command in a new session with default signal handling. As carbonclock's
/// sibling (CLONE_PARENT) while carbonclock lives, so that carbonclock reaps and meters it, and
/// with SIGCONT as its parent-death signal like every job carbonclock pauses. A raw clone
/// without CLONE_VM and without a new stack behaves like fork. Async-signal-safe.
pid_t spawn_resume(char* const* argv, bool as_sibling) {
  unsigned long flags = SIGCHLD | (as_sibling ? CLONE_PARENT : 0UL);
  long child = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
  if (child != 0) return static_cast<pid_t>(child);
  ::setsid();
  if (as_sibling) ::prctl(PR_SET_PDEATHSIG, SIGCONT);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU}) {
    ::sigaction(s, &dfl, nullptr);
  }
  ::close(kExecFd);
  ::execvp(argv[0], argv);
  ::_exit(127);
}

/// The watchdog's whole life (after fork, or in the re-executed program): async-signal-safe
/// calls only, so the fork of a threaded carbonclock is safe too.
[[noreturn]] void watchdog_main(int fd, char* const* resume_argv, bool exec_self) {
  ::setsid();  // its own session: a kill of carbonclock's group or terminal does not reach it
  ::prctl(PR_SET_NAME, Watchdog::kProcessName, 0, 0, 0);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU}) {
    ::sigaction(s, &ignore, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // A few hundred kilobytes that must outlive carbonclock: never the OOM killer's choice where
  // permitted (CAP_SYS_RESOURCE); elsewhere its size already ranks it far below carbonclock.
  int oom = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (oom >= 0) {
    (void)::write(oom, "-1000", 5);
    ::close(oom);
  }
  // Keep stdin, stdout and stderr (a resume command it runs gets the job's streams; it exits as
  // soon as carbonclock does, so readers of those pipes never wait for it) and the socket.
  if (fd != kExecFd) {
    ::dup2(fd, kExecFd);
    fd = kExecFd;
  }
  ::close_range(kExecFd + 1, ~0U, 0);
  const bool can_restart = resume_argv != nullptr && resume_argv[0] != nullptr;

  pid_t groups[kMaxGroups] = {};
  bool checkpointed = false;
  // The job was sent its pause signal and is saving its checkpoint (its leader, and until when
  // it may take): if carbonclock goes away now, the job still exits at its checkpoint.
  pid_t saving = 0;
  int64_t saving_until_ns = 0;
  int64_t resume_by_ns = 0;
  Answer pending{kOk, -1, 0};  // an action not yet reported to carbonclock

  Answer ready{kReady, static_cast<int32_t>(::getpid()), exec_self ? 1 : 0};
  if (!send_exactly(fd, &ready, sizeof ready)) ::_exit(1);

  for (;;) {
    int timeout_ms = -1;
    if (resume_by_ns != 0) {
      int64_t now = realtime_ns();
      int64_t due = resume_by_ns + kResumeGraceNs;
      if (now >= due) {
        // carbonclock did not resume the job by its latest resume time: keep the deadline.
        // A job that finished saving its checkpoint while carbonclock could not say so counts
        // as checkpointed.
        if ((checkpointed || (saving != 0 && has_ended(saving))) && can_restart) {
          pid_t child = spawn_resume(resume_argv, true);
          checkpointed = false;
          saving = 0;
          pending = {kActionBase + static_cast<int32_t>(WatchdogAction::Kind::kRestarted),
                     static_cast<int32_t>(child), now};
        } else {
          for (pid_t g : groups) {
            if (g != 0) ::kill(-g, SIGCONT);
          }
          pending = {kActionBase + static_cast<int32_t>(WatchdogAction::Kind::kContinued), -1, now};
        }
        resume_by_ns = 0;
        continue;
      }
      timeout_ms = static_cast<int>((due - now + 999'999) / 1'000'000);
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (r == 0) continue;
    Message m{};
    if (!read_exactly(fd, &m, sizeof m)) break;  // carbonclock is gone (or done)
    Answer a{kOk, -1, 0};
    switch (m.type) {
      case kWatch: {
        a.kind = kError;
        for (pid_t& g : groups) {
          if (g == 0 || g == m.pid) {
            g = m.pid;
            a.kind = kOk;
            break;
          }
        }
        break;
      }
      case kUnwatch:
        for (pid_t& g : groups) {
          if (g == m.pid) g = 0;
        }
        break;
      case kCheckpointing:
        saving = m.pid;
        saving_until_ns = m.value;
        break;
      case kCheckpointed:
        // Late news when the watchdog has restarted the job already (carbonclock was stopped
        // while the job saved its checkpoint): nothing is checkpointed any more.
        checkpointed =
            pending.kind != kActionBase + static_cast<int32_t>(WatchdogAction::Kind::kRestarted);
        saving = 0;
        break;
      case kResumed:
        checkpointed = false;
        saving = 0;
        break;
      case kResumeBy:
        resume_by_ns = m.value;
        break;
      case kResuming:
        resume_by_ns = 0;
        a = pending;
        pending = {kOk, -1, 0};
        break;
      case kPing:
        a = pending;
        pending = {kOk, -1, 0};
        break;
      default:
        a.kind = kError;
    }
    if (!send_exactly(fd, &a, sizeof a)) break;
  }
  // carbonclock is gone (or done): continue whatever it left registered.
  bool told = false;
  for (pid_t g : groups) {
    if (g == 0) continue;
    if (::kill(-g, SIGCONT) == 0 && !told) {
      write_all(STDERR_FILENO,
                "carbonclock-watchdog: carbonclock went away while supervising a job; the job "
                "was continued (SIGCONT) and runs on unsupervised\n");
      told = true;
    }
  }
  if (saving != 0 && can_restart) {
    // carbonclock went away while the job was saving its checkpoint: wait for it to exit (at
    // most as long as carbonclock would have), then restart it as if it had been checkpointed.
    // Its exit status is not ours to see; a job that failed while saving restarts from its last
    // checkpoint. A job still running at the end of its grace ignored the signal: it runs on.
    while (!has_ended(saving) && realtime_ns() < saving_until_ns) sleep_ms(50);
    if (has_ended(saving)) {
      checkpointed = true;
    } else {
      write_all(STDERR_FILENO,
                "carbonclock-watchdog: carbonclock went away while the job was saving its "
                "checkpoint; the job did not exit and runs on unsupervised\n");
    }
  }
  if (checkpointed && can_restart) {
    write_all(STDERR_FILENO,
              "carbonclock-watchdog: carbonclock went away while the job was checkpointed; "
              "running its resume command, unsupervised\n");
    spawn_resume(resume_argv, false);
  }
  ::_exit(0);
}

/// The entry point of the re-executed watchdog: runs before main() in every program that links
/// the watchdog (glibc passes argc and argv to ELF constructors) and takes over only when this
/// process was started as the watchdog.
__attribute__((constructor)) void carbonclock_watchdog_entry(int argc, char** argv,
                                                             char** /*envp*/) {
  if (argc < 2 || argv == nullptr || argv[0] == nullptr || argv[1] == nullptr) return;
  if (std::strcmp(argv[0], Watchdog::kCommandName) != 0) return;
  if (std::strcmp(argv[1], kExecMarker) != 0) return;
  watchdog_main(kExecFd, argv + 2, true);
}

/// Whether the entry point above lies in the main program (then /proc/self/exe runs it) rather
/// than in a shared library loaded by some other program (a Python extension, say).
bool entry_in_main_program() {
  struct Probe {
    uintptr_t address;
    bool found = false;
    bool first = true;
  } probe{reinterpret_cast<uintptr_t>(&carbonclock_watchdog_entry)};
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* p = static_cast<Probe*>(data);
        if (!p->first) return 1;  // the first object reported is the main program
        p->first = false;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const auto& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          uintptr_t start = info->dlpi_addr + ph.p_vaddr;
          if (p->address >= start && p->address < start + ph.p_memsz) p->found = true;
        }
        return 1;
      },
      &probe);
  return probe.found;
}

/// Waits up to `timeout` for `fd` to become readable; false on timeout.
bool readable_within(int fd, Nanos timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;  // let the read report it
  }
}

}  // namespace

Result<Watchdog> Watchdog::start(std::vector<std::string> resume_command, Launch launch) {
  bool exec_self = launch != Launch::kFork && entry_in_main_program();
  if (launch == Launch::kExecSelf && !exec_self) {
    return make_error("watchdog: this program does not carry the watchdog's entry point");
  }
  // Built before fork: the child only calls async-signal-safe functions.
  std::string command_name = kCommandName, marker = kExecMarker;
  std::vector<char*> exec_argv{command_name.data(), marker.data()};
  std::vector<char*> resume_argv;
  for (auto& a : resume_command) {
    exec_argv.push_back(a.data());
    resume_argv.push_back(a.data());
  }
  exec_argv.push_back(nullptr);
  resume_argv.push_back(nullptr);
  int fds[2];
  // A socket pair rather than a pipe: two-way, and send() with MSG_NOSIGNAL cannot raise
  // SIGPIPE in carbonclock when the watchdog is gone.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return make_error("watchdog: cannot create a socket pair: {}", errno_text(errno));
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return make_error("watchdog: cannot fork: {}", errno_text(e));
  }
  if (pid == 0) {
    ::close(fds[1]);
    if (exec_self) {
      if (fds[0] == kExecFd) {
        ::fcntl(kExecFd, F_SETFD, 0);
      } else {
        ::dup2(fds[0], kExecFd);  // the copy is not close-on-exec
      }
      ::execv("/proc/self/exe", exec_argv.data());
      // Cannot re-execute: be the watchdog as a fork.
    }
    watchdog_main(exec_self ? kExecFd : fds[0], resume_argv.data(), false);
  }
  ::close(fds[0]);
  Watchdog dog(fds[1], pid, false);
  Answer ready{};
  if (!readable_within(dog.fd_, kReadyTimeout) || !read_exactly(dog.fd_, &ready, sizeof ready) ||
      ready.kind != kReady) {
    dog.lost_ = true;
    return make_error("watchdog: it did not start (pid {}, no answer within {})", pid,
                      format_duration(kReadyTimeout));
  }
  dog.exec_self_ = ready.at_ns == 1;
  if (launch == Launch::kExecSelf && !dog.exec_self_) {
    return make_error("watchdog: cannot re-execute /proc/self/exe");
  }
  return dog;
}

Watchdog::Watchdog(Watchdog&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      pid_(std::exchange(other.pid_, -1)),
      exec_self_(other.exec_self_),
      lost_(other.lost_) {}

Watchdog& Watchdog::operator=(Watchdog&& other) noexcept {
  if (this != &other) {
    close_and_reap();
    fd_ = std::exchange(other.fd_, -1);
    pid_ = std::exchange(other.pid_, -1);
    exec_self_ = other.exec_self_;
    lost_ = other.lost_;
  }
  return *this;
}

Watchdog::~Watchdog() { close_and_reap(); }

void Watchdog::close_and_reap() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (pid_ <= 0) return;
  // It exits as soon as it reads the end of the connection; one that is stopped or frozen is
  // continued, then killed, so that carbonclock never hangs on it.
  auto reaped_within = [this](Nanos timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      pid_t r = ::waitpid(pid_, nullptr, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) return true;
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  if (!reaped_within(kAnswerTimeout)) {
    ::kill(pid_, SIGCONT);
    if (!reaped_within(kAnswerTimeout)) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  pid_ = -1;
}

Result<WatchdogAction> Watchdog::request(int32_t type, int32_t pid, int64_t value) {
  if (fd_ < 0) return make_error("the watchdog is not running");
  if (lost_) return make_error("the watchdog (pid {}) was lost earlier", pid_);
  Message m{type, pid, value};
  if (!send_exactly(fd_, &m, sizeof m)) {
    lost_ = true;
    return make_error("the watchdog (pid {}) is gone: {}", pid_, errno_text(errno));
  }
  if (!readable_within(fd_, kAnswerTimeout)) {
    lost_ = true;  // a late answer would be taken for the next one's: never ask it again
    return make_error("the watchdog (pid {}) did not answer within {} (stopped or frozen)", pid_,
                      format_duration(kAnswerTimeout));
  }
  Answer a{};
  if (!read_exactly(fd_, &a, sizeof a)) {
    lost_ = true;
    return make_error("the watchdog (pid {}) has exited", pid_);
  }
  if (a.kind == kError) return make_error("the watchdog refused request {} ({})", type, pid);
  WatchdogAction action;
  if (a.kind >= kActionBase) {
    action.kind = static_cast<WatchdogAction::Kind>(a.kind - kActionBase);
    action.at_utc = SysTime{} + Nanos(a.at_ns);
    action.pid = a.pid;
  }
  return action;
}

Status Watchdog::watch(pid_t pgid) {
  if (pgid <= 0) return make_error("watchdog: invalid process group {}", pgid);
  if (auto r = request(kWatch, pgid, 0); !r) return r.error();
  return {};
}

Status Watchdog::unwatch(pid_t pgid) {
  if (pgid <= 0) return make_error("watchdog: invalid process group {}", pgid);
  if (auto r = request(kUnwatch, pgid, 0); !r) return r.error();
  return {};
}

Status Watchdog::checkpointing(pid_t pid, SysTime until) {
  if (pid <= 0) return make_error("watchdog: invalid process {}", pid);
  int64_t ns = std::max<int64_t>(1, until.time_since_epoch().count());
  if (auto r = request(kCheckpointing, pid, ns); !r) return r.error();
  return {};
}

Status Watchdog::checkpointed() {
  if (auto r = request(kCheckpointed, 0, 0); !r) return r.error();
  return {};
}

Status Watchdog::resumed() {
  if (auto r = request(kResumed, 0, 0); !r) return r.error();
  return {};
}

Status Watchdog::resume_by(SysTime at) {
  int64_t ns = std::max<int64_t>(1, at.time_since_epoch().count());
  if (auto r = request(kResumeBy, 0, ns); !r) return r.error();
  return {};
}

Result<WatchdogAction> Watchdog::resuming() { return request(kResuming, 0, 0); }

Result<WatchdogAction> Watchdog::ping() { return request(kPing, 0, 0); }

}  // namespace carbonclock

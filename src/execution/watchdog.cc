#include "execution/watchdog.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "common/files.h"

namespace carbonclock {
namespace {

constexpr int kMaxGroups = 64;
// Control messages; group ids travel as positive (watch) and negative (unwatch) numbers.
constexpr int32_t kCheckpointedMessage = INT32_MIN;
constexpr int32_t kResumedMessage = INT32_MIN + 1;

void write_all(int fd, const char* text) {
  size_t n = std::strlen(text);
  while (n > 0) {
    ssize_t w = ::write(fd, text, n);
    if (w <= 0) return;
    text += w;
    n -= static_cast<size_t>(w);
  }
}

/// The watchdog's whole life, after fork: async-signal-safe calls only.
[[noreturn]] void watchdog_main(int read_fd, char* const* resume_argv) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU}) {
    ::sigaction(s, &ignore, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setpgid(0, 0);
  // Keep only the pipe and stderr: holding carbonclock's stdout or other pipes open would make
  // readers of them wait for the watchdog.
  int null_fd = ::open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
  }
  if (read_fd != 3) {
    ::dup2(read_fd, 3);
    read_fd = 3;
  }
  ::close_range(4, ~0U, 0);

  pid_t groups[kMaxGroups] = {};
  bool checkpointed = false;
  int32_t message = 0;
  size_t have = 0;
  for (;;) {
    ssize_t r = ::read(read_fd, reinterpret_cast<char*>(&message) + have, sizeof message - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += static_cast<size_t>(r);
    if (have < sizeof message) continue;
    have = 0;
    if (message == kCheckpointedMessage) {
      checkpointed = true;
    } else if (message == kResumedMessage) {
      checkpointed = false;
    } else if (message > 0) {
      for (pid_t& g : groups) {
        if (g == 0) {
          g = message;
          break;
        }
      }
    } else if (message < 0) {
      for (pid_t& g : groups) {
        if (g == -message) g = 0;
      }
    }
  }
  // carbonclock is gone (or done): continue whatever it left registered.
  bool told = false;
  for (pid_t g : groups) {
    if (g == 0) continue;
    if (::kill(-g, SIGCONT) == 0 && !told) {
      write_all(STDERR_FILENO,
                "carbonclock watchdog: carbonclock went away while supervising a job; the job "
                "was continued (SIGCONT) and runs on unsupervised\n");
      told = true;
    }
  }
  if (checkpointed && resume_argv != nullptr && resume_argv[0] != nullptr) {
    write_all(STDERR_FILENO,
              "carbonclock watchdog: carbonclock went away while the job was checkpointed; "
              "running its resume command, unsupervised\n");
    pid_t child = ::fork();
    if (child == 0) {
      ::setsid();
      ::execvp(resume_argv[0], resume_argv);
      ::_exit(127);
    }
  }
  ::_exit(0);
}

}  // namespace

Result<Watchdog> Watchdog::start(std::vector<std::string> resume_command) {
  // Built before fork: the watchdog itself only calls async-signal-safe functions.
  std::vector<char*> resume_argv;
  for (auto& a : resume_command) resume_argv.push_back(a.data());
  resume_argv.push_back(nullptr);
  int fds[2];
  // A socket pair rather than a pipe: send() with MSG_NOSIGNAL cannot raise SIGPIPE in
  // carbonclock if the watchdog is gone.
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
    watchdog_main(fds[0], resume_argv.data());
  }
  ::close(fds[0]);
  return Watchdog(fds[1], pid);
}

Watchdog::Watchdog(Watchdog&& other) noexcept
    : write_fd_(std::exchange(other.write_fd_, -1)), pid_(std::exchange(other.pid_, -1)) {}

Watchdog& Watchdog::operator=(Watchdog&& other) noexcept {
  if (this != &other) {
    close_and_reap();
    write_fd_ = std::exchange(other.write_fd_, -1);
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

Watchdog::~Watchdog() { close_and_reap(); }

void Watchdog::close_and_reap() {
  if (write_fd_ >= 0) ::close(write_fd_);
  write_fd_ = -1;
  if (pid_ > 0) {
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

Status Watchdog::send(int32_t message) {
  if (write_fd_ < 0) return make_error("watchdog: not running");
  const char* p = reinterpret_cast<const char*>(&message);
  size_t left = sizeof message;
  while (left > 0) {
    ssize_t w = ::send(write_fd_, p, left, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return make_error("watchdog: cannot write to it: {}", errno_text(errno));
    p += w;
    left -= static_cast<size_t>(w);
  }
  return {};
}

Status Watchdog::watch(pid_t pgid) {
  if (pgid <= 0) return make_error("watchdog: invalid process group {}", pgid);
  return send(static_cast<int32_t>(pgid));
}

Status Watchdog::unwatch(pid_t pgid) {
  if (pgid <= 0) return make_error("watchdog: invalid process group {}", pgid);
  return send(-static_cast<int32_t>(pgid));
}

Status Watchdog::checkpointed() { return send(kCheckpointedMessage); }

Status Watchdog::resumed() { return send(kResumedMessage); }

}  // namespace carbonclock

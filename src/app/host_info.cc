#include "app/host_info.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gnu/libc-version.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>

#include "app/distributed.h"
#include "common/files.h"
#include "common/strings.h"

extern char** environ;

namespace carbonclock {
namespace {

// The value of "KEY<tabs/spaces>: value" lines.
std::string cpuinfo_value(std::string_view cpuinfo, std::string_view key) {
  size_t at = 0;
  while (at < cpuinfo.size()) {
    size_t nl = cpuinfo.find('\n', at);
    std::string_view line = cpuinfo.substr(at, nl == std::string_view::npos ? nl : nl - at);
    at = nl == std::string_view::npos ? cpuinfo.size() : nl + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (iequals(trim(line.substr(0, colon)), key)) return std::string(trim(line.substr(colon + 1)));
  }
  return "";
}

std::string os_string() {
  struct utsname u {};
  if (::uname(&u) != 0) return "";
  return fmt::format("{}-{}-{}-with-glibc{}", u.sysname, u.release, u.machine,
                     gnu_get_libc_version());
}

}  // namespace

std::string cpu_model_from_cpuinfo(std::string_view cpuinfo) {
  for (std::string_view key : {"model name", "Model", "Hardware", "cpu model"}) {
    std::string v = cpuinfo_value(cpuinfo, key);
    if (!v.empty()) return v;
  }
  return "";
}

std::string python_version_from_output(std::string_view output) {
  static const std::regex re(R"(^\s*Python (\d+\.\d+(\.\d+)?\S*)\s*$)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(output.begin(), output.end(), m, re)) return "";
  return m[1].str();
}

std::filesystem::path job_python(const std::vector<std::string>& command,
                                 std::string_view path_variable) {
  static const std::regex python_name(R"(python[0-9.]*)");
  std::string candidate = "python3";
  if (!command.empty()) {
    std::string base = std::filesystem::path(command.front()).filename().string();
    if (std::regex_match(base, python_name)) candidate = command.front();
  }
  if (candidate.find('/') != std::string::npos) {
    return ::access(candidate.c_str(), X_OK) == 0 ? std::filesystem::path(candidate)
                                                  : std::filesystem::path();
  }
  while (true) {
    size_t colon = path_variable.find(':');
    std::string_view dir = path_variable.substr(0, colon);
    std::filesystem::path p =
        std::filesystem::path(dir.empty() ? "." : std::string(dir)) / candidate;
    if (::access(p.c_str(), X_OK) == 0) return p;
    if (colon == std::string_view::npos) return {};
    path_variable.remove_prefix(colon + 1);
  }
}

std::string python_version_of(const std::filesystem::path& python, int timeout_ms) {
  if (python.empty()) return "";
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // Python 2 prints its version on stderr, Python 3 on stdout: read both.
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // Default signal mask and dispositions: the caller may block signals for its supervisor.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string arg0 = python.string();
  char* argv[] = {arg0.data(), const_cast<char*>("--version"), nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, arg0.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  std::string out;
  if (rc == 0) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[256];
    while (out.size() < 4096) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      pollfd p{fds[0], POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
        out.clear();  // too slow: give up rather than hold the run
        ::kill(pid, SIGKILL);
        break;
      }
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) out.clear();
  }
  ::close(fds[0]);
  return python_version_from_output(out);
}

HostInfo collect_host_info(const std::vector<std::string>& command, const EnvLookup& env,
                           const std::filesystem::path& cpuinfo) {
  HostInfo h;
  if (auto text = read_file(cpuinfo)) h.cpu_model = cpu_model_from_cpuinfo(*text);
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  h.logical_cpus = cpus > 0 ? static_cast<int>(cpus) : 0;
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) {
    h.ram_total_gb =
        static_cast<double>(pages) * static_cast<double>(page) / (1024.0 * 1024 * 1024);
  }
  h.os = os_string();
  auto path = env("PATH");
  h.python_version = python_version_of(job_python(command, path.value_or("/usr/bin:/bin")));
  return h;
}

}  // namespace carbonclock

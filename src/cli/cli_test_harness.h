// Test support for end-to-end tests: runs the built carbonclock binary in a child process
// with a scripted environment, its stdout and stderr captured in files.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/test_dir.h"

namespace carbonclock {

class CliHarness {
 public:
  /// Output goes to DIR/stdout and DIR/stderr.
  explicit CliHarness(std::filesystem::path dir) : dir_(std::move(dir)) {}

  /// Variables set (a value) or removed (nullopt) in the child before it starts carbonclock.
  std::map<std::string, std::optional<std::string>> env;

  /// Starts `carbonclock ARGS...`; returns its pid.
  pid_t start(const std::vector<std::string>& args) const {
    pid_t pid = ::fork();
    if (pid == 0) {
      for (const auto& [name, value] : env) {
        if (value) {
          ::setenv(name.c_str(), value->c_str(), 1);
        } else {
          ::unsetenv(name.c_str());
        }
      }
      std::freopen((dir_ / "stdout").c_str(), "w", stdout);
      std::freopen((dir_ / "stderr").c_str(), "w", stderr);
      std::vector<char*> argv{const_cast<char*>(kBinary)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(kBinary, argv.data());
      ::_exit(99);
    }
    return pid;
  }

  /// Waits for `pid`: its exit code, or 128+N when signal N killed it.
  static int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  /// Runs `carbonclock ARGS...` to its end; its exit code.
  int run(const std::vector<std::string>& args) const { return wait_exit(start(args)); }

  /// What the last command printed ("" when nothing).
  std::string out() const { return text_of(dir_ / "stdout"); }
  std::string err() const { return text_of(dir_ / "stderr"); }

  static constexpr const char* kBinary = CARBONCLOCK_BINARY_DIR "/carbonclock";

 private:
  static std::string text_of(const std::filesystem::path& p) {
    auto t = read_file(p);
    return t ? *t : std::string();
  }
  std::filesystem::path dir_;
};

}  // namespace carbonclock

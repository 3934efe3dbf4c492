// Test helpers for the command line in process: run_cli with a string console, a manual clock
// and a scripted environment in a fresh folder.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "app/test_support.h"
#include "cli/cli.h"
#include "common/test_dir.h"

namespace carbonclock::testing {

/// A fresh folder dir() (PREFIX_PID_TEST, removed afterwards), an environment with
/// CARBONCLOCK_DB = dir()/db.sqlite and HOME = dir(), and a manual clock at `now`.
class InProcessCliTest : public ::testing::Test {
 protected:
  InProcessCliTest(const char* prefix, SysTime now) : prefix_(prefix), clock_(now) {}
  void SetUp() override {
    dir_ = fresh_test_dir(prefix_);
    vars_ = {{"CARBONCLOCK_DB", (dir_ / "db.sqlite").string()}, {"HOME", dir_.string()}};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Runs `carbonclock ARGS...` in process; the console keeps what it printed.
  int run(std::vector<std::string> args) {
    console_ = cli::StringConsole();
    args.insert(args.begin(), "carbonclock");
    std::vector<const char*> argv;
    argv.reserve(args.size());
    for (const auto& a : args) argv.push_back(a.c_str());
    cli::CliEnvironment env{console_, clock_, env_of(vars_), {}};
    return cli::run_cli(static_cast<int>(argv.size()), argv.data(), env);
  }
  const std::string& out() const { return console_.out_text(); }
  const std::string& err() const { return console_.err_text(); }

  /// Every line carbonclock printed on stderr is its own.
  void expect_own_error_lines() const {
    std::string_view rest = err();
    ASSERT_FALSE(rest.empty());
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      EXPECT_TRUE(rest.substr(0, nl).starts_with("carbonclock: ")) << err();
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    }
  }

  const std::filesystem::path& dir() const { return dir_; }
  std::map<std::string, std::string>& vars() { return vars_; }

 private:
  const char* prefix_;
  std::filesystem::path dir_;
  std::map<std::string, std::string> vars_;
  cli::StringConsole console_;
  ManualClock clock_;
};

}  // namespace carbonclock::testing

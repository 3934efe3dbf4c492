// Test helpers for the command line in process: run_cli with a string console, on a use-case
// test's fresh folder, scripted environment and manual clock.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "app/test_support.h"
#include "cli/cli.h"

namespace carbonclock::testing {

/// UseCaseTest's folder, environment and clock, with `carbonclock` run in process on them.
class InProcessCliTest : public UseCaseTest {
 protected:
  using UseCaseTest::UseCaseTest;

  /// Runs `carbonclock ARGS...` in process; the console keeps what it printed.
  int run(std::vector<std::string> args) {
    console_ = cli::StringConsole();
    args.insert(args.begin(), "carbonclock");
    std::vector<const char*> argv;
    argv.reserve(args.size());
    for (const auto& a : args) argv.push_back(a.c_str());
    cli::CliEnvironment env{console_, clock(), env_of(vars()), {}};
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

 private:
  cli::StringConsole console_;
};

}  // namespace carbonclock::testing

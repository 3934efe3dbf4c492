// The command line as a library: parse options, call a use case (src/app), render (src/reports),
// map errors to exit codes. main.cc is a few lines over run_cli; tests call run_cli in process
// with a StringConsole and a scripted environment as well as running the binary.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "config/config.h"
#include "http/http_transport.h"

namespace carbonclock::cli {

/// A terminal's size in character cells.
struct TerminalSize {
  int rows = 0;
  int cols = 0;
};

/// Where the CLI writes: the process's stdout and stderr, or strings in tests.
class Console {
 public:
  virtual ~Console() = default;
  virtual void out(std::string_view text) = 0;
  /// Writes `text` to stderr in one piece (one write on a terminal).
  virtual void err(std::string_view text) = 0;
  /// Whether stderr is a terminal (status lines, progress bars).
  virtual bool err_is_terminal() const = 0;
  /// The size of the terminal stderr is on; nothing when it is not one.
  virtual std::optional<TerminalSize> err_terminal_size() const { return std::nullopt; }
};

class StdConsole final : public Console {
 public:
  void out(std::string_view text) override;
  void err(std::string_view text) override;
  bool err_is_terminal() const override;
  std::optional<TerminalSize> err_terminal_size() const override;
};

class StringConsole final : public Console {
 public:
  void out(std::string_view text) override { out_ += text; }
  void err(std::string_view text) override { err_ += text; }
  bool err_is_terminal() const override { return false; }
  const std::string& out_text() const { return out_; }
  const std::string& err_text() const { return err_; }

 private:
  std::string out_, err_;
};

/// The edges the CLI runs against.
struct CliEnvironment {
  Console& console;
  Clock& clock;
  EnvLookup env = process_env;
  /// Makes the HTTP transport for live fetches; `timeout` is the total per request.
  std::function<std::unique_ptr<HttpTransport>(Nanos timeout)> make_http;
};

/// The production environment: stdout/stderr, the real clock, the process environment, libcurl.
CliEnvironment process_environment(Console& console, Clock& clock);

/// Runs `carbonclock ARGS...`; returns the process exit code (see exit_codes.h).
int run_cli(int argc, const char* const* argv, CliEnvironment& env);

}  // namespace carbonclock::cli

// Test support for the end-to-end tests of `carbonclock exporter`: the built binary started
// with a scripted environment, its address read from what it prints, scrapes, and sample
// values picked from the text exposition.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_test_harness.h"

namespace carbonclock {

/// A running `carbonclock exporter ARGS... --listen LISTEN` (a free port by default), stopped
/// with SIGTERM.
class ExporterProcess {
 public:
  ExporterProcess(const CliHarness& cli, std::vector<std::string> args,
                  const std::string& listen = "127.0.0.1:0")
      : cli_(cli) {
    args.insert(args.begin(), "exporter");
    args.push_back("--listen");
    args.push_back(listen);
    pid_ = cli_.start(args);
    // The address is in the line "exporter serving http://HOST:PORT/metrics".
    for (int i = 0; i < 600 && address_.empty(); ++i) {
      const std::string err = cli_.err();
      const size_t at = err.find("serving http://");
      if (at != std::string::npos) {
        const size_t end = err.find("/metrics", at);
        if (end != std::string::npos) address_ = err.substr(at + 15, end - at - 15);
      }
      int status = 0;
      if (address_.empty() && ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      if (address_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ExporterProcess() { stop(); }
  ExporterProcess(const ExporterProcess&) = delete;
  ExporterProcess& operator=(const ExporterProcess&) = delete;

  /// Whether it started and printed its address (else see err()).
  bool running() const { return pid_ > 0 && !address_.empty(); }
  pid_t pid() const { return pid_; }
  const std::string& address() const { return address_; }
  int port() const { return std::stoi(address_.substr(address_.rfind(':') + 1)); }
  std::string err() const { return cli_.err(); }

  /// SIGTERM, then its exit code (0 expected).
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const int rc = CliHarness::wait_exit(pid_);
    pid_ = -1;
    return rc;
  }

  /// GET `path`; the status and body (status -1 when no answer came).
  std::pair<int, std::string> get(const std::string& path) const {
    httplib::Client client("127.0.0.1", port());
    client.set_read_timeout(30, 0);
    auto r = client.Get(path.c_str());
    if (!r) return {-1, ""};
    return {r->status, r->body};
  }

  /// A line of /proc/PID/status ("Threads", "VmRSS") as a number (kB for memory).
  double status_field(const std::string& name) const {
    auto text = read_file(fmt::format("/proc/{}/status", pid_));
    if (!text) return -1;
    const size_t at = text->find("\n" + name + ":");
    if (at == std::string::npos) return -1;
    return std::stod(text->substr(at + name.size() + 2));
  }
  /// Open file descriptors.
  size_t open_fds() const {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid_), ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++n;
    }
    return n;
  }

 private:
  const CliHarness& cli_;
  pid_t pid_ = -1;
  std::string address_;
};

/// The value of the sample of `name` whose labels include every `label="value"` in `labels`
/// ("" matches an unlabelled sample); nullopt when there is none.
inline std::optional<double> sample_value(const std::string& text, const std::string& name,
                                          const std::vector<std::string>& labels = {}) {
  size_t at = 0;
  while ((at = text.find("\n" + name, at)) != std::string::npos) {
    const size_t start = at + 1;
    const size_t eol = text.find('\n', start);
    const std::string line = text.substr(start, eol - start);
    at = eol == std::string::npos ? text.size() : eol;
    const char after = line.size() > name.size() ? line[name.size()] : '\0';
    if (after != '{' && after != ' ') continue;  // a longer name with this prefix
    bool match = true;
    for (const std::string& l : labels) match = match && line.find(l) != std::string::npos;
    if (!match) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

}  // namespace carbonclock

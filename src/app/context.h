// The edges a use case runs against, passed in by the front end (CLI, Python, exporter) so
// tests substitute fakes: the clock, the HTTP transport, the environment, and an observer that
// hears progress and warnings. Use cases print nothing themselves.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "config/config.h"
#include "http/http_transport.h"

namespace carbonclock {

/// Hears what a use case has to say while it works. Front ends render it (stderr, Python
/// warnings, logs); the default does nothing.
class Observer {
 public:
  virtual ~Observer() = default;
  /// Something the user should know that changes no result ("fetched a forecast").
  virtual void note(std::string_view text) { (void)text; }
  /// Something went wrong but the use case went on ("config file ignored: ...").
  virtual void warning(std::string_view text) { (void)text; }
  /// `done` of `total` units of work finished (sweeps).
  virtual void progress(size_t done, size_t total) {
    (void)done;
    (void)total;
  }
};

/// An observer that keeps everything it hears (tests, and front ends that report at the end).
class RecordingObserver : public Observer {
 public:
  void note(std::string_view text) override { notes.emplace_back(text); }
  void warning(std::string_view text) override { warnings.emplace_back(text); }
  std::vector<std::string> notes;
  std::vector<std::string> warnings;
};

struct AppContext {
  Clock& clock;
  /// Where network requests go; null: no network (live fetches fail with an error).
  HttpTransport* http = nullptr;
  /// The environment (credentials, default zone, database path).
  EnvLookup env = process_env;
  Observer& observer;
};

}  // namespace carbonclock

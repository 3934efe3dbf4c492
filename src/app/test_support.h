// Test helpers for the use-case tests: hourly series, an environment from a map, and a fixture
// with a fresh folder, the environment a use case reads (its store in that folder) and a manual
// clock.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/context.h"
#include "common/test_dir.h"
#include "grid/store.h"

namespace carbonclock::testing {

/// Hourly points from `first`, one per value (g/kWh).
inline IntensitySeries hourly(const std::string& zone, SysTime first,
                              const std::vector<double>& values, Signal signal = Signal::kAverage,
                              Factor factor = Factor::kLifecycle) {
  IntensitySeries s{zone, signal, factor, "test", std::nullopt, {}};
  for (size_t i = 0; i < values.size(); ++i) {
    s.points.push_back({first + std::chrono::hours(1) * static_cast<int>(i), std::chrono::hours(1),
                        values[i], false});
  }
  return s;
}

/// An environment holding exactly `vars`.
inline EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* n) -> std::optional<std::string> {
    auto it = vars.find(n);
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  };
}

/// A use case's test: a fresh folder dir() (PREFIX_PID_TEST, removed afterwards), an environment
/// with CARBONCLOCK_DB = dir()/db.sqlite and HOME = dir(), a manual clock at `now` and an
/// observer that records what it hears.
class UseCaseTest : public ::testing::Test {
 protected:
  UseCaseTest(const char* prefix, SysTime now) : prefix_(prefix), clock_(now) {}
  void SetUp() override {
    dir_ = fresh_test_dir(prefix_);
    vars_["CARBONCLOCK_DB"] = (dir_ / "db.sqlite").string();
    vars_["HOME"] = dir_.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  /// Imports `s` into the store at dir()/db.sqlite.
  void import(const std::vector<IntensitySeries>& s) {
    auto store = GridStore::open(dir_ / "db.sqlite");
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->import(s, "test")) << "import";
  }
  /// A context with the clock, the observer and the environment vars() holds now; no network.
  AppContext ctx() { return AppContext{clock_, nullptr, env_of(vars_), observer_}; }

  const std::filesystem::path& dir() const { return dir_; }
  std::map<std::string, std::string>& vars() { return vars_; }
  ManualClock& clock() { return clock_; }
  RecordingObserver& observer() { return observer_; }

 private:
  const char* prefix_;
  std::filesystem::path dir_;
  std::map<std::string, std::string> vars_;
  ManualClock clock_;
  RecordingObserver observer_;
};

}  // namespace carbonclock::testing

// Test helpers for the journal and run.json tests: a fresh folder and a two-device run.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>

#include "common/test_dir.h"
#include "metering/run_record.h"

namespace carbonclock::testing {

/// A fresh folder dir() (PREFIX_PID_TEST, removed afterwards) and record(): run "r1" of `python3
/// train.py` on host "h" from 2024-01-01T00:04:00Z, 5-minute buckets, a GPU read by counter
/// ("gpu0", A100, GPU-1) and an estimated CPU ("cpu-estimate"), no samples yet.
class RunDirTest : public ::testing::Test {
 protected:
  explicit RunDirTest(const char* prefix) : prefix_(prefix) {}
  void SetUp() override {
    dir_ = fresh_test_dir(prefix_);
    run_.id = "r1";
    run_.command = {"python3", "train.py"};
    run_.start_utc = parse_utc("2024-01-01T00:04:00Z").value();
    run_.host = "h";
    run_.timeline.bucket = std::chrono::minutes(5);
    run_.timeline.devices = {{"gpu0", DeviceKind::kGpu, "A100", Method::kCounter, "GPU-1", ""},
                             {"cpu-estimate", DeviceKind::kCpu, "", Method::kEstimate, "", ""}};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  const std::filesystem::path& dir() const { return dir_; }
  RunRecord& record() { return run_; }

 private:
  const char* prefix_;
  std::filesystem::path dir_;
  RunRecord run_;
};

}  // namespace carbonclock::testing

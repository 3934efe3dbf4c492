// Helpers for the accounting and report tests: runs built by hand.
#pragma once

#include <string>
#include <vector>

#include "metering/run_record.h"

namespace carbonclock::testing {

/// A run starting at `start` and lasting `duration`, with `bucket`-long buckets aligned to UTC
/// and one device per name in `gpus` (kind GPU, counter) plus, when `cpu`, one CPU package.
/// `bucket_j[i]` is bucket i's energy, split evenly over the devices.
inline RunRecord make_run(SysTime start, Nanos duration, Nanos bucket,
                          const std::vector<double>& bucket_j,
                          const std::vector<std::string>& gpus = {"NVIDIA H100 80GB HBM3"},
                          bool cpu = false) {
  RunRecord run;
  run.id = "20260301T000000Z-abcdef";
  run.command = {"python3", "train.py"};
  run.start_utc = start;
  run.end_utc = start + duration;
  run.host = "testhost";
  run.timeline.bucket = bucket;
  for (size_t i = 0; i < gpus.size(); ++i) {
    run.timeline.devices.push_back(
        {"gpu" + std::to_string(i), DeviceKind::kGpu, gpus[i], Method::kCounter, "", ""});
  }
  if (cpu) {
    run.timeline.devices.push_back(
        {"cpu0-package", DeviceKind::kCpu, "package-0", Method::kCounter, "", ""});
  }
  const size_t n = run.timeline.devices.size();
  SysTime t = floor_to(start, bucket);
  for (double j : bucket_j) {
    TimelineBucket b;
    b.start_utc = t;
    b.active_s = to_seconds(std::min(t + bucket, run.end_utc) - std::max(t, start));
    b.energy_j.assign(n, j / static_cast<double>(n));
    run.timeline.buckets.push_back(std::move(b));
    t += bucket;
  }
  return run;
}

}  // namespace carbonclock::testing

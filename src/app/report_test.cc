#include "app/report.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

TEST(PowerFromSamplesTest, PowerBetweenSamplesFromTheRunsStart) {
  // Two devices, cumulative joules: 0..1 s at 50/10 W, 1..2 s at 150/10 W.
  std::vector<JournalSample> samples = {{1.0, {50, 10}}, {2.0, {200, 20}}};
  auto p = power_from_samples(samples, {}, 100);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_DOUBLE_EQ(p[0].from_s, 0.0);  // the run starts at 0 J
  EXPECT_DOUBLE_EQ(p[0].to_s, 1.0);
  EXPECT_DOUBLE_EQ(p[0].watts[0], 50);
  EXPECT_DOUBLE_EQ(p[1].watts[0], 150);
  EXPECT_DOUBLE_EQ(p[1].watts[1], 10);
}

TEST(PowerFromSamplesTest, MergesSamplesToAtMostMaxPointsKeepingTheEnergy) {
  std::vector<JournalSample> samples;
  double e = 0;
  for (int i = 1; i <= 1000; ++i) {
    e += i <= 500 ? 100 : 300;  // 100 W for 500 s, then 300 W
    samples.push_back({double(i), {e}});
  }
  auto p = power_from_samples(samples, {}, 10);
  ASSERT_LE(p.size(), 10u);
  double energy = 0;
  for (const auto& s : p) energy += s.watts[0] * (s.to_s - s.from_s);
  EXPECT_NEAR(energy, e, 1e-6);
  EXPECT_DOUBLE_EQ(p.front().watts[0], 100);
  EXPECT_DOUBLE_EQ(p.back().watts[0], 300);
  // Samples that go backwards in time or have the wrong width are left out.
  samples = {{1.0, {10}}, {0.5, {20}}, {2.0, {20, 1}}, {3.0, {30}}};
  p = power_from_samples(samples, {}, 10);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_DOUBLE_EQ(p[1].watts[0], 10);  // (30 - 10) J over 2 s
  EXPECT_TRUE(power_from_samples({}, {}, 10).empty());
}

// A counter refreshed every other sample (10 W busy, 1 s samples): each jump is drawn over the
// two seconds it was counted in, not as 0 W then 20 W; the energy is kept. Flat between jumps,
// the counter is coarse whatever its device says (none given here).
TEST(PowerFromSamplesTest, CoarseCounterIsSpreadOverTheSpanSinceItLastAdvanced) {
  std::vector<JournalSample> samples;
  for (int i = 1; i <= 6; ++i) samples.push_back({double(i), {10.0 * (i - i % 2)}});  // advances every other sample
  auto p = power_from_samples(samples, {}, 100);
  ASSERT_EQ(p.size(), 6u);
  double energy = 0;
  for (const auto& s : p) {
    EXPECT_DOUBLE_EQ(s.watts[0], 10) << s.from_s;
    energy += s.watts[0] * (s.to_s - s.from_s);
  }
  EXPECT_DOUBLE_EQ(energy, 60);
}

// An estimate that was refreshed and stayed flat showed an idle device: a job sleeping for 10 s,
// then busy at 10 W. The first jump reaches back two update periods (2 s), not over the whole
// idle stretch; after it each second has its own 10 W.
TEST(PowerFromSamplesTest, SpreadingReachesBackAtMostTwoUpdatePeriods) {
  std::vector<JournalSample> samples;
  for (int i = 1; i <= 20; ++i) samples.push_back({double(i), {i <= 10 ? 0.0 : 10.0 * (i - 10)}});
  const std::vector<DeviceInfo> estimate = {
      {"cpu-estimate", DeviceKind::kCpu, "job CPU time model", Method::kEstimate, "", ""}};
  auto p = power_from_samples(samples, estimate, 100);
  ASSERT_EQ(p.size(), 20u);
  for (size_t i = 0; i < 9; ++i) EXPECT_EQ(p[i].watts[0], 0) << p[i].from_s;
  EXPECT_DOUBLE_EQ(p[9].watts[0], 5);   // 9–10 s
  EXPECT_DOUBLE_EQ(p[10].watts[0], 5);  // 10–11 s: the 10 J of the first jump over 9–11 s
  for (size_t i = 11; i < 20; ++i) EXPECT_DOUBLE_EQ(p[i].watts[0], 10) << p[i].from_s;
}

// An estimate's last reading, 5 ms after the one before, catches up a 0.1 J quantum: drawn over
// its update period (1 s), not as 20 W for 5 ms. A measured counter's same step is its own
// difference of readings, as before.
TEST(PowerFromSamplesTest, AnEstimatesQuantumIsSpreadOverAnUpdatePeriod) {
  std::vector<JournalSample> samples = {
      {1.0, {10}}, {2.0, {20}}, {3.0, {30}}, {4.0, {40}}, {4.005, {40.1}}};
  const std::vector<DeviceInfo> estimate = {
      {"cpu-estimate", DeviceKind::kCpu, "job CPU time model", Method::kEstimate, "", ""}};
  auto p = power_from_samples(samples, estimate, 100);
  ASSERT_EQ(p.size(), 5u);
  EXPECT_DOUBLE_EQ(p[2].watts[0], 10);
  EXPECT_NEAR(p[3].watts[0], 10 + 0.1 * 0.995, 1e-9);
  EXPECT_NEAR(p[4].watts[0], 0.1, 1e-9);
  auto measured = estimate;
  measured[0].method = Method::kCounter;
  p = power_from_samples(samples, measured, 100);
  EXPECT_DOUBLE_EQ(p[3].watts[0], 10);
  EXPECT_NEAR(p[4].watts[0], 20, 1e-9);
}

}  // namespace
}  // namespace carbonclock

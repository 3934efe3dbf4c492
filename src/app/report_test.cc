#include "app/report.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

TEST(PowerFromSamplesTest, PowerBetweenSamplesFromTheRunsStart) {
  // Two devices, cumulative joules: 0..1 s at 50/10 W, 1..2 s at 150/10 W.
  std::vector<JournalSample> samples = {{1.0, {50, 10}}, {2.0, {200, 20}}};
  auto p = power_from_samples(samples, 100);
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
  auto p = power_from_samples(samples, 10);
  ASSERT_LE(p.size(), 10u);
  double energy = 0;
  for (const auto& s : p) energy += s.watts[0] * (s.to_s - s.from_s);
  EXPECT_NEAR(energy, e, 1e-6);
  EXPECT_DOUBLE_EQ(p.front().watts[0], 100);
  EXPECT_DOUBLE_EQ(p.back().watts[0], 300);
  // Samples that go backwards in time or have the wrong width are left out.
  samples = {{1.0, {10}}, {0.5, {20}}, {2.0, {20, 1}}, {3.0, {30}}};
  p = power_from_samples(samples, 10);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_DOUBLE_EQ(p[1].watts[0], 10);  // (30 - 10) J over 2 s
  EXPECT_TRUE(power_from_samples({}, 10).empty());
}

}  // namespace
}  // namespace carbonclock

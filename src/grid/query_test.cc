#include "grid/query.h"

#include <gtest/gtest.h>

#include "grid/test_util.h"

namespace carbonclock {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using testing::utc;

// 00:00-01:00 at 100, 01:00-01:30 at 200, gap 01:30-02:00, 02:00-02:15 at 400 (estimated).
IntensitySeries sample() {
  IntensitySeries s;
  s.zone = "Z";
  s.signal = Signal::kMarginal;
  s.factor = Factor::kDirect;
  s.source = "test";
  s.points = {{utc("2020-01-01T00:00Z"), hours(1), 100, false},
              {utc("2020-01-01T01:00Z"), minutes(30), 200, false},
              {utc("2020-01-01T02:00Z"), minutes(15), 400, true}};
  return s;
}

constexpr double kJPerKwh = 3.6e6;

TEST(Query, ValueAtFollowsTheStepFunction) {
  IntensitySeries s = sample();
  EXPECT_DOUBLE_EQ(value_at(s, utc("2020-01-01T00:00Z"))->g_per_kwh, 100);
  EXPECT_DOUBLE_EQ(value_at(s, utc("2020-01-01T00:59:59Z"))->g_per_kwh, 100);
  EXPECT_DOUBLE_EQ(value_at(s, utc("2020-01-01T01:00Z"))->g_per_kwh, 200);
  EXPECT_FALSE(value_at(s, utc("2020-01-01T01:30Z")).has_value());
  EXPECT_FALSE(value_at(s, utc("2019-12-31T23:59Z")).has_value());
  EXPECT_FALSE(value_at(s, utc("2020-01-01T02:15Z")).has_value());
}

TEST(Query, SliceKeepsNativeGranularityAndMetadata) {
  auto part = slice(sample(), utc("2020-01-01T00:30Z"), utc("2020-01-01T01:10Z"));
  ASSERT_EQ(part.points.size(), 2u);
  EXPECT_EQ(part.points[0].start, utc("2020-01-01T00:00Z"));
  EXPECT_EQ(part.points[0].duration, hours(1));
  EXPECT_EQ(part.signal, Signal::kMarginal);
  EXPECT_EQ(part.source, "test");
  EXPECT_TRUE(slice(sample(), utc("2020-01-01T01:30Z"), utc("2020-01-01T02:00Z")).points.empty());
}

TEST(Query, CoverageReportsGapsClippedToTheInterval) {
  auto c = coverage(sample(), utc("2019-12-31T23:30Z"), utc("2020-01-01T03:00Z"));
  EXPECT_EQ(c.covered, minutes(105));
  EXPECT_EQ(c.uncovered, minutes(30 + 30 + 45));
  ASSERT_EQ(c.gaps.size(), 3u);
  EXPECT_EQ(c.gaps[0].start, utc("2019-12-31T23:30Z"));
  EXPECT_EQ(c.gaps[1].start, utc("2020-01-01T01:30Z"));
  EXPECT_EQ(c.gaps[1].duration, minutes(30));
  EXPECT_EQ(c.gaps[2].end(), utc("2020-01-01T03:00Z"));
  EXPECT_DOUBLE_EQ(c.fraction(), 105.0 / 210.0);
  auto full = coverage(sample(), utc("2020-01-01T00:10Z"), utc("2020-01-01T01:20Z"));
  EXPECT_TRUE(full.gaps.empty());
  EXPECT_DOUBLE_EQ(full.fraction(), 1.0);
}

TEST(Query, FindGapsBetweenPoints) {
  auto gaps = find_gaps(sample());
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].start, utc("2020-01-01T01:30Z"));
  EXPECT_EQ(gaps[0].duration, minutes(30));
}

TEST(Integrate, FiveMinuteBucketsAcrossAnHourStep) {
  // Twelve 5-minute buckets from 00:50 to 01:50 with 1 kWh each (3.6e6 J).
  std::vector<EnergyInterval> e;
  for (int i = 0; i < 12; ++i) {
    e.push_back({utc("2020-01-01T00:50Z") + minutes(5 * i), minutes(5), kJPerKwh});
  }
  auto r = integrate(sample(), e);
  // 2 buckets at 100, 6 at 200, 4 in the gap.
  EXPECT_DOUBLE_EQ(r.emissions_g, 2 * 100.0 + 6 * 200.0);
  EXPECT_DOUBLE_EQ(r.energy_matched_j, 8 * kJPerKwh);
  EXPECT_DOUBLE_EQ(r.energy_unmatched_j, 4 * kJPerKwh);
  EXPECT_EQ(r.zone, "Z");
  EXPECT_EQ(r.signal, Signal::kMarginal);
  EXPECT_EQ(r.factor, Factor::kDirect);
}

TEST(Integrate, OneBucketSpanningSeveralStepsAndAGap) {
  // 00:45-02:15 (90 min), 9 kWh uniform = 0.1 kWh per minute.
  EnergyInterval e{utc("2020-01-01T00:45Z"), minutes(90), 9 * kJPerKwh};
  auto r = integrate(sample(), std::span(&e, 1));
  // 15 min at 100, 30 min at 200, 30 min gap, 15 min at 400 (estimated).
  double expected_g = 1.5 * 100 + 3.0 * 200 + 1.5 * 400;
  EXPECT_NEAR(r.emissions_g, expected_g, 1e-9);
  EXPECT_NEAR(r.energy_matched_j, 6 * kJPerKwh, 1e-6);
  EXPECT_NEAR(r.energy_unmatched_j, 3 * kJPerKwh, 1e-6);
  EXPECT_NEAR(r.estimated_energy_j, 1.5 * kJPerKwh, 1e-6);
}

TEST(Integrate, InstantIntervalsAndEmptyInput) {
  std::vector<EnergyInterval> e = {{utc("2020-01-01T01:10Z"), Nanos(0), kJPerKwh},
                                   {utc("2020-01-01T01:40Z"), Nanos(0), kJPerKwh}};
  auto r = integrate(sample(), e);
  EXPECT_DOUBLE_EQ(r.emissions_g, 200);
  EXPECT_DOUBLE_EQ(r.energy_unmatched_j, kJPerKwh);
  auto none = integrate(sample(), {});
  EXPECT_EQ(none.emissions_g, 0);
}

TEST(Integrate, UnsortedIntervalsGiveTheSameTotal) {
  std::vector<EnergyInterval> e = {{utc("2020-01-01T02:00Z"), minutes(15), kJPerKwh},
                                   {utc("2020-01-01T00:00Z"), minutes(30), kJPerKwh}};
  auto r = integrate(sample(), e);
  EXPECT_DOUBLE_EQ(r.emissions_g, 400 + 100);
  EXPECT_DOUBLE_EQ(r.energy_unmatched_j, 0);
}

}  // namespace
}  // namespace carbonclock

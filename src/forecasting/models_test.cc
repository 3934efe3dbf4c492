#include "forecasting/models.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <cmath>
#include <random>

#include "forecasting/test_series.h"

namespace carbonclock {
namespace {

using testing::monday;
using testing::pattern;
constexpr Nanos kHour = std::chrono::hours(1);

TEST(SlotCalendar, CellsStartOnMondayUtc) {
  SlotCalendar cal(monday(), kHour);
  EXPECT_EQ(cal.per_day(), 24u);
  EXPECT_EQ(cal.per_week(), 168u);
  EXPECT_EQ(cal.week_cell(0), 0u);
  EXPECT_EQ(cal.week_cell(167), 167u);  // Sunday 23:00
  EXPECT_EQ(cal.week_cell(168), 0u);
  EXPECT_EQ(cal.time_of_day(30), 6u);
  // A calendar starting on Wednesday 05:00 names the same cells.
  SlotCalendar wed(monday() + std::chrono::hours(53), kHour);
  EXPECT_EQ(wed.week_cell(0), 53u);
  EXPECT_EQ(wed.time_of_day(0), 5u);
  SlotCalendar quarter(monday(), std::chrono::minutes(15));
  EXPECT_EQ(quarter.per_day(), 96u);
  EXPECT_EQ(quarter.time_of_day(97), 1u);
}

TEST(WeeklyProfile, MeanOfTheLastWeeksPerCellSkippingGaps) {
  SlotCalendar cal(monday(), kHour);
  WeeklyProfile p(cal, 2);
  EXPECT_FALSE(p.ready());
  // Three weeks: week w holds 100 w + cell; cell 5 of week 2 is a gap.
  for (size_t i = 0; i < 3 * 168; ++i) {
    size_t w = i / 168, cell = i % 168;
    p.observe(w == 2 && cell == 5 ? NAN : 100.0 * static_cast<double>(w) + cell);
  }
  ASSERT_TRUE(p.ready());
  size_t next_week = 3 * 168;
  EXPECT_DOUBLE_EQ(p.value(next_week + 7), (107.0 + 207.0) / 2);  // weeks 1 and 2
  EXPECT_DOUBLE_EQ(p.value(next_week + 5), 105.0);                // week 2's value is a gap
}

TEST(WeeklyProfile, EmptyCellsFallBackToTheTimeOfDay) {
  SlotCalendar cal(monday(), kHour);
  WeeklyProfile p(cal, 4);
  for (size_t i = 0; i < 48; ++i) p.observe(static_cast<double>(i % 24) + (i < 24 ? 0 : 10));
  EXPECT_DOUBLE_EQ(p.value(24 + 3), 13.0);  // Tuesday 03:00 was seen
  EXPECT_DOUBLE_EQ(p.value(72 + 3), 8.0);   // Thursday 03:00 was not: mean of 3 and 13
  EXPECT_TRUE(std::isnan(WeeklyProfile(cal, 1).value(0)));
}

TEST(Persistence, RepeatsTheLastObservedDay) {
  RecentValues r(200);
  for (size_t i = 0; i < 50; ++i) r.push(static_cast<double>(i), static_cast<double>(i));
  std::vector<double> out(30);
  persistence_forecast(r, 24, 1, 30, out.data());
  // Slot 50 (step 1) is slot 26 a day earlier; step 24 → slot 49; step 25 → slot 26 again.
  EXPECT_DOUBLE_EQ(out[0], 26.0);
  EXPECT_DOUBLE_EQ(out[23], 49.0);
  EXPECT_DOUBLE_EQ(out[24], 26.0);
  RecentValues short_history(200);
  short_history.push(1, 1);
  persistence_forecast(short_history, 24, 1, 1, out.data());
  EXPECT_TRUE(std::isnan(out[0]));
}

TEST(SeasonalSmoothing, StartsFromItsFirstWeek) {
  SlotCalendar cal(monday(), kHour);
  SeasonalSmoothing s(cal, SmoothingParams{}, kHour);
  RecentValues r(400);
  std::vector<double> out(48);
  for (size_t i = 0; i < 168; ++i) {
    s.forecast(1, 1, out.data());
    EXPECT_TRUE(std::isnan(out[0]));  // not ready before a week
    r.push(pattern(i), pattern(i));
    s.observe(pattern(i), r);
  }
  ASSERT_TRUE(s.ready());
  // A week of a weekly-periodic series is all it takes: level, day and week seasons add up.
  s.forecast(1, 48, out.data());
  for (size_t h = 1; h <= 48; ++h) EXPECT_NEAR(out[h - 1], pattern(167 + h), 1e-9) << h;
}

TEST(SeasonalSmoothing, SeasonsLearnANewWeeklyShape) {
  SlotCalendar cal(monday(), kHour);
  SmoothingParams params;
  params.alpha = params.beta = params.psi = 0;  // a fixed level: the seasons must learn
  SeasonalSmoothing s(cal, params, kHour);
  RecentValues r(400);
  std::vector<double> out(48);
  size_t end = 18 * 168;
  for (size_t i = 0; i < end; ++i) {
    double y = i < 2 * 168 ? 300.0 : pattern(i);  // flat for two weeks, then the pattern
    r.push(y, y);
    s.observe(y, r);
  }
  s.forecast(1, 48, out.data());
  for (size_t h = 1; h <= 48; ++h) EXPECT_NEAR(out[h - 1], pattern(end - 1 + h), 1.0) << h;
}

TEST(SeasonalSmoothing, ConstantSeriesIsForecastExactly) {
  SlotCalendar cal(monday(), kHour);
  SeasonalSmoothing s(cal, SmoothingParams{}, kHour);
  RecentValues r(400);
  for (size_t i = 0; i < 400; ++i) {
    r.push(i == 200 ? NAN : 250.0, 250.0);  // a gap changes nothing
    s.observe(i == 200 ? NAN : 250.0, r);
  }
  std::vector<double> out(24);
  s.forecast(3, 24, out.data());
  for (double v : out) EXPECT_DOUBLE_EQ(v, 250.0);
}

TEST(DirectRegression, NeedsAWeekThenBeatsTheProfileOnAPersistentAnomaly) {
  SlotCalendar cal(monday(), kHour);
  auto history = testing::synthetic_history(8 * 168, 0.95, 15, 7);
  WeeklyProfile profile(cal, 4);
  DirectRegression reg(cal, 24, 1, RegressionParams{});
  RecentValues r(reg.history_needed());
  double reg_error = 0, profile_error = 0;
  size_t scored = 0;
  std::vector<double> out(1);
  for (size_t i = 0; i < history.size(); ++i) {
    double y = history.g_per_kwh[i];
    if (i == 100) {
      reg.forecast(r, profile, 1, 1, out.data());
      EXPECT_TRUE(std::isnan(out[0]));
    }
    if (i >= 3 * 168) {  // one-step-ahead, scored before y is fed
      reg.forecast(r, profile, 1, 1, out.data());
      reg_error += std::abs(out[0] - y);
      profile_error += std::abs(profile.value(i) - y);
      ++scored;
    }
    r.push(y, y);
    profile.observe(y);
    reg.observe(r, profile);
  }
  ASSERT_GT(scored, 0u);
  // The anomaly persists hour to hour (phi 0.95): the regression carries it, the profile cannot.
  EXPECT_LT(reg_error, 0.5 * profile_error);
}

TEST(CholeskySolve, AgreesWithEigenAndRefusesAMatrixThatIsNotPositiveDefinite) {
  using M = DirectRegression::Matrix;
  using V = DirectRegression::Vector;
  std::mt19937 rng(3);
  std::normal_distribution<double> g(0, 1);
  for (int trial = 0; trial < 20; ++trial) {
    M x;
    V b;
    for (int i = 0; i < M::RowsAtCompileTime; ++i) {
      b(i) = g(rng);
      for (int j = 0; j < M::ColsAtCompileTime; ++j) x(i, j) = g(rng);
    }
    M spd = x * x.transpose() + 0.1 * M::Identity();
    V expected = spd.llt().solve(b);
    M m = spd;
    m.triangularView<Eigen::StrictlyUpper>().setConstant(1e9);  // only the lower triangle is read
    V c = b;
    ASSERT_TRUE(cholesky_solve(m, c));
    EXPECT_LT((c - expected).norm(), 1e-9 * (1 + expected.norm())) << trial;
  }
  M singular = M::Zero();
  singular(0, 0) = 1;
  V c = V::Ones();
  EXPECT_FALSE(cholesky_solve(singular, c));
}

}  // namespace
}  // namespace carbonclock

#include "forecasting/decision_quality.h"

#include <gtest/gtest.h>

#include "forecasting/test_series.h"
#include "shifting/test_support.h"

namespace carbonclock {
namespace {

constexpr Nanos kHour = std::chrono::hours(1);
constexpr Nanos kFive = std::chrono::minutes(5);

Forecast hourly_forecast(SysTime first, const std::vector<double>& values) {
  Forecast f;
  f.series.zone = "TEST";
  f.issued_at = first;
  f.data_end_utc = first;
  f.slot = kHour;
  for (size_t k = 0; k < values.size(); ++k) {
    ForecastSlot s;
    s.start_utc = first + kHour * static_cast<int64_t>(k);
    s.step = k + 1;
    s.g_per_kwh = values[k];
    s.p10_g_per_kwh = values[k] - 10;
    s.p50_g_per_kwh = values[k];
    s.p90_g_per_kwh = values[k] + 10 * static_cast<double>(k);
    f.slots.push_back(s);
  }
  return f;
}

TEST(CapturedPct, ShareOfTheOracleSaving) {
  EXPECT_DOUBLE_EQ(*captured_pct(100, 60, 20), 50.0);
  EXPECT_DOUBLE_EQ(*captured_pct(100, 20, 20), 100.0);
  EXPECT_DOUBLE_EQ(*captured_pct(100, 120, 20), -25.0);  // worse than not shifting
  EXPECT_FALSE(captured_pct(100, 100, 100).has_value());
}

TEST(PlanningIntensity, UpsamplesTheChosenQuantile) {
  SysTime t = testing::monday();
  Forecast f = hourly_forecast(t, {100, 200, 300});
  auto p = planning_intensity(f, ForecastQuantile::kPoint, t + std::chrono::minutes(50), 4, kFive);
  ASSERT_TRUE(p.ok()) << p.error().message();
  ASSERT_EQ(p->size(), 4u);
  EXPECT_EQ(p->first_slot_utc, t + std::chrono::minutes(50));
  EXPECT_DOUBLE_EQ(p->g_per_kwh(1), 100.0);  // 00:55
  EXPECT_DOUBLE_EQ(p->g_per_kwh(2), 200.0);  // 01:00
  EXPECT_TRUE(p->window_covered(0, 4));
  auto p90 = planning_intensity(f, ForecastQuantile::kP90, t + 2 * kHour, 12, kFive);
  ASSERT_TRUE(p90.ok());
  EXPECT_DOUBLE_EQ(p90->g_per_kwh(0), 320.0);
  auto outside = planning_intensity(f, ForecastQuantile::kPoint, t + 2 * kHour, 13, kFive);
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message().find("not inside the forecast"), std::string::npos);
}

TEST(ToSeries, KeepsIssueTimeModelAndTheChosenQuantile) {
  SysTime t = testing::monday();
  Forecast f = hourly_forecast(t, {100, 200});
  f.model = ModelKind::kRegression;
  IntensitySeries point = to_series(f);
  EXPECT_EQ(point.source, "carbonclock-forecast-regression");
  ASSERT_TRUE(point.issued_at.has_value());
  EXPECT_EQ(*point.issued_at, t);
  ASSERT_EQ(point.points.size(), 2u);
  EXPECT_EQ(point.points[1].start, t + kHour);
  EXPECT_EQ(point.points[1].duration, kHour);
  EXPECT_DOUBLE_EQ(point.points[1].g_per_kwh, 200.0);
  IntensitySeries p90 = to_series(f, ForecastQuantile::kP90);
  EXPECT_EQ(p90.source, "carbonclock-forecast-regression-p90");
  EXPECT_DOUBLE_EQ(p90.points[1].g_per_kwh, 210.0);
  f.slots[1].p90_g_per_kwh = NAN;  // no interval: the point forecast
  EXPECT_DOUBLE_EQ(to_series(f, ForecastQuantile::kP90).points[1].g_per_kwh, 200.0);
}

TEST(PlanOnForecast, PerfectForecastCapturesAllAndAFlatOneNothing) {
  // Actual 5 4 1 1 3 9 (× 100), job of 2 slots, window 4: the oracle runs in slots 2–3.
  auto actual = testing::slotted({500, 400, 100, 100, 300, 900});
  auto job = flat_profile("job", 2 * kFive, 2.0, kFive).value();
  auto oracle = flexible_start(job, actual, 0, 4).value();
  auto perfect = plan_on_forecast(job, actual, oracle, actual);
  ASSERT_TRUE(perfect.ok());
  EXPECT_DOUBLE_EQ(perfect->realised_g, 200.0);
  EXPECT_DOUBLE_EQ(*perfect->captured_pct(), 100.0);
  // A flat forecast: the earliest start wins, which is the baseline.
  auto flat = plan_on_forecast(job, actual, oracle, testing::slotted({7, 7, 7, 7, 7, 7}));
  ASSERT_TRUE(flat.ok());
  EXPECT_DOUBLE_EQ(flat->realised_g, flat->baseline_g);
  EXPECT_DOUBLE_EQ(*flat->captured_pct(), 0.0);
  // A forecast that expects the clean hours at the end picks slots 4–5: 1200 g, worse than 900.
  auto wrong = plan_on_forecast(job, actual, oracle, testing::slotted({9, 9, 9, 9, 1, 1}));
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->slots, (std::vector<size_t>{4, 5}));
  EXPECT_DOUBLE_EQ(*wrong->captured_pct(), 100.0 * (900 - 1200) / (900 - 200));
  // Pause and Resume at a later start: indices are shifted into the actuals.
  auto pr_oracle = pause_resume(job, actual, 1, 3).value();
  auto pr = plan_on_forecast(job, actual, pr_oracle, testing::slotted({1, 9, 9, 1, 9}));
  ASSERT_TRUE(pr.ok());
  EXPECT_EQ(pr->slots, (std::vector<size_t>{1, 4}));
  EXPECT_EQ(pr->pauses, 1u);
  EXPECT_DOUBLE_EQ(pr->realised_g, 700.0);
}

}  // namespace
}  // namespace carbonclock

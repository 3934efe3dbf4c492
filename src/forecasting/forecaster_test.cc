#include "forecasting/forecaster.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "forecasting/test_series.h"
#include "grid/importers.h"

namespace carbonclock {
namespace {

using testing::monday;
using testing::synthetic_history;
constexpr Nanos kHour = std::chrono::hours(1);
constexpr Nanos kDay = std::chrono::hours(24);

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void expect_same_forecast(const Forecast& a, const Forecast& b) {
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.data_end_utc, b.data_end_utc);
  EXPECT_EQ(a.notes, b.notes);
  ASSERT_EQ(a.slots.size(), b.slots.size());
  for (size_t k = 0; k < a.slots.size(); ++k) {
    EXPECT_EQ(a.slots[k].start_utc, b.slots[k].start_utc);
    EXPECT_EQ(a.slots[k].model, b.slots[k].model);
    EXPECT_TRUE(same(a.slots[k].g_per_kwh, b.slots[k].g_per_kwh)) << k;
    EXPECT_TRUE(same(a.slots[k].p10_g_per_kwh, b.slots[k].p10_g_per_kwh)) << k;
    EXPECT_TRUE(same(a.slots[k].p90_g_per_kwh, b.slots[k].p90_g_per_kwh)) << k;
  }
}

TEST(ModelNames, ParseAndPrint) {
  for (ModelKind m : {ModelKind::kAuto, ModelKind::kProfile, ModelKind::kPersistence,
                      ModelKind::kSmoothing, ModelKind::kRegression}) {
    auto parsed = parse_model(to_string(m));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, m);
  }
  auto bad = parse_model("sarima");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("regression"), std::string::npos);
  EXPECT_EQ(*parse_forecast_quantile("p90"), ForecastQuantile::kP90);
  EXPECT_FALSE(parse_forecast_quantile("p95").ok());
}

// The rule: a forecast as of t depends only on slots that end at or before t. Changing every
// later value (including the slot that holds t) changes nothing, for every model.
TEST(Forecaster, PerturbingTheFutureChangesNothing) {
  auto history = synthetic_history(42 * 24, 0.9, 20, 1);
  for (Nanos into_slot : {Nanos(0), Nanos(std::chrono::minutes(30))}) {
    SysTime decision = monday() + 30 * kDay + std::chrono::hours(7) + into_slot;
    auto perturbed = history;
    for (size_t i = 0; i < perturbed.size(); ++i) {
      if (perturbed.slot_start(i + 1) > decision) perturbed.g_per_kwh[i] = 5000.0 + i;
    }
    for (ModelKind m : {ModelKind::kAuto, ModelKind::kProfile, ModelKind::kPersistence,
                        ModelKind::kSmoothing, ModelKind::kRegression}) {
      auto a = HistoryForecaster::create(history).value();
      auto b = HistoryForecaster::create(perturbed).value();
      auto fa = a.forecast_at(decision, 48 * kHour, {m, true});
      auto fb = b.forecast_at(decision, 48 * kHour, {m, true});
      ASSERT_TRUE(fa.ok()) << fa.error().message();
      ASSERT_TRUE(fb.ok());
      EXPECT_EQ(fa->data_end_utc, decision - into_slot);
      EXPECT_EQ(fa->slots.front().start_utc, decision - into_slot);  // the slot holding t
      expect_same_forecast(*fa, *fb);
    }
  }
}

TEST(Forecaster, RefusesADecisionTimeBeforeItsData) {
  auto history = synthetic_history(20 * 24, 0.9, 20, 2);
  auto f = Forecaster::fit(history, monday() + 10 * kDay);
  ASSERT_TRUE(f.ok());
  auto r = f->forecast(monday() + 10 * kDay - kHour, kDay);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("look-ahead"), std::string::npos) << r.error().message();
}

TEST(Forecaster, RollingEqualsFittingFromScratch) {
  auto history = synthetic_history(40 * 24, 0.9, 20, 3);
  auto rolling = HistoryForecaster::create(history).value();
  for (int day : {15, 16, 22, 31}) {
    SysTime t = monday() + day * kDay + std::chrono::hours(day % 5);
    auto incremental = rolling.forecast_at(t, 36 * kHour);
    auto scratch = Forecaster::fit(history, t).value().forecast(t, 36 * kHour);
    ASSERT_TRUE(incremental.ok() && scratch.ok());
    expect_same_forecast(*incremental, *scratch);
  }
  // An earlier decision time starts again from the first slot: still the same answer.
  SysTime early = monday() + 20 * kDay;
  expect_same_forecast(rolling.forecast_at(early, kDay).value(),
                       Forecaster::fit(history, early).value().forecast(early, kDay).value());
}

TEST(Forecaster, TooLittleHistorySaysHowMuchIsNeededAndFallsBackToTheProfile) {
  auto history = synthetic_history(20 * 24, 0.9, 20, 4);
  auto half_day = Forecaster::fit(history, monday() + 12 * kHour).value();
  auto none = half_day.forecast(monday() + 12 * kHour, kDay);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("needs at least 1.0 days"), std::string::npos)
      << none.error().message();
  EXPECT_NE(none.error().message().find("14.0 days"), std::string::npos);

  SysTime t = monday() + 3 * kDay;
  auto three_days = Forecaster::fit(history, t).value();
  auto f = three_days.forecast(t, kDay, {ModelKind::kRegression, true});
  ASSERT_TRUE(f.ok()) << f.error().message();
  EXPECT_EQ(f->requested, ModelKind::kRegression);
  EXPECT_EQ(f->model, ModelKind::kProfile);
  ASSERT_FALSE(f->notes.empty());
  EXPECT_NE(f->notes.back().find("regression needs 14.0 days of history, TEST has 3.0 days"),
            std::string::npos)
      << f->notes.back();
  for (const ForecastSlot& s : f->slots) EXPECT_EQ(s.model, ModelKind::kProfile);
}

TEST(Forecaster, HorizonBeyondTheModelUsesTheProfileAndSaysSo) {
  auto history = synthetic_history(30 * 24, 0.9, 20, 5);
  ForecasterOptions options;
  options.model_horizon = 48 * kHour;
  SysTime t = monday() + 25 * kDay;
  auto f = Forecaster::fit(history, t, options).value();
  EXPECT_EQ(f.model_steps(), 48u);
  auto r = f.forecast(t, 72 * kHour, {ModelKind::kRegression, true});
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->slots.size(), 72u);
  EXPECT_EQ(r->slots[47].model, ModelKind::kRegression);
  EXPECT_EQ(r->slots[48].model, ModelKind::kProfile);
  bool noted = false;
  for (const auto& n : r->notes) noted |= n.find("24 slots beyond regression's horizon") == 0;
  EXPECT_TRUE(noted);
  auto too_long = f.forecast(t, std::chrono::days(32));
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message().find("longer than carbonclock forecasts"),
            std::string::npos);
  EXPECT_FALSE(f.forecast(t, Nanos(0)).ok());
}

TEST(Forecaster, GapsAreReadAsTheProfileAndALateDataEndShiftsTheSteps) {
  auto history = synthetic_history(30 * 24, 0.9, 20, 6);
  for (size_t i = 20 * 24; i < 20 * 24 + 10; ++i) history.g_per_kwh[i] = NAN;  // 10 h inside
  for (size_t i = 28 * 24 - 30; i < 28 * 24; ++i) history.g_per_kwh[i] = NAN;  // 30 h at the end
  SysTime t = monday() + 28 * kDay;
  auto f = Forecaster::fit(history, t).value();
  auto r = f.forecast(t + 3 * kHour, kDay, {ModelKind::kRegression, true});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->model, ModelKind::kRegression);
  EXPECT_EQ(r->slots.front().step, 4u);  // data ends 3 h before the decision
  for (const ForecastSlot& s : r->slots) EXPECT_TRUE(std::isfinite(s.g_per_kwh));
  ASSERT_GE(r->notes.size(), 2u);
  EXPECT_EQ(r->notes[0].find("the latest actual ends at"), 0u) << r->notes[0];
  EXPECT_EQ(r->notes[1].find("the last 30h"), 0u) << r->notes[1];
}

// Auto's choice follows the back-test: after a level shift the 4-week profile lags while
// persistence and the adaptive models follow.
TEST(Forecaster, AutoPicksTheModelWithTheLowerBackTestedError) {
  SlotHistory h;
  h.info.zone = "SHIFT";
  h.first_slot_utc = monday();
  for (size_t i = 0; i < 40 * 24; ++i) {
    h.g_per_kwh.push_back(testing::pattern(i) + (i >= 20 * 24 ? 200.0 : 0.0));
  }
  SysTime t = monday() + 35 * kDay;
  auto f = Forecaster::fit(h, t).value();
  Forecaster::Choice c = f.choose(24);
  EXPECT_NE(c.model, ModelKind::kProfile);
  EXPECT_GT(c.steps_compared, 0u);
  double profile_mae = c.mean_mae_g_per_kwh[0];
  double chosen_mae = c.mean_mae_g_per_kwh[static_cast<size_t>(c.model)];
  EXPECT_LT(chosen_mae, 0.5 * profile_mae);
  auto r = f.forecast(t, kDay);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->requested, ModelKind::kAuto);
  EXPECT_EQ(r->model, c.model);
  EXPECT_NE(r->describe().find("(auto; MAE"), std::string::npos) << r->describe();
}

// The rolling back-test scores exactly the forecasts forecast() hands out: MAE per step of
// forecasts made at every hour from the day the regression is first served equals the
// forecaster's own tally.
TEST(Forecaster, SkillIsTheErrorOfTheForecastsItServes) {
  auto history = synthetic_history(24 * 24, 0.9, 20, 8);
  ForecasterOptions options;
  options.model_horizon = 12 * kHour;
  auto rolling = HistoryForecaster::create(history, options).value();
  HorizonErrors outside(12);
  size_t first_origin = static_cast<size_t>(min_history(ModelKind::kRegression) / kHour);
  for (size_t o = first_origin; o < history.size(); ++o) {
    auto f =
        rolling.forecast_at(history.slot_start(o), 12 * kHour, {ModelKind::kRegression, false});
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(f->model, ModelKind::kRegression);
    for (const ForecastSlot& s : f->slots) {
      size_t target = o + s.step - 1;
      if (target < history.size()) outside.add(s.step, s.g_per_kwh, history.g_per_kwh[target]);
    }
  }
  auto all = Forecaster::fit(history, history.end_utc(), options).value();
  const HorizonErrors& inside = all.all_time_errors(ModelKind::kRegression);
  for (size_t h = 1; h <= 12; ++h) {
    EXPECT_EQ(inside.count(h), outside.count(h));
    EXPECT_GT(outside.count(h), 200u);
    EXPECT_DOUBLE_EQ(inside.mae(h), outside.mae(h));
    EXPECT_DOUBLE_EQ(inside.mape_pct(h), outside.mape_pct(h));
  }
  // The rolling window (28 days) holds all of them here.
  Skill skill = all.skill(ModelKind::kRegression, 12);
  EXPECT_NEAR(skill.mae_g_per_kwh[0], outside.mae(1), 1e-4);
}

// Intervals come from past errors: on a stationary series the p10–p90 band of the profile holds
// about 80 % of what happened.
TEST(Forecaster, ProfileIntervalsCoverAboutEightyPercent) {
  auto history = synthetic_history(120 * 24, 0.0, 25, 9);  // white noise around the pattern
  auto rolling = HistoryForecaster::create(history).value();
  size_t inside = 0, total = 0;
  for (size_t o = 60 * 24; o + 24 <= history.size(); o += 7) {
    auto f = rolling.forecast_at(history.slot_start(o), kDay, {ModelKind::kProfile, true});
    ASSERT_TRUE(f.ok());
    for (const ForecastSlot& s : f->slots) {
      ASSERT_FALSE(std::isnan(s.p10_g_per_kwh));
      ASSERT_LE(s.p10_g_per_kwh, s.p50_g_per_kwh);
      ASSERT_LE(s.p50_g_per_kwh, s.p90_g_per_kwh);
      double y = history.g_per_kwh[o + s.step - 1];
      inside += (y >= s.p10_g_per_kwh && y <= s.p90_g_per_kwh) ? 1 : 0;
      ++total;
    }
  }
  double coverage = static_cast<double>(inside) / static_cast<double>(total);
  EXPECT_GT(coverage, 0.72);
  EXPECT_LT(coverage, 0.88);
}

TEST(Forecaster, CreateRejectsSlotsThatDoNotTileTheDay) {
  SeriesInfo info;
  info.zone = "Z";
  auto odd = Forecaster::create(info, monday(), std::chrono::minutes(7));
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.error().message().find("does not divide one day"), std::string::npos);
  auto shifted = Forecaster::create(info, monday() + std::chrono::minutes(30), kHour);
  ASSERT_FALSE(shifted.ok());
  EXPECT_NE(shifted.error().message().find("does not start on a multiple"), std::string::npos);
}

// Sub-hourly series forecast at their own granularity; origins (training and scoring) stay hourly.
TEST(Forecaster, WorksAtQuarterHourGranularity) {
  constexpr Nanos kQuarter = std::chrono::minutes(15);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 10);
  SlotHistory h;
  h.info.zone = "QUARTER";
  h.first_slot_utc = monday();
  h.slot = kQuarter;
  for (size_t i = 0; i < 20 * 96; ++i) h.g_per_kwh.push_back(testing::pattern(i / 4) + noise(rng));
  SysTime t = monday() + 18 * kDay;
  auto f = Forecaster::fit(h, t).value();
  EXPECT_EQ(f.model_steps(), 192u);  // 48 h of 15-minute slots
  auto r = f.forecast(t, kDay, {ModelKind::kRegression, true});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->model, ModelKind::kRegression);
  ASSERT_EQ(r->slots.size(), 96u);
  EXPECT_EQ(r->slots[1].start_utc, t + kQuarter);
  for (const ForecastSlot& s : r->slots) {
    EXPECT_TRUE(std::isfinite(s.g_per_kwh));
    EXPECT_NEAR(s.g_per_kwh, testing::pattern(18 * 24 + (s.step - 1) / 4), 40.0);
    if (!std::isnan(s.p10_g_per_kwh)) {
      EXPECT_LE(s.p10_g_per_kwh, s.p90_g_per_kwh);
    }
  }
}

std::filesystem::path shared(const std::string& rel) {
  return std::filesystem::path(CARBONCLOCK_SHARED_DATA) / rel;
}

// A year of Germany (Electricity Maps, hourly): the adaptive regression beats the profile at
// every horizon it forecasts, most of all in the first hours.
TEST(RealData, RegressionBeatsTheProfileOnAYearOfGermany) {
  auto path = shared("electricitymaps_hourly/DE-LU_2022_hourly.csv");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not found: " << path;
  ImportOptions options;
  options.factor = Factor::kLifecycle;
  auto series = read_series_file(path, options);
  ASSERT_TRUE(series.ok()) << series.error().message();
  auto h = history_from_series(series->front());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->slot, kHour);
  auto f = Forecaster::fit(*h, h->end_utc()).value();
  const HorizonErrors& reg = f.all_time_errors(ModelKind::kRegression);
  const HorizonErrors& profile = f.all_time_errors(ModelKind::kProfile);
  EXPECT_LT(reg.mae(1), 0.5 * profile.mae(1));
  EXPECT_LT(reg.mean_mae(1, 48), 0.85 * profile.mean_mae(1, 48));
  for (size_t step = 1; step <= 48; ++step) EXPECT_LT(reg.mae(step), profile.mae(step)) << step;
}

// Great Britain from Let's Wait Awhile mixes 30- and 15-minute steps: its own granularity is
// 30 minutes, and forecasts come at that granularity.
TEST(RealData, MixedStepsForecastAtTheCommonestStep) {
  auto path = shared("lets-wait-awhile/gb_ci.csv");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not found: " << path;
  ImportOptions options;
  options.zone = "GB";
  auto series = read_series_file(path, options);
  ASSERT_TRUE(series.ok()) << series.error().message();
  auto h = history_from_series(series->front());
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_EQ(h->slot, std::chrono::minutes(30));
  SysTime t = h->first_slot_utc + std::chrono::days(60);
  auto f = Forecaster::fit(*h, t).value();
  auto r = f.forecast(t, 48 * kHour);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->slots.size(), 96u);
  EXPECT_NE(r->model, ModelKind::kProfile) << r->describe();
}

}  // namespace
}  // namespace carbonclock

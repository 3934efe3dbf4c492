// The forecast and backtest use cases in process: a zone's forecast with intervals, provenance
// and its errors; the back-test against `sweep` (oracle), re-planning at issue times against
// every slot, the look-ahead rule at the start, and one zone-year of real data.
#include "app/forecast.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "app/backtest.h"
#include "app/schedule.h"
#include "app/test_support.h"
#include "grid/importers.h"
#include "reports/backtest_render.h"
#include "reports/forecast_render.h"
#include "reports/plan_render.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

const SysTime kT0 = parse_utc("2026-01-05T00:00:00Z").value();  // a Monday

/// Hourly values with a daily and a weekly shape and deterministic irregular noise.
std::vector<double> synthetic(size_t hours) {
  std::vector<double> v(hours);
  uint64_t x = 12345;
  for (size_t h = 0; h < hours; ++h) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    double noise = static_cast<double>((x >> 33) % 1000) / 1000.0 - 0.5;
    v[h] = 300 + 120 * std::sin(2 * M_PI * static_cast<double>(h % 24) / 24) +
           40 * std::sin(2 * M_PI * static_cast<double>(h) / 168) + 60 * noise;
  }
  return v;
}

using testing::hourly;

class ForecastAppTest : public testing::UseCaseTest {
 protected:
  ForecastAppTest() : UseCaseTest("cc_fapp", kT0 + 24h * 21) {}
  std::string jobs_csv() {
    fs::path p = dir() / "jobs.csv";
    std::ofstream(p) << "name,duration_h,energy_kwh\nshort,3,6\nlong,20,40\n";
    return p.string();
  }
  /// Rows of a back-test, all zones.
  Result<std::vector<BacktestRow>> backtest(const BacktestRequest& r, BacktestRun* run = nullptr) {
    std::vector<BacktestRow> rows;
    AppContext c = ctx();
    auto result = run_backtest_request(r, c, [&](const BacktestRun&, std::vector<BacktestRow>&& z) {
      rows.insert(rows.end(), z.begin(), z.end());
      return Status{};
    });
    if (!result) return result.error();
    if (run) *run = std::move(*result);
    return rows;
  }
};

// ---- forecast ---------------------------------------------------------------------------------

TEST_F(ForecastAppTest, ForecastsFromStoredHistoryWithIntervalsAndShowsLaterActuals) {
  import({hourly("DE", kT0, synthetic(24 * 28))});
  ZoneForecastRequest r;
  r.zone = "DE";
  r.horizon = "24h";
  r.as_of = format_utc(kT0 + 24h * 20 + 30min);  // inside an hour: that hour is forecast
  AppContext c = ctx();
  auto f = forecast_zone(r, c);
  ASSERT_TRUE(f) << f.error().message();
  // From the hour holding --as-of to the one holding --as-of + 24 h.
  ASSERT_EQ(f->forecast.slots.size(), 25u);
  EXPECT_EQ(f->forecast.slots.front().start_utc, kT0 + 24h * 20);
  EXPECT_EQ(f->history.end_utc, kT0 + 24h * 20);  // nothing after --as-of was read
  EXPECT_EQ(f->history.slots, 24u * 20);
  EXPECT_EQ(f->history.slot, 1h);
  EXPECT_EQ(f->history.gaps, 0u);
  EXPECT_NE(f->forecast.model, ModelKind::kAuto);
  const std::vector<double> truth = synthetic(size_t{24} * 28);
  double abs_error = 0;
  for (size_t k = 0; k < 24; ++k) {
    const ForecastSlot& s = f->forecast.slots[k];
    ASSERT_FALSE(std::isnan(s.p10_g_per_kwh)) << k;
    EXPECT_LE(s.p10_g_per_kwh, s.p50_g_per_kwh) << k;
    EXPECT_LE(s.p50_g_per_kwh, s.p90_g_per_kwh) << k;
    // The stored actual of the forecast slot is shown beside it (the store keeps µg/kWh).
    EXPECT_NEAR(f->actual_g_per_kwh[k], truth[24 * 20 + k], 1e-6) << k;
    abs_error += std::abs(s.g_per_kwh - truth[24 * 20 + k]);
  }
  // The daily shape is learnt: far better than the series' spread (±120 around 300).
  EXPECT_LT(abs_error / 24, 45.0);

  std::string csv = render_forecast(*f, Format::kCsv);
  EXPECT_EQ(csv.rfind(forecast_csv_header(), 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 26);
  auto json = nlohmann::json::parse(render_forecast(*f, Format::kJson));
  EXPECT_EQ(json["zone"], "DE");
  EXPECT_EQ(json["slots"].size(), 25u);
  EXPECT_EQ(json["history"]["data_end_utc"], format_utc(kT0 + 24h * 20));
  EXPECT_THAT(json["source"].get<std::string>(), HasSubstr("carbonclock-forecast"));
  EXPECT_THAT(render_forecast(*f, Format::kText), HasSubstr("p90"));
}

TEST_F(ForecastAppTest, StoreKeepsTheForecastWithIssuedAtAndModel) {
  import({hourly("DE", kT0, synthetic(24 * 21))});
  ZoneForecastRequest r;
  r.zone = "DE";
  r.horizon = "12h";
  r.store = true;
  AppContext c = ctx();
  auto f = forecast_zone(r, c);  // as of the clock: the end of the data
  ASSERT_TRUE(f) << f.error().message();
  ASSERT_TRUE(f->stored);
  EXPECT_EQ(f->stored->points_added, 12);
  auto store = GridStore::open(dir() / "db.sqlite");
  ASSERT_TRUE(store);
  auto list = store->list();
  ASSERT_TRUE(list);
  bool found = false;
  for (const StoredSeriesInfo& i : *list) {
    if (!i.issued_at) continue;
    found = true;
    EXPECT_EQ(*i.issued_at, kT0 + 24h * 21);
    EXPECT_THAT(i.source, HasSubstr("carbonclock-forecast-"));
    EXPECT_THAT(i.source, HasSubstr(to_string(f->forecast.model)));
  }
  EXPECT_TRUE(found);
}

TEST_F(ForecastAppTest, BadInputIsAClearError) {
  import({hourly("DE", kT0, synthetic(24 * 21))});
  AppContext c = ctx();
  ZoneForecastRequest r;
  r.zone = "DE";
  r.signal = Signal::kMarginal;  // only average data is stored
  auto marginal = forecast_zone(r, c);
  ASSERT_FALSE(marginal);
  EXPECT_THAT(marginal.error().message(), HasSubstr("marginal"));

  r.signal = std::nullopt;
  r.as_of = format_utc(kT0 + 12h);  // half a day of history
  auto short_history = forecast_zone(r, c);
  ASSERT_FALSE(short_history);
  EXPECT_THAT(short_history.error().message(), HasSubstr("forecasting needs at least"));

  r.as_of = format_utc(kT0 + 24h * 200);  // long after the data
  auto stale = forecast_zone(r, c);
  ASSERT_FALSE(stale);
  EXPECT_THAT(stale.error().message(), HasSubstr("--as-of"));

  r.as_of.clear();
  r.horizon = "40d";
  auto too_far = forecast_zone(r, c);
  ASSERT_FALSE(too_far);
  r.horizon = "24h";
  r.model = "sarima";
  auto model = forecast_zone(r, c);
  ASSERT_FALSE(model);
  EXPECT_THAT(model.error().message(), HasSubstr("--model"));
}

TEST_F(ForecastAppTest, ModelWithoutItsHistoryFallsBackToTheProfileAndSaysSo) {
  import({hourly("DE", kT0, synthetic(24 * 5))});
  ZoneForecastRequest r;
  r.zone = "DE";
  r.model = "regression";
  r.as_of = format_utc(kT0 + 24h * 5);
  AppContext c = ctx();
  auto f = forecast_zone(r, c);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->forecast.model, ModelKind::kProfile);
  std::string notes;
  for (const auto& n : f->notes) notes += n + "\n";
  EXPECT_THAT(notes, HasSubstr("regression needs"));
}

// ---- plan --risk -------------------------------------------------------------------------------

PlanRequest risk_plan(const std::string& zone, const std::string& risk) {
  PlanRequest p;
  p.zone = zone;
  p.duration = "2h";
  p.energy_kwh = 1;
  p.schedule.flex_start = "12h";
  p.schedule.slot = "1h";
  p.schedule.risk = risk;
  return p;
}

TEST_F(ForecastAppTest, PlanOnP90PlansOnTheUpperQuantileOfItsOwnForecastAndSaysSo) {
  import({hourly("DE", kT0, synthetic(size_t{24} * 21))});  // the clock: the end of the data
  AppContext c = ctx();
  auto point = plan_job(risk_plan("DE", ""), c);
  auto p90 = plan_job(risk_plan("DE", "p90"), c);
  ASSERT_TRUE(point) << point.error().message();
  ASSERT_TRUE(p90) << p90.error().message();
  EXPECT_EQ(point->home.risk.quantile, ForecastQuantile::kPoint);
  EXPECT_EQ(point->home.risk.text, "");
  EXPECT_EQ(p90->spec.risk, ForecastQuantile::kP90);
  const RiskUse& risk = p90->home.risk;
  ASSERT_EQ(risk.slots, p90->home.intensity.size());
  EXPECT_EQ(risk.on_quantile, risk.slots);
  EXPECT_THAT(risk.text, HasSubstr("planned on p90 of carbonclock's own forecast"));
  // The values planned on are the interval's upper quantile: never below the point forecast.
  ASSERT_EQ(point->home.intensity.size(), p90->home.intensity.size());
  bool higher = false;
  for (size_t i = 0; i < risk.slots; ++i) {
    EXPECT_GE(p90->home.intensity.ug_per_kwh[i], point->home.intensity.ug_per_kwh[i]) << i;
    higher = higher || p90->home.intensity.ug_per_kwh[i] > point->home.intensity.ug_per_kwh[i];
  }
  EXPECT_TRUE(higher);
  EXPECT_THAT(render_plan(*p90, Format::kText), HasSubstr("risk: planned on p90"));
  auto json = nlohmann::json::parse(render_plan(*p90, Format::kJson));
  EXPECT_EQ(json["risk"]["quantile"], "p90");
  EXPECT_EQ(json["risk"]["slots_on_quantile"], risk.on_quantile);
  auto point_json = nlohmann::json::parse(render_plan(*point, Format::kJson));
  EXPECT_EQ(point_json["risk"]["quantile"], "point");
  EXPECT_EQ(point_json["risk"]["slots_on_quantile"], 0);
}

TEST_F(ForecastAppTest, PlanOnP90WithoutIntervalsIsALabelledFallBackOrAnError) {
  // No stored history for FR: the embedded profile, which has no interval, is planned on as it
  // is, and the plan says so slot count by slot count.
  AppContext c = ctx();
  auto p = plan_job(risk_plan("FR", "p90"), c);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->home.risk.on_quantile, 0u);
  EXPECT_THAT(p->home.risk.text,
              HasSubstr(fmt::format("--risk p90: {} of {} slots rest on embedded",
                                    p->home.risk.slots, p->home.risk.slots)));
  EXPECT_THAT(p->home.risk.text, HasSubstr("no prediction interval"));
  // A scripted intensity file never has intervals: refused up front.
  fs::path file = dir() / "intensity.csv";
  std::ofstream(file) << "start,duration_s,g_per_kwh\n+0,86400,100\n";
  PlanRequest scripted = risk_plan("FR", "p90");
  scripted.schedule.intensity_file = file.string();
  auto refused = plan_job(scripted, c);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("--risk p90: --intensity-file"));
  auto unknown = plan_job(risk_plan("FR", "p95"), c);
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message(), HasSubstr("--risk"));
}

// ---- backtest ---------------------------------------------------------------------------------

BacktestRequest grid_request(const std::string& jobs, const std::string& forecast) {
  BacktestRequest r;
  r.grid.jobs = jobs;
  r.grid.zones = "DE";
  r.grid.windows = "6h,50%,100%";
  r.grid.every = "29h";
  r.forecast = forecast;
  return r;
}

TEST_F(ForecastAppTest, BacktestWithTheOracleEqualsSweepRowForRow) {
  import({hourly("DE", kT0, synthetic(24 * 28))});
  BacktestRequest r = grid_request(jobs_csv(), "oracle");
  BacktestRun run;
  auto rows = backtest(r, &run);
  ASSERT_TRUE(rows) << rows.error().message();
  AppContext c = ctx();
  auto inputs = prepare_sweep(r.grid, c);
  ASSERT_TRUE(inputs);
  std::vector<SweepCell> cells;
  ASSERT_TRUE(run_sweep(inputs->jobs, inputs->zones, inputs->windows, {},
                        [&](SweepCell&& cell) { cells.push_back(std::move(cell)); }));
  std::sort(cells.begin(), cells.end(),
            [](const SweepCell& a, const SweepCell& b) { return a.job < b.job; });
  size_t i = 0, with_saving = 0;
  for (const SweepCell& cell : cells) {
    const auto& starts = inputs->zones[0].starts;
    for (size_t q = 0; q < starts.size(); ++q) {
      for (size_t w = 0; w < cell.windows.size(); ++w) {
        const SweepCell::Window& win = cell.windows[w];
        if (win.status[q] != StartStatus::kOk) continue;
        for (int a = 0; a < 2; ++a) {
          ASSERT_LT(i, rows->size());
          const BacktestRow& row = (*rows)[i++];
          EXPECT_EQ(row.job, cell.job);
          EXPECT_EQ(row.window, w);
          EXPECT_EQ(row.start_utc, floor_to(starts[q], 5min));
          EXPECT_EQ(row.pause_resume, a == 1);
          EXPECT_NEAR(row.baseline_g, win.baseline_g[q], 1e-9);
          const double swept = a == 0 ? win.fs_g[q] : win.pr_g[q];
          EXPECT_NEAR(row.realised_g, swept, 1e-9) << i;
          EXPECT_NEAR(row.oracle_g, swept, 1e-9) << i;
          if (a == 1) {
            EXPECT_EQ(row.pauses, win.pr_pauses[q]) << i;
          }
          if (row.captured_pct()) {
            EXPECT_NEAR(*row.captured_pct(), 100.0, 1e-6);
            ++with_saving;
          }
        }
      }
    }
  }
  EXPECT_EQ(i, rows->size());
  EXPECT_GT(with_saving, 10u);
  EXPECT_NEAR(run.summary.mean_captured_pct(static_cast<size_t>(-1), 0), 100.0, 1e-6);
  EXPECT_NEAR(run.summary.mean_captured_pct(static_cast<size_t>(-1), 1), 100.0, 1e-6);
  // The CSV has the issue's columns and one line per row.
  std::string csv = backtest_csv_header();
  append_backtest_csv(run, *rows, csv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "job,zone,start_utc,window,algorithm,forecast,baseline_g,realised_g,oracle_g,"
            "captured_pct,pauses");
  EXPECT_EQ(static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n')), rows->size() + 1);
  EXPECT_THAT(backtest_markdown(run), HasSubstr("Pause and Resume"));
  auto json = nlohmann::json::parse(backtest_json(run));
  EXPECT_EQ(json["forecast"], "oracle");
  EXPECT_EQ(json["algorithms"].size(), 2u);
}

TEST_F(ForecastAppTest,
       BacktestOnAModelNeverBeatsTheOracleAndReplanningAtIssueTimesEqualsEverySlot) {
  import({hourly("DE", kT0, synthetic(24 * 28))});
  BacktestRequest r = grid_request(jobs_csv(), "auto");
  r.grid.from = format_utc(kT0 + 24h * 2);
  BacktestRun run;
  auto rows = backtest(r, &run);
  ASSERT_TRUE(rows) << rows.error().message();
  ASSERT_FALSE(rows->empty());
  size_t worse = 0;
  for (const BacktestRow& row : *rows) {
    EXPECT_GE(row.realised_g, row.oracle_g - 1e-9);
    if (row.realised_g > row.oracle_g + 1e-9) ++worse;
  }
  EXPECT_GT(worse, 0u);  // a forecast is not the truth
  EXPECT_GT(run.zone_stats[0].forecasts, 0u);
  r.replan_every_slot = true;
  auto every = backtest(r);
  ASSERT_TRUE(every) << every.error().message();
  ASSERT_EQ(every->size(), rows->size());
  for (size_t i = 0; i < rows->size(); ++i) {
    EXPECT_EQ((*every)[i].realised_g, (*rows)[i].realised_g) << i;
    EXPECT_EQ((*every)[i].pauses, (*rows)[i].pauses) << i;
  }
}

TEST_F(ForecastAppTest, BacktestStartsWithoutADayOfHistoryHaveNoForecastAndSaySo) {
  import({hourly("DE", kT0, synthetic(24 * 10))});
  BacktestRequest r = grid_request(jobs_csv(), "profile");
  r.grid.windows = "6h";
  r.grid.every = "6h";
  BacktestRun run;
  auto rows = backtest(r, &run);
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_GT(run.zone_stats[0].starts_unplanned, 0u);
  EXPECT_THAT(run.zone_stats[0].first_unplanned_reason, HasSubstr("forecasting needs at least"));
  for (const BacktestRow& row : *rows) EXPECT_GE(row.start_utc, kT0 + 24h);
  EXPECT_THAT(backtest_markdown(run), HasSubstr("without a forecast"));
}

TEST_F(ForecastAppTest, BacktestForecastsFromTheHistoryBeforeFrom) {
  import({hourly("DE", kT0, synthetic(24 * 10))});
  BacktestRequest r = grid_request(jobs_csv(), "profile");
  r.grid.windows = "6h";
  r.grid.every = "6h";
  r.grid.from = format_utc(kT0 + 24h * 3);
  BacktestRun run;
  auto rows = backtest(r, &run);
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_FALSE(rows->empty());
  EXPECT_EQ(run.zone_stats[0].starts_unplanned, 0u) << run.zone_stats[0].first_unplanned_reason;
  EXPECT_THAT(run.history_series[0], HasSubstr("240 slots"));
}

TEST_F(ForecastAppTest, BacktestNoiseIsSeededAndBadForecastsAreErrors) {
  import({hourly("DE", kT0, synthetic(24 * 14))});
  BacktestRequest r = grid_request(jobs_csv(), "noise:10%");
  auto a = backtest(r), b = backtest(r);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) EXPECT_EQ((*a)[i].realised_g, (*b)[i].realised_g);
  r.seed = 2;
  auto other = backtest(r);
  ASSERT_TRUE(other);
  size_t differ = 0;
  for (size_t i = 0; i < a->size(); ++i) differ += (*a)[i].realised_g != (*other)[i].realised_g;
  EXPECT_GT(differ, 0u);
  for (const char* bad : {"noise:", "noise:-5%", "sarima", "storage"}) {
    r.forecast = bad;
    auto e = backtest(r);
    ASSERT_FALSE(e) << bad;
    EXPECT_THAT(e.error().message(), HasSubstr("--forecast")) << bad;
  }
  r.forecast = "oracle";
  r.risk = "p90";
  auto risk = backtest(r);
  ASSERT_FALSE(risk);
  EXPECT_THAT(risk.error().message(), HasSubstr("prediction intervals"));
}

// ---- backtest --forecast stored ---------------------------------------------------------------

/// A stored forecast of `hours` hourly points from `first`, issued at `issued`: the truth (`v`)
/// or, inverted, a forecast that ranks every hour the wrong way round.
IntensitySeries stored_forecast(const std::vector<double>& v, SysTime first, size_t hours,
                                SysTime issued, bool inverted, const std::string& source) {
  IntensitySeries s{"DE", Signal::kAverage, Factor::kLifecycle, source, issued, {}};
  const auto h0 = static_cast<size_t>((first - kT0) / 1h);
  for (size_t h = 0; h < hours && h0 + h < v.size(); ++h) {
    double x = v[h0 + h];
    s.points.push_back({first + 1h * static_cast<int>(h), 1h, inverted ? 1000 - x : x, false});
  }
  return s;
}

class StoredBacktestTest : public ForecastAppTest {
 protected:
  void SetUp() override {
    ForecastAppTest::SetUp();
    truth = synthetic(size_t{24} * 28);
    import({hourly("DE", kT0, truth)});
    std::ofstream(dir() / "jobs.csv") << "name,duration_h,energy_kwh\njob,3,6\n";
  }
  BacktestRequest request() {
    BacktestRequest r;
    r.grid.jobs = (dir() / "jobs.csv").string();
    r.grid.zones = "DE";
    r.grid.windows = "6h,12h";
    r.grid.every = "29h";
    r.grid.from = format_utc(kT0 + 24h * 15);
    r.grid.to = format_utc(kT0 + 24h * 25);
    r.forecast = "stored";
    return r;
  }
  /// The decision times of request(): its requested starts.
  std::vector<SysTime> decisions() {
    AppContext c = ctx();
    auto inputs = prepare_sweep(request().grid, c);
    EXPECT_TRUE(inputs) << inputs.error().message();
    std::vector<SysTime> out;
    if (inputs) {
      for (SysTime t : inputs->zones[0].starts) out.push_back(floor_to(t, 5min));
    }
    std::ranges::sort(out);
    return out;
  }
  std::vector<double> truth;
};

TEST_F(StoredBacktestTest, AForecastIssuedAtTheDecisionTimeIsUsedAndOneIssuedLaterNever) {
  // Perfect forecasts issued exactly at each decision time: the oracle, row for row.
  std::vector<IntensitySeries> perfect;
  for (SysTime t : decisions()) perfect.push_back(stored_forecast(truth, t, 48, t, false, "p"));
  import(perfect);
  BacktestRequest r = request();
  BacktestRun run;
  auto at = backtest(r, &run);
  ASSERT_TRUE(at) << at.error().message();
  ASSERT_FALSE(at->empty());
  for (const BacktestRow& row : *at) EXPECT_NEAR(row.realised_g, row.oracle_g, 1e-9);
  EXPECT_EQ(run.zone_stats[0].starts_unplanned, 0u) << run.zone_stats[0].first_unplanned_reason;
  EXPECT_EQ(run.zone_stats[0].stored_issues, decisions().size());
  EXPECT_GT(run.zone_stats[0].stored_slots, 0u);
  EXPECT_EQ(run.zone_stats[0].own_slots, 0u);  // 48 h reach past every window
  EXPECT_EQ(run.zone_stats[0].stored_series, "DE average/lifecycle");
}

TEST_F(StoredBacktestTest, AForecastIssuedAfterTheDecisionTimeIsNeverUsed) {
  // Wrong-way-round forecasts issued a day before each decision...
  std::vector<IntensitySeries> early;
  for (SysTime t : decisions()) {
    early.push_back(stored_forecast(truth, t - 24h, 72, t - 24h, true, "early"));
  }
  import(early);
  BacktestRequest r = request();
  r.algorithms = "flexible-start";  // decides once, at the requested start
  auto before = backtest(r);
  ASSERT_TRUE(before) << before.error().message();
  ASSERT_FALSE(before->empty());
  size_t worse = 0;
  for (const BacktestRow& row : *before) worse += row.realised_g > row.oracle_g + 1e-9;
  EXPECT_GT(worse, 0u);
  // ...then perfect ones issued one second after each decision: look-ahead if used.
  std::vector<IntensitySeries> late;
  for (SysTime t : decisions()) {
    late.push_back(stored_forecast(truth, t, 48, t + std::chrono::seconds(1), false, "late"));
  }
  import(late);
  auto after = backtest(r);
  ASSERT_TRUE(after) << after.error().message();
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < after->size(); ++i) {
    EXPECT_EQ((*after)[i].realised_g, (*before)[i].realised_g) << i;
  }
  // Pause and Resume re-plans at the next slot boundary and there sees the later issue.
  r.algorithms = "pause-resume";
  BacktestRun run;
  auto replanned = backtest(r, &run);
  ASSERT_TRUE(replanned) << replanned.error().message();
  EXPECT_EQ(run.zone_stats[0].stored_issues, 2 * decisions().size());
}

TEST_F(StoredBacktestTest, StartsWithoutAUsableStoredForecastAreSkippedAndNamed) {
  BacktestRequest r = request();
  BacktestRun none;
  auto rows = backtest(r, &none);  // nothing stored
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_TRUE(rows->empty());
  EXPECT_GT(none.zone_stats[0].starts_unplanned, 0u);
  EXPECT_THAT(none.zone_stats[0].first_unplanned_reason,
              HasSubstr("no forecast of the zone is stored"));
  // The first decision has none issued by then; the second's ended before it (stale); the
  // others have one that reaches 4 h only: beyond it carbonclock's own forecast, as `run`.
  const std::vector<SysTime> d = decisions();
  ASSERT_GE(d.size(), 4u);
  std::vector<IntensitySeries> stored;
  stored.push_back(stored_forecast(truth, d[0] + 1h, 24, d[0] + 1h, false, "later"));
  for (size_t i = 2; i < d.size(); ++i) {
    stored.push_back(stored_forecast(truth, d[i], 4, d[i], false, "short"));
  }
  import(stored);
  BacktestRun run;
  rows = backtest(r, &run);
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_FALSE(rows->empty());
  const BacktestZoneStats& st = run.zone_stats[0];
  EXPECT_EQ(st.starts_unplanned, 2u * 2u);  // two starts × (one job × two windows)
  EXPECT_THAT(st.first_unplanned_reason,
              HasSubstr("no stored forecast (DE average/lifecycle) was issued by then"));
  EXPECT_THAT(st.first_unplanned_reason, HasSubstr(format_utc(d[0])));
  for (const BacktestRow& row : *rows) EXPECT_GE(row.start_utc, d[2]);
  EXPECT_GT(st.own_slots, 0u);
  EXPECT_GT(st.stored_slots, 0u);
  const std::string md = backtest_markdown(run);
  EXPECT_THAT(md, HasSubstr("without a forecast"));
  EXPECT_THAT(md, HasSubstr("on carbonclock's own"));
  auto json = nlohmann::json::parse(backtest_json(run));
  EXPECT_EQ(json["forecast"], "stored");
  EXPECT_EQ(json["zones"][0]["stored"]["issues"], st.stored_issues);
  // --risk needs intervals, which stored forecasts have not.
  r.risk = "p90";
  auto risk = backtest(r);
  ASSERT_FALSE(risk);
  EXPECT_THAT(risk.error().message(), HasSubstr("prediction intervals"));
}

// One real zone-year (../shared/data): the default model captures part of the oracle saving,
// never more than all of it, and more than the profile model for Flexible Start.
TEST_F(ForecastAppTest, RealDataBacktestCapturesPartOfTheOracleSaving) {
  fs::path file =
      fs::path(CARBONCLOCK_SHARED_DATA) / "electricitymaps_hourly/DE-LU_2022_hourly.csv";
  if (!fs::exists(file)) {
    GTEST_SKIP() << "shared data not found: " << file.string()
                 << " (the real-data back-test needs ../shared/data)";
  }
  auto series = read_series_file(file, {});
  ASSERT_TRUE(series) << series.error().message();
  import(*series);
  BacktestRequest r;
  r.grid.jobs = "paper";
  r.grid.zones = "DE";
  r.grid.windows = "12h,24h";
  r.grid.starts_per_month = 2;
  r.grid.from = "2022-02-01T00:00:00Z";
  r.algorithms = "flexible-start";
  BacktestRun auto_run, profile_run;
  ASSERT_TRUE(backtest(r, &auto_run));
  r.forecast = "profile";
  ASSERT_TRUE(backtest(r, &profile_run));
  const double a = auto_run.summary.mean_captured_pct(static_cast<size_t>(-1), 0);
  const double p = profile_run.summary.mean_captured_pct(static_cast<size_t>(-1), 0);
  RecordProperty("captured_auto_pct", std::to_string(a));
  RecordProperty("captured_profile_pct", std::to_string(p));
  std::cout << "DE-LU 2022, paper jobs, 12h/24h windows, Flexible Start: auto captures " << a
            << " %, profile " << p << " % of the oracle saving\n";
  EXPECT_GT(a, 0.0);
  EXPECT_LT(a, 100.0);
  EXPECT_GT(a, p);
}

}  // namespace
}  // namespace carbonclock

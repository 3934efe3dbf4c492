// Use case: `backtest`, what shifting really saves when the planner knows only what was known
// at each decision time (issue 14, docs/forecasting.md "Back-testing").
//
// The grid is `sweep`'s (jobs × zones × requested starts × windows, the same starts, slots and
// skipped starts); `sweep` itself gives, per start and window, the baseline and the oracle (the
// schedule chosen on the actuals). The back-test then replays the planner `run` uses
// (execution/online_planner.h decide()) on a forecast issued at each decision time, and prices
// the schedule it followed on the actuals:
//   Flexible Start decides once, at the requested start (what `run --flex-start` decides at its
//     first plan: the cheapest contiguous block on the forecast, earliest on ties).
//   Pause and Resume re-plans as `run` does, at each forecast issue time until the job is done:
//     the requested start, then every boundary of max(the history's own slot, 1 h), when a new
//     actual makes a new forecast. Between two issue times the forecast does not change, and
//     decide() on an unchanged forecast keeps the plan it made (its chosen slots are the cheapest
//     of what is left, earliest on ties), so the slots in between follow that plan; a test checks
//     that re-planning at every slot gives the same schedules.
// Forecasts: oracle (the actuals: the back-test then equals `sweep` row for row), a model of
// src/forecasting fitted only on the history that ends by the decision time (HistoryForecaster,
// rolling: fed once, in time order), noise:P% (the history's own values plus seeded Gaussian
// noise of P % of the zone's mean, drawn afresh at each issue time: Let's Wait Awhile's model),
// or stored: the forecasts kept in the store (a provider's, or carbonclock's own `forecast
// --store`), at each decision time the latest issued at or before it (never one issued later:
// that would be look-ahead); beyond its horizon the plan rests on carbonclock's own forecast, as
// `run`'s planning chain does. Issue times are then also the stored issues (rounded up to the
// planning slot), so Pause and Resume re-plans when a new forecast was issued.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/context.h"
#include "app/sweep.h"
#include "forecasting/forecaster.h"

namespace carbonclock {

/// What the planner is told at each decision time.
struct BacktestForecast {
  enum class Kind : uint8_t { kOracle, kModel, kNoise, kStored };
  Kind kind = Kind::kModel;
  ModelKind model = ModelKind::kAuto;                    ///< kModel
  double noise_pct = 0;                                  ///< kNoise
  ForecastQuantile quantile = ForecastQuantile::kPoint;  ///< planned on (--risk; models only)
  uint64_t seed = 1;                                     ///< kNoise
  std::string label() const;  ///< "auto", "regression", "oracle", "noise:5%", "auto p90", "stored"
};

/// "oracle" | "auto" | a model name | "noise:P%" (P > 0, e.g. "noise:5%") | "stored"; `risk` "" or
/// "point", "p10", "p50", "p90" (models only). Errors list the choices.
Result<BacktestForecast> parse_backtest_forecast(std::string_view forecast, std::string_view risk);

/// One row: a requested start in one window with one algorithm.
struct BacktestRow {
  size_t job = 0, zone = 0, window = 0;
  size_t start_index = 0;     ///< in the zone's requested starts (`sweep`'s row order)
  SysTime start_utc;          ///< the floored requested start
  bool pause_resume = false;  ///< false: Flexible Start
  double baseline_g = 0;      ///< the job at the requested start, on actuals (as `sweep`)
  double realised_g = 0;      ///< the schedule planned on the forecast, on actuals
  double oracle_g = 0;        ///< `sweep`'s shifted_g: planned on the actuals
  int32_t pauses = 0;         ///< of the realised schedule (0 for Flexible Start)
  /// 100 × (baseline − realised) / (baseline − oracle); nullopt when baseline == oracle.
  std::optional<double> captured_pct() const;
};

/// Per zone: decisions, what served them, and the starts without a forecast.
struct BacktestZoneStats {
  size_t starts_planned = 0;    ///< (start, job, window) combinations planned
  size_t starts_unplanned = 0;  ///< no forecast at the start (e.g. too little history)
  std::string first_unplanned_reason;
  std::array<size_t, kModels.size()> served{};  ///< forecasts per served model (kModel)
  size_t forecasts = 0;                         ///< forecasts issued
  size_t skipped_outside = 0, skipped_gap = 0;  ///< (start, job, window) that `sweep` skips too
  /// --forecast stored: the stored series (zone signal/factor), issues read, and the planning
  /// slots of the forecasts issued that rested on a stored forecast or, beyond its horizon, on
  /// carbonclock's own.
  std::string stored_series;
  size_t stored_issues = 0;
  size_t stored_slots = 0, own_slots = 0;
};

/// One stored forecast issue for --forecast stored.
struct StoredForecastIssue {
  SysTime issued_at;
  std::string source;
  std::vector<IntensityPoint> points;  ///< in time order
};

/// Per zone (stored): its forecast issues in issued_at order and the series they belong to.
struct StoredForecasts {
  std::string series;  ///< "DE average/lifecycle"; empty when none is stored
  std::vector<StoredForecastIssue> issues;
};

struct BacktestOptions {
  bool flexible_start = true;
  bool pause_resume = true;
  /// Pause and Resume re-plans at every planning slot instead of at issue times (for the test
  /// that both give the same schedules; slower).
  bool replan_every_slot = false;
};

/// Runs the back-test on prepared sweep inputs, zone by zone. `rows` gets each zone's rows (per
/// job, start in time order, window, Flexible Start then Pause and Resume), serialised. `stats`
/// gets one entry per zone. Errors: a zone whose history cannot be forecast at all (e.g. a slot
/// that does not divide a day), a non-positive job duration.
/// `stored` (one entry per zone) is read for --forecast stored only.
Status run_backtest(const SweepInputs& inputs, const std::vector<SlotHistory>& histories,
                    const BacktestForecast& forecast, const BacktestOptions& options,
                    const std::function<Status(std::vector<BacktestRow>&&)>& rows,
                    std::vector<BacktestZoneStats>& stats,
                    const std::vector<StoredForecasts>& stored = {});

/// Means for the Markdown tables, as `sweep` averages: each zone's mean reduction over its
/// starts, then the mean over zones; captured = 100 × realised / oracle of those means.
class BacktestSummary {
 public:
  BacktestSummary(size_t jobs, size_t zones, size_t windows);
  void add(const BacktestRow& row);
  /// a = 0 Flexible Start, 1 Pause and Resume. NaN without data.
  double realised_pct(size_t j, size_t w, size_t a) const;
  double oracle_pct(size_t j, size_t w, size_t a) const;
  /// 100 × realised_pct / oracle_pct; NaN when the oracle saves nothing (< 1e-9 %).
  double captured_pct(size_t j, size_t w, size_t a) const;
  /// Mean of captured_pct over windows (job j) or over jobs × windows (j = npos), where defined.
  double mean_captured_pct(size_t j, size_t a) const;
  size_t jobs() const { return jobs_; }
  size_t windows() const { return windows_; }
  size_t rows = 0;

 private:
  struct Cell {
    double realised = 0, oracle = 0;
    size_t n = 0;
  };
  const Cell& cell(size_t j, size_t z, size_t w, size_t a) const {
    return cells_[((j * zones_ + z) * windows_ + w) * 2 + a];
  }
  double over_zones(size_t j, size_t w, size_t a, bool realised) const;
  size_t jobs_, zones_, windows_;
  std::vector<Cell> cells_;
};

struct BacktestRequest {
  SweepRequest grid;  ///< jobs, zones, windows, starts, signal/factor, slot, db (as `sweep`)
  std::string forecast = "auto";
  std::string risk;                 ///< "" or point | p10 | p50 | p90
  std::string algorithms = "both";  ///< both | flexible-start | pause-resume
  uint64_t seed = 1;                ///< noise:P%
  bool replan_every_slot = false;
};

struct BacktestRun {
  BacktestForecast forecast;
  BacktestOptions options;
  SweepLabels labels;
  std::vector<std::string> history_series;  ///< per zone: what the forecasts were fitted on
  std::vector<BacktestZoneStats> zone_stats;
  BacktestSummary summary{0, 0, 0};
};

/// Parses, loads each zone (actuals as `sweep` reads them, the history at its own granularity)
/// and runs the back-test. `rows` (optional) gets every zone's rows, serialised; an error it
/// returns stops the run. Errors: bad options, unknown zone, no stored data.
Result<BacktestRun> run_backtest_request(
    const BacktestRequest& request, AppContext& ctx,
    const std::function<Status(const BacktestRun&, std::vector<BacktestRow>&&)>& rows);

}  // namespace carbonclock

// carbonclock's own intensity forecasts, from a zone's history at the series' own granularity.
//
// A Forecaster is fed actuals slot by slot (advance) and runs every model side by side: the
// weekly profile, persistence, seasonal exponential smoothing and a direct multi-step regression
// (models.h). After each slot on the origin grid (every hour, or every slot when slots are longer)
// each model forecasts the next model_steps() slots; when the actuals arrive these forecasts are
// scored. The last error_window of scores gives each model's rolling MAE/MAPE per horizon step,
// what `auto` picks by, and the empirical error quantiles that make prediction intervals.
//
// Look-ahead: a Forecaster knows only what it was fed, and forecast(as_of) refuses an as_of before
// the end of that data. HistoryForecaster serves back-tests from a complete history: it feeds
// exactly the slots that end at or before each decision time.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "forecasting/error_metrics.h"
#include "forecasting/history.h"
#include "forecasting/models.h"

namespace carbonclock {

enum class ModelKind : uint8_t { kProfile, kPersistence, kSmoothing, kRegression, kAuto };
/// The concrete models (all but kAuto), in enum order.
inline constexpr std::array<ModelKind, 4> kModels = {ModelKind::kProfile, ModelKind::kPersistence,
                                                     ModelKind::kSmoothing, ModelKind::kRegression};

const char* to_string(ModelKind model);  ///< "profile" | "persistence" | "smoothing" | ...
/// Error lists the names on an unknown one.
Result<ModelKind> parse_model(std::string_view text);

/// The history a model needs before it is served (auto and explicit requests fall back to the
/// profile, with a note, until then): profile and persistence one day, smoothing and regression
/// two weeks (one to build features or seasons, one to fit).
Nanos min_history(ModelKind model);

/// Which value of a forecast slot a planner plans on.
enum class ForecastQuantile : uint8_t { kPoint, kP10, kP50, kP90 };
const char* to_string(ForecastQuantile q);  ///< "point" | "p10" | "p50" | "p90"
/// "point" (also "mean", "none"), "p10", "p50", "p90".
Result<ForecastQuantile> parse_forecast_quantile(std::string_view text);

/// The longest horizon any model forecasts on its own, in slots; beyond it slots take the profile.
inline constexpr size_t kMaxModelSteps = 672;
/// Intervals need at least this many back-tested errors at a step.
inline constexpr size_t kMinIntervalSamples = 24;

struct ForecasterOptions {
  size_t profile_weeks = 8;                      ///< weeks the profile averages
  Nanos model_horizon = std::chrono::hours(48);  ///< capped at kMaxModelSteps slots
  Nanos error_window = std::chrono::days(28);    ///< rolling back-test window
  Nanos origin_step = std::chrono::hours(1);     ///< score and train at this spacing (>= the slot)
  Nanos max_horizon = std::chrono::days(31);     ///< longer requests are an error
  Nanos auto_min_scored =
      std::chrono::days(3);  ///< back-test a candidate needs before auto picks it
  SmoothingParams smoothing;
  RegressionParams regression;
};

struct ForecastRequest {
  ModelKind model = ModelKind::kAuto;
  bool intervals = true;  ///< compute p10/p50/p90 (costs a quantile pass per step)
};

struct ForecastSlot {
  SysTime start_utc;
  size_t step = 0;       ///< 1: the first slot without an actual
  double g_per_kwh = 0;  ///< point forecast
  /// Point forecast plus the 10th/50th/90th percentile of the model's recent errors at this step
  /// (clamped at 0); NaN when there is no interval.
  double p10_g_per_kwh = 0, p50_g_per_kwh = 0, p90_g_per_kwh = 0;
  ModelKind model = ModelKind::kProfile;  ///< what made this slot (profile beyond the horizon)

  double value(ForecastQuantile q) const;  ///< the point forecast where the quantile is NaN
};

/// A model's rolling back-test: MAE and MAPE per step over the last error window.
struct Skill {
  ModelKind model = ModelKind::kProfile;
  std::vector<double> mae_g_per_kwh, mape_pct;  ///< per step 1 … n; NaN without samples
  std::vector<size_t> samples;
  double mean_mae_g_per_kwh = 0;  ///< mean over steps with samples; NaN when none
  double mean_mape_pct = 0;
};

struct Forecast {
  SeriesInfo series;
  SysTime issued_at;     ///< the decision time; no slot ending after it was read
  SysTime data_end_utc;  ///< end of the last slot fed
  Nanos slot{};
  ModelKind requested = ModelKind::kAuto;
  ModelKind model = ModelKind::kProfile;  ///< served: auto resolved, or the profile fall-back
  std::vector<ForecastSlot> slots;        ///< from the slot holding issued_at to the horizon
  Skill skill;                            ///< the served model's back-test
  Skill profile_skill;                    ///< the profile's, for comparison
  std::vector<std::string> notes;         ///< fall-backs and why

  /// "regression (auto; MAE 21.4 g/kWh over steps 1-48 in the last 28 days, profile 35.2)".
  std::string describe() const;
  /// Per slot: the chosen value.
  std::vector<double> values(ForecastQuantile q) const;
};

/// The forecast as a grid series (one point per slot, the `q` value; the point forecast where the
/// quantile is missing), with issued_at set and source "carbonclock-forecast-MODEL" (plus "-p90"
/// etc. for a quantile): what the grid store keeps for provider forecasts.
IntensitySeries to_series(const Forecast& forecast, ForecastQuantile q = ForecastQuantile::kPoint);

class Forecaster {
 public:
  /// A forecaster for slots of `slot` from `first_slot_utc`. Error when the slot does not divide
  /// a day or first_slot_utc is not a multiple of it since the epoch.
  static Result<Forecaster> create(SeriesInfo series, SysTime first_slot_utc, Nanos slot,
                                   const ForecasterOptions& options = {});
  /// A forecaster fed every slot of `history` that ends at or before `as_of`.
  static Result<Forecaster> fit(const SlotHistory& history, SysTime as_of,
                                const ForecasterOptions& options = {});

  /// Feeds the actual of the next slot (starting at data_end_utc()); NaN for a gap. Scores the
  /// forecasts made for it and updates every model: O(models × model_steps) work.
  void advance(double g_per_kwh);
  void advance(std::span<const double> g_per_kwh);

  SysTime first_slot_utc() const { return first_slot_utc_; }
  Nanos slot() const { return slot_; }
  size_t observed_slots() const { return recent_.count(); }
  /// End of the fed data: the start of the next slot to feed.
  SysTime data_end_utc() const;
  /// Slots each model forecasts on its own (model_horizon / slot, at most kMaxModelSteps).
  size_t model_steps() const { return steps_; }
  /// Whether `model` has the history it needs (min_history); kAuto: always once the profile is.
  bool ready(ModelKind model) const;

  /// Slots from the one holding `as_of` through as_of + horizon. Error when as_of is before
  /// data_end_utc() (that would be look-ahead), for a horizon <= 0 or above max_horizon, and with
  /// less than a day of history (saying how much each model needs). Slots beyond model_steps()
  /// from the data end take the profile; a model that is not ready yet is replaced by the profile;
  /// both are noted. Changes nothing a later forecast depends on, but fills a cache of interval
  /// quantiles: not safe to call concurrently on one Forecaster.
  Result<Forecast> forecast(SysTime as_of, Nanos horizon,
                            const ForecastRequest& request = {}) const;

  /// `model`'s rolling back-test for steps 1 … last_step (<= model_steps()).
  Skill skill(ModelKind model, size_t last_step) const;
  /// `model`'s errors over everything fed so far.
  const HorizonErrors& all_time_errors(ModelKind model) const;

  /// What auto picks for steps 1 … last_step: among ready models with auto_min_scored of
  /// back-test, the lowest mean MAE over the steps every candidate has scores for; the profile
  /// while no model qualifies.
  struct Choice {
    ModelKind model = ModelKind::kProfile;
    std::array<double, kModels.size()> mean_mae_g_per_kwh{};  ///< NaN: not a candidate
    size_t steps_compared = 0;
  };
  Choice choose(size_t last_step) const;

 private:
  Forecaster(SeriesInfo series, SysTime first_slot_utc, Nanos slot,
             const ForecasterOptions& options);
  bool is_origin(size_t n) const;
  /// Model forecasts for steps first … first + count − 1 from the current state.
  void model_forecast(ModelKind model, size_t first_step, size_t count, double* out) const;
  size_t history_slots_needed(ModelKind model) const;

  SeriesInfo series_;
  SysTime first_slot_utc_;
  Nanos slot_;
  ForecasterOptions options_;
  SlotCalendar calendar_;
  size_t steps_, stride_, ring_origins_;
  RecentValues recent_;
  WeeklyProfile profile_;
  SeasonalSmoothing smoothing_;
  DirectRegression regression_;
  std::vector<RollingErrors> rolling_;
  std::vector<HorizonErrors> all_time_;
  /// Per model: the forecasts of the last ring_origins origins, steps_ values each.
  std::vector<std::vector<double>> past_;
  std::vector<int64_t> past_origin_;
  size_t last_observed_ = 0;  ///< slots up to the last non-gap one
};

/// Forecasts from a complete history as they would have been made at each decision time: only
/// slots that end at or before the decision time are fed. Decision times in non-decreasing order
/// cost only the slots in between; an earlier one starts again from the first slot.
class HistoryForecaster {
 public:
  /// `history` must outlive the HistoryForecaster.
  static Result<HistoryForecaster> create(const SlotHistory& history,
                                          const ForecasterOptions& options = {});

  Result<Forecast> forecast_at(SysTime decision_time, Nanos horizon,
                               const ForecastRequest& request = {});
  /// The forecaster as of the last decision time.
  const Forecaster& forecaster() const { return forecaster_; }

 private:
  HistoryForecaster(const SlotHistory& history, const ForecasterOptions& options,
                    Forecaster forecaster)
      : history_(&history), options_(options), forecaster_(std::move(forecaster)) {}
  const SlotHistory* history_;
  ForecasterOptions options_;
  Forecaster forecaster_;
};

}  // namespace carbonclock

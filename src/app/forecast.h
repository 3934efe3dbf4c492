// Use case: `forecast`, carbonclock's own forecast of a zone's intensity from the history it
// stores (src/forecasting, docs/forecasting.md): as of now or a given time, at the series' own
// granularity, with prediction intervals and the served model's back-tested skill; optionally
// stored as a forecast series (issued_at, source carbonclock-forecast-MODEL), as provider
// forecasts are. The history comes from the intensity provider (every name of the zone).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/context.h"
#include "forecasting/forecaster.h"
#include "grid/store.h"
#include "regions/catalogue.h"

namespace carbonclock {

struct ZoneForecastRequest {
  std::optional<std::string> zone, region;
  std::optional<Signal> signal;  ///< default average
  std::optional<Factor> factor;  ///< default: lifecycle where stored, else direct
  std::string horizon = "48h";
  std::string model = "auto";  ///< auto | profile | persistence | smoothing | regression
  std::string as_of;           ///< UTC time; empty: now (ctx.clock)
  bool store = false;          ///< store the point forecast as a forecast series
  std::string db;
};

/// What the forecast was fitted on.
struct ForecastHistoryInfo {
  std::string zone;  ///< the id the series is stored under
  Signal signal = Signal::kAverage;
  Factor factor = Factor::kLifecycle;
  std::string source;
  SysTime first_slot_utc;
  SysTime end_utc;  ///< end of the last slot fed (the forecast's data end)
  Nanos slot{};
  size_t slots = 0;  ///< slots fed
  size_t gaps = 0;   ///< of which gaps (read as the profile, never learnt from)
};

struct ZoneForecast {
  std::string zone;  ///< as selected (catalogue id)
  Forecast forecast;
  ForecastHistoryInfo history;
  /// Per forecast slot: the stored actual when the forecast is about the past (--as-of), else
  /// NaN. Never read by the forecast.
  std::vector<double> actual_g_per_kwh;
  std::optional<SeriesImportResult> stored;  ///< with --store
  std::vector<std::string> notes;            ///< the forecast's, then the use case's
};

/// Forecasts the zone. Errors: bad options (horizon <= 0 or over 31 days, unknown model, bad
/// --as-of), an unknown zone, no store or no stored actuals of the signal (naming what is
/// stored instead: a zone with only average data when marginal is asked), less than a day of
/// history before --as-of (saying how much each model needs), stored actuals ending more than
/// IntensityProvider::kOwnForecastMaxAge before --as-of (naming the time to give instead).
/// A model without its history falls back to the profile, with a note.
Result<ZoneForecast> forecast_zone(const ZoneForecastRequest& request, AppContext& ctx);

}  // namespace carbonclock

// `forecast` outputs: text (a table with the prediction interval per slot), CSV (one row per
// slot) and JSON (one document).
#pragma once

#include <string>

#include "app/forecast.h"
#include "reports/format.h"

namespace carbonclock {

/// The forecast with what it rests on (history, served model, its back-tested skill against the
/// profile's, notes) and per slot: start, step, point forecast, p10/p50/p90, the model that made
/// it and, for a forecast about the past, the stored actual. Format kText, kCsv or kJson.
std::string render_forecast(const ZoneForecast& forecast, Format format);

/// The CSV header line (with newline).
std::string forecast_csv_header();

}  // namespace carbonclock

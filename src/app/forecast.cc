#include "app/forecast.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "app/store_access.h"
#include "common/strings.h"
#include "intensity/intensity_provider.h"

namespace carbonclock {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// "DE-LU average/lifecycle 2022-01-01T00:00:00Z to 2023-01-01T00:00:00Z; ..." for the stored
/// actuals of the zone and signal (for errors that must say where the data is).
std::string stored_ranges(GridStore& store, const ZoneSelection& zone, Signal signal) {
  auto list = store.list();
  if (!list) return {};
  std::string out;
  for (const StoredSeriesInfo& i : *list) {
    if (i.issued_at || i.signal != signal) continue;
    bool ours = false;
    for (const std::string& id : zone.store_ids) ours = ours || iequals(id, i.zone);
    if (!ours) continue;
    out += fmt::format("{}{} {}/{} from {} to {}", out.empty() ? "" : "; ", i.zone,
                       to_string(i.signal), to_string(i.factor), format_utc(i.first_start),
                       format_utc(i.last_end));
  }
  return out;
}

/// The forecast slots' actuals where the store has them (a forecast about the past).
std::vector<double> actuals_for(IntensityProvider& provider, const ZoneSelection& zone,
                                const IntensitySeries& used, const Forecast& fc) {
  std::vector<double> out(fc.slots.size(), kNaN);
  if (fc.slots.empty()) return out;
  SysTime from = fc.slots.front().start_utc, to = fc.slots.back().start_utc + fc.slot;
  auto series = provider.forecast_history(zone, used.signal, used.factor, from, to);
  if (!series || series->zone != used.zone) return out;
  auto history = history_from_series(*series, fc.slot);
  if (!history) return out;
  for (size_t k = 0; k < fc.slots.size(); ++k) {
    Nanos offset = fc.slots[k].start_utc - history->first_slot_utc;
    if (offset < Nanos(0)) continue;
    auto i = static_cast<size_t>(offset / fc.slot);
    if (i < history->size()) out[k] = history->g_per_kwh[i];
  }
  return out;
}

}  // namespace

Result<ZoneForecast> forecast_zone(const ZoneForecastRequest& r, AppContext& ctx) {
  auto zone = select_zone(r.region, r.zone);
  if (!zone) return zone.error();
  auto model = parse_model(r.model);
  if (!model) return model.error().with_context("--model");
  auto horizon = parse_duration(r.horizon);
  if (!horizon) return horizon.error().with_context("--horizon");
  if (*horizon <= Nanos(0)) return make_error("--horizon must be positive");
  SysTime as_of = ctx.clock.system_now();
  if (!r.as_of.empty()) {
    auto t = parse_utc(r.as_of);
    if (!t) return t.error().with_context("--as-of");
    as_of = *t;
  }
  auto opened = open_store(r.db, StoreMode::kIfExists, ctx.env);
  if (!opened) return opened.error();
  GridStore* store = opened->get();
  if (store == nullptr) {
    return make_error(ErrorCode::kNotFound,
                      "{}: nothing to forecast from (import history with `carbonclock grid "
                      "import` or `carbonclock grid fetch`)",
                      opened->note);
  }
  IntensityProvider provider(store);
  if (Status s = provider.check_zone(*zone); !s) return s.error();
  const Signal signal = r.signal.value_or(Signal::kAverage);
  auto series = provider.forecast_history(*zone, signal, r.factor,
                                          as_of - IntensityProvider::kOwnForecastHistory, as_of);
  if (!series) {
    std::string ranges = stored_ranges(*store, *zone, signal);
    if (ranges.empty()) return series.error();
    return make_error(
        ErrorCode::kNotFound,
        "zone {}: no stored {} actuals in the {} days before {} (stored: {}); give "
        "--as-of inside or just after the stored data",
        zone->zone, to_string(signal),
        std::chrono::duration_cast<std::chrono::days>(IntensityProvider::kOwnForecastHistory)
            .count(),
        format_utc(as_of), ranges);
  }
  auto history = history_from_series(*series);
  if (!history) return history.error();
  auto forecaster = Forecaster::fit(*history, as_of);
  if (!forecaster) return forecaster.error();
  const SysTime data_end = forecaster->data_end_utc();
  if (as_of - data_end > IntensityProvider::kOwnForecastMaxAge) {
    return make_error(
        ErrorCode::kNotFound,
        "zone {}: the stored actuals ({} {}/{}) end at {}, more than {} days before "
        "{}: forecasting from them would be the weekly profile of a stale season; "
        "give --as-of {} or fetch recent data (`carbonclock grid fetch`)",
        zone->zone, series->zone, to_string(series->signal), to_string(series->factor),
        format_utc(data_end),
        std::chrono::duration_cast<std::chrono::days>(IntensityProvider::kOwnForecastMaxAge)
            .count(),
        format_utc(as_of), format_utc(data_end));
  }
  auto fc = forecaster->forecast(as_of, *horizon, {*model, true});
  if (!fc) return fc.error();
  ZoneForecast out;
  out.zone = zone->zone;
  out.history = {series->zone,
                 series->signal,
                 series->factor,
                 series->source,
                 history->first_slot_utc,
                 data_end,
                 history->slot,
                 forecaster->observed_slots(),
                 0};
  for (size_t i = 0; i < out.history.slots && i < history->size(); ++i) {
    if (!history->observed(i)) ++out.history.gaps;
  }
  out.notes = fc->notes;
  if (out.history.gaps > 0) {
    out.notes.push_back(fmt::format(
        "{} of the {} history slots are gaps: the models read them as the profile and never "
        "learn from them",
        out.history.gaps, out.history.slots));
  }
  out.actual_g_per_kwh = actuals_for(provider, *zone, *series, *fc);
  out.forecast = std::move(*fc);
  if (r.store) {
    IntensitySeries stored = to_series(out.forecast);
    auto result = store->import({stored}, "carbonclock forecast");
    if (!result) return result.error().with_context("--store");
    out.stored = result->front();
    ctx.observer.note(fmt::format("stored the forecast as {} {}/{} issued {} ({})", stored.zone,
                                  to_string(stored.signal), to_string(stored.factor),
                                  format_utc(*stored.issued_at), stored.source));
  }
  return out;
}

}  // namespace carbonclock

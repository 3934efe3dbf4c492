#include "forecasting/decision_quality.h"

namespace carbonclock {

std::optional<double> captured_pct(double baseline_g, double realised_g, double oracle_g) {
  if (baseline_g == oracle_g) return std::nullopt;
  return 100.0 * (baseline_g - realised_g) / (baseline_g - oracle_g);
}

Result<SlottedIntensity> planning_intensity(const Forecast& forecast, ForecastQuantile q,
                                            SysTime from, size_t count, Nanos slot) {
  IntensitySeries series = to_series(forecast, q);
  auto slotted = slot_series(series, slot);
  if (!slotted) return slotted.error();
  auto begin = slotted->index_of(from);
  if (!begin || *begin + count > slotted->size() ||
      !slotted->window_covered(*begin, *begin + count)) {
    return make_error("zone {}: {} to {} is not inside the forecast ({} to {})", series.zone,
                      format_utc(from), format_utc(from + slot * static_cast<int64_t>(count)),
                      format_utc(slotted->first_slot_utc), format_utc(slotted->end_utc()));
  }
  SlottedIntensity out = std::move(*slotted);
  auto b = static_cast<std::ptrdiff_t>(*begin), e = static_cast<std::ptrdiff_t>(*begin + count);
  auto cut = [&](auto& v) { v = std::vector(v.begin() + b, v.begin() + e); };
  cut(out.ug_per_kwh);
  cut(out.covered);
  cut(out.estimated);
  out.first_slot_utc = from;
  out.index_coverage();
  return out;
}

Result<ForecastPlanOutcome> plan_on_forecast(const JobProfile& job, const SlottedIntensity& actual,
                                             const Plan& oracle, const SlottedIntensity& planning) {
  auto on_forecast = make_plan(oracle.algorithm, job, planning, 0, oracle.window_slots);
  if (!on_forecast) return on_forecast.error();
  ForecastPlanOutcome out;
  out.baseline_g = oracle.baseline_g;
  out.oracle_g = oracle.shifted_g;
  out.pauses = on_forecast->pauses;
  out.slots = std::move(on_forecast->slots);
  for (size_t& s : out.slots) s += oracle.start_slot;
  out.realised_g = emissions_g(job, actual, out.slots);
  return out;
}

}  // namespace carbonclock

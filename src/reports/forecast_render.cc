#include "reports/forecast_render.h"

#include <fmt/format.h>

#include <cmath>

namespace carbonclock {
namespace {

using ojson = nlohmann::ordered_json;

ojson number_or_null(double v) { return std::isnan(v) ? ojson(nullptr) : ojson(v); }

std::string cell(double v, int decimals) {
  return std::isnan(v) ? std::string() : fixed(v, decimals);
}

ojson skill_json(const Skill& s) {
  ojson steps = ojson::array();
  for (size_t h = 0; h < s.mae_g_per_kwh.size(); ++h) {
    steps.push_back({{"step", h + 1},
                     {"mae_g_per_kwh", number_or_null(s.mae_g_per_kwh[h])},
                     {"mape_pct", number_or_null(s.mape_pct[h])},
                     {"samples", s.samples[h]}});
  }
  return {{"model", to_string(s.model)},
          {"mean_mae_g_per_kwh", number_or_null(s.mean_mae_g_per_kwh)},
          {"mean_mape_pct", number_or_null(s.mean_mape_pct)},
          {"steps", steps}};
}

std::string render_json(const ZoneForecast& z) {
  const Forecast& f = z.forecast;
  const ForecastHistoryInfo& h = z.history;
  ojson j;
  j["zone"] = z.zone;
  j["signal"] = to_string(f.series.signal);
  j["factor"] = to_string(f.series.factor);
  j["issued_at_utc"] = format_utc(f.issued_at);
  j["slot_s"] = to_seconds(f.slot);
  j["requested_model"] = to_string(f.requested);
  j["model"] = to_string(f.model);
  j["source"] = to_series(f).source;
  j["description"] = f.describe();
  j["history"] = {{"zone", h.zone},
                  {"signal", to_string(h.signal)},
                  {"factor", to_string(h.factor)},
                  {"source", h.source},
                  {"first_slot_utc", format_utc(h.first_slot_utc)},
                  {"data_end_utc", format_utc(h.end_utc)},
                  {"slots", h.slots},
                  {"gaps", h.gaps}};
  j["skill"] = skill_json(f.skill);
  j["profile_skill"] = skill_json(f.profile_skill);
  j["notes"] = z.notes;
  j["stored"] = z.stored ? ojson({{"zone", z.stored->zone},
                                  {"points_added", z.stored->points_added},
                                  {"points_already_stored", z.stored->points_already_stored}})
                         : ojson(nullptr);
  ojson slots = ojson::array();
  for (size_t k = 0; k < f.slots.size(); ++k) {
    const ForecastSlot& s = f.slots[k];
    slots.push_back({{"start_utc", format_utc(s.start_utc)},
                     {"step", s.step},
                     {"g_per_kwh", s.g_per_kwh},
                     {"p10_g_per_kwh", number_or_null(s.p10_g_per_kwh)},
                     {"p50_g_per_kwh", number_or_null(s.p50_g_per_kwh)},
                     {"p90_g_per_kwh", number_or_null(s.p90_g_per_kwh)},
                     {"model", to_string(s.model)},
                     {"actual_g_per_kwh", number_or_null(z.actual_g_per_kwh[k])}});
  }
  j["slots"] = slots;
  return json_text(j);
}

std::string render_csv(const ZoneForecast& z) {
  std::string out = forecast_csv_header();
  const Forecast& f = z.forecast;
  for (size_t k = 0; k < f.slots.size(); ++k) {
    const ForecastSlot& s = f.slots[k];
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{},{}\n", csv_field(z.zone),
                   format_utc(s.start_utc), s.step, cell(s.g_per_kwh, 3), cell(s.p10_g_per_kwh, 3),
                   cell(s.p50_g_per_kwh, 3), cell(s.p90_g_per_kwh, 3), to_string(s.model),
                   cell(z.actual_g_per_kwh[k], 3));
  }
  return out;
}

std::string render_text(const ZoneForecast& z) {
  const Forecast& f = z.forecast;
  const ForecastHistoryInfo& h = z.history;
  std::string out = fmt::format(
      "carbonclock forecast for {} {}/{} as of {}: {}\n"
      "  history: {} {}/{} ({}), {} slots of {} from {} to {}, {} gaps\n",
      z.zone, to_string(f.series.signal), to_string(f.series.factor), format_utc(f.issued_at),
      f.describe(), h.zone, to_string(h.signal), to_string(h.factor), h.source, h.slots,
      format_duration(h.slot), format_utc(h.first_slot_utc), format_utc(h.end_utc), h.gaps);
  for (const std::string& n : z.notes) out += fmt::format("  note: {}\n", n);
  if (z.stored) {
    out += fmt::format("  stored: {} points added, {} already stored\n", z.stored->points_added,
                       z.stored->points_already_stored);
  }
  bool any_actual = false;
  for (double a : z.actual_g_per_kwh) any_actual = any_actual || !std::isnan(a);
  out += fmt::format("\n{:<20} {:>4} {:>9} {:>9} {:>9} {:>9}  {:<11}{}\n", "start (UTC)", "step",
                     "g/kWh", "p10", "p50", "p90", "model", any_actual ? "    actual" : "");
  for (size_t k = 0; k < f.slots.size(); ++k) {
    const ForecastSlot& s = f.slots[k];
    auto v = [](double x) { return std::isnan(x) ? std::string("–") : fixed(x, 1); };
    out += fmt::format("{:<20} {:>4} {:>9} {:>9} {:>9} {:>9}  {:<11}", format_utc(s.start_utc),
                       s.step, v(s.g_per_kwh), v(s.p10_g_per_kwh), v(s.p50_g_per_kwh),
                       v(s.p90_g_per_kwh), to_string(s.model));
    if (any_actual) out += fmt::format("{:>10}", v(z.actual_g_per_kwh[k]));
    out += "\n";
  }
  return out;
}

}  // namespace

std::string forecast_csv_header() {
  return "zone,start_utc,step,g_per_kwh,p10_g_per_kwh,p50_g_per_kwh,p90_g_per_kwh,model,"
         "actual_g_per_kwh\n";
}

std::string render_forecast(const ZoneForecast& forecast, Format format) {
  switch (format) {
    case Format::kJson:
      return render_json(forecast);
    case Format::kCsv:
      return render_csv(forecast);
    default:
      return render_text(forecast);
  }
}

}  // namespace carbonclock

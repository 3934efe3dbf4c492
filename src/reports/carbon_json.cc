// The report JSON (schemas/report.schema.json).
#include <fmt/format.h>

#include <cmath>

#include "accounting/equivalents.h"
#include "common/files.h"
#include "common/units.h"
#include "regions/catalogue.h"
#include "reports/carbon_report.h"

namespace carbonclock {
namespace {

using nlohmann::json;

json provenance_json(const Provenance& p) {
  return {{"basis", to_string(p.basis)},
          {"zone", p.zone},
          {"signal", to_string(p.signal)},
          {"factor", to_string(p.factor)},
          {"source", p.source},
          {"issued_at_utc", p.issued_at ? json(format_utc(*p.issued_at)) : json(nullptr)}};
}

json signal_json(const SignalAccount& s) {
  json parts = json::array();
  for (const auto& part : s.parts) {
    json j = provenance_json(part.provenance);
    j["energy_j"] = part.energy_j;
    j["share"] = s.energy_j > 0 ? part.energy_j / s.energy_j : 0.0;
    j["operational_before_pue_g"] = part.it_g;
    parts.push_back(std::move(j));
  }
  // "signal" is the signal asked for; "priced_signal" and "factor" say what priced it, "mixed"
  // when the number rests on more than one (never a single label for a mixed number).
  return {{"signal", to_string(s.signal)},
          {"priced_signal", s.signal_label()},
          {"factor", s.factor_label()},
          {"mixed", s.mix.mixed()},
          {"provenance", parts},
          {"operational_g", s.operational_g},
          {"operational_before_pue_g", s.it_g},
          {"mean_intensity_g_per_kwh", s.mean_g_per_kwh()},
          {"source", s.source.empty() ? json(nullptr) : json(s.source)},
          {"fallback_source", s.fallback_source.empty() ? json(nullptr) : json(s.fallback_source)},
          {"coverage",
           {{"stored_share", s.stored_share()},
            {"embedded_share", s.embedded_share()},
            {"unpriced_share", s.unpriced_share()},
            {"estimated_share", s.energy_j > 0 ? s.estimated_energy_j / s.energy_j : 0.0}}}};
}

}  // namespace

json report_json(const RunRecord& run, const CarbonAccount& a, const std::string& run_dir) {
  json devices = json::array();
  auto totals = run.timeline.device_totals_j();
  const double duration_s = run.duration_s();
  for (size_t i = 0; i < totals.size(); ++i) {
    const auto& d = run.timeline.devices[i];
    devices.push_back({{"id", d.id},
                       {"kind", to_string(d.kind)},
                       {"name", d.name},
                       {"method", to_string(d.method)},
                       {"energy_j", totals[i]},
                       {"energy_kwh", totals[i] / kJoulesPerKwh},
                       {"mean_power_w", duration_s > 0 ? totals[i] / duration_s : 0.0}});
  }
  json signals = json::array();
  for (const auto& s : a.signals) signals.push_back(signal_json(s));
  const auto& h = a.headline_signal();
  json components = json::array();
  for (const auto& c : a.embodied.components) {
    components.push_back({{"name", c.name},
                          {"count", c.count},
                          {"embodied_kg_each", c.kg_each},
                          {"lifetime_years", c.lifetime_years},
                          {"source", c.source},
                          {"embodied_g", c.embodied_g}});
  }
  json equiv = json::array();
  for (const auto& e : equivalents(a.total_g())) {
    equiv.push_back({{"key", e.key}, {"label", e.label}, {"count", e.count}});
  }
  json unit = nullptr;
  if (a.unit) {
    unit = {{"count", a.unit->count},
            {"unit", a.unit->unit},
            {"text", a.unit->text()},
            {"work", a.unit->work ? json(*a.unit->work) : json(nullptr)},
            {"units_done", a.unit->units_done()}};
  }
  return {
      {"report_schema_version", kReportSchemaVersion},
      {"run_id", run.id},
      {"run_dir", run_dir},
      {"command", run.command},
      {"start_utc", format_utc_millis(run.start_utc)},
      {"end_utc", format_utc_millis(run.end_utc)},
      {"duration_s", duration_s},
      {"exit_code", run.exit_code ? json(*run.exit_code) : json(nullptr)},
      {"host", run.host},
      {"tags", run.tags},
      {"recovered", run.recovered},
      {"devices", std::move(devices)},
      {"energy_kwh", a.energy_j / kJoulesPerKwh},
      {"facility_energy_kwh", a.energy_j * a.pue / kJoulesPerKwh},
      {"pue", a.pue},
      {"pue_origin", a.pue_origin},
      {"zone", a.zone},
      {"region", a.region ? json(*a.region) : json(nullptr)},
      {"zone_origin", a.zone_origin},
      {"signal", to_string(h.signal)},
      {"signal_reason", a.headline_reason},
      {"operational_g", a.operational_g()},
      {"signals", std::move(signals)},
      {"coverage", signal_json(h)["coverage"]},
      {"embodied_g", a.embodied.embodied_g},
      {"embodied",
       {{"te_kg", a.embodied.te_kg},
        {"reserved_s", a.embodied.reserved_s},
        {"machine_share", a.embodied.share},
        {"overridden", a.embodied.overridden},
        {"note", a.embodied.note},
        {"components", std::move(components)}}},
      {"total_g", a.total_g()},
      {"functional_unit", std::move(unit)},
      {"sci_g_per_unit", a.sci_g_per_unit()},
      {"equivalents", std::move(equiv)},
      {"notes", a.notes},
      {"warnings", run.warnings},
      {"method",
       "SCI = (E x I + M) / R (Green Software Foundation, ISO/IEC 21031:2024); operational "
       "emissions integrated interval by interval as in Dodge et al. 2022, times PUE"},
  };
}

}  // namespace carbonclock

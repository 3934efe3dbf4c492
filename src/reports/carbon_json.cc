// The report JSON (schemas/report.schema.json) and CodeCarbon's emissions.csv layout.
#include <fmt/format.h>
#include <sys/utsname.h>

#include <cmath>

#include "accounting/equivalents.h"
#include "common/files.h"
#include "regions/catalogue.h"
#include "reports/carbon_report.h"

namespace carbonclock {
namespace {

using nlohmann::json;
constexpr double kJoulesPerKwh = 3.6e6;

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

// CodeCarbon 2.x EmissionsData fields, in order (codecarbon/output_methods/emissions_data.py).
constexpr const char* kCodeCarbonColumns[] = {
    "timestamp",      "project_name",       "run_id",         "experiment_id",
    "duration",       "emissions",          "emissions_rate", "cpu_power",
    "gpu_power",      "ram_power",          "cpu_energy",     "gpu_energy",
    "ram_energy",     "energy_consumed",    "country_name",   "country_iso_code",
    "region",         "cloud_provider",     "cloud_region",   "os",
    "python_version", "codecarbon_version", "cpu_count",      "cpu_model",
    "gpu_count",      "gpu_model",          "longitude",      "latitude",
    "ram_total_size", "tracking_mode",      "on_cloud",       "pue"};

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string os_name() {
  struct utsname u {};
  if (::uname(&u) != 0) return "";
  return fmt::format("{}-{}-{}", u.sysname, u.release, u.machine);
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

std::string codecarbon_csv_header() {
  std::string out;
  for (const char* c : kCodeCarbonColumns) out += fmt::format("{}{}", out.empty() ? "" : ",", c);
  return out + "\n";
}

std::string codecarbon_csv_row(const RunRecord& run, const CarbonAccount& a) {
  double cpu_j = 0, gpu_j = 0, ram_j = 0;
  int cpu_count = 0, gpu_count = 0;
  std::string cpu_model, gpu_model;
  auto totals = run.timeline.device_totals_j();
  for (size_t i = 0; i < totals.size(); ++i) {
    const auto& d = run.timeline.devices[i];
    switch (d.kind) {
      case DeviceKind::kCpu:
        cpu_j += totals[i];
        ++cpu_count;
        if (cpu_model.empty()) cpu_model = d.name;
        break;
      case DeviceKind::kGpu:
        gpu_j += totals[i];
        ++gpu_count;
        if (gpu_model.empty()) gpu_model = d.name;
        break;
      case DeviceKind::kDram:
        ram_j += totals[i];
        break;
    }
  }
  if (gpu_count > 1) gpu_model = fmt::format("{} x {}", gpu_count, gpu_model);
  const double duration_s = run.duration_s();
  const double power = duration_s > 0 ? 1.0 / duration_s : 0.0;
  const double emissions_kg = a.operational_g() / 1000;
  std::string country, provider, cloud_region;
  double lat = 0, lon = 0;
  bool on_cloud = false;
  if (const GridZone* z = find_zone(a.zone)) country = z->country;
  if (a.region) {
    if (auto r = resolve_region(*a.region); r) {
      provider = to_string((*r)->provider);
      cloud_region = (*r)->name;
      country = (*r)->country;
      lat = (*r)->lat_deg;
      lon = (*r)->lon_deg;
      on_cloud = true;
    }
  }
  std::string project = run.tags.empty() ? "carbonclock" : run.tags.front();
  std::string ts = format_utc(run.end_utc);
  ts.pop_back();  // CodeCarbon writes %Y-%m-%dT%H:%M:%S, no zone suffix
  std::vector<std::string> f = {ts,
                                csv_field(project),
                                csv_field(run.id),
                                "",
                                fmt::format("{}", duration_s),
                                fmt::format("{}", emissions_kg),
                                fmt::format("{}", duration_s > 0 ? emissions_kg / duration_s : 0.0),
                                fmt::format("{}", cpu_j * power),
                                fmt::format("{}", gpu_j * power),
                                fmt::format("{}", ram_j * power),
                                fmt::format("{}", cpu_j / kJoulesPerKwh),
                                fmt::format("{}", gpu_j / kJoulesPerKwh),
                                fmt::format("{}", ram_j / kJoulesPerKwh),
                                fmt::format("{}", (cpu_j + gpu_j + ram_j) / kJoulesPerKwh),
                                "",
                                country,
                                csv_field(a.zone),
                                provider,
                                cloud_region,
                                csv_field(os_name()),
                                "",
                                "",
                                fmt::format("{}", cpu_count),
                                csv_field(cpu_model),
                                fmt::format("{}", gpu_count),
                                csv_field(gpu_model),
                                on_cloud ? fmt::format("{}", lon) : "",
                                on_cloud ? fmt::format("{}", lat) : "",
                                "",
                                "machine",
                                on_cloud ? "Y" : "N",
                                fmt::format("{}", a.pue)};
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) out += (i ? "," : "") + f[i];
  return out + "\n";
}

Status append_codecarbon_csv(const std::filesystem::path& path, const RunRecord& run,
                             const CarbonAccount& account) {
  std::string content;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    auto existing = read_file(path);
    if (!existing) return existing.error();
    content = std::move(*existing);
  }
  const std::string header = codecarbon_csv_header();
  if (content.empty()) {
    content = header;
  } else {
    std::string first = content.substr(0, content.find('\n'));
    if (!first.empty() && first.back() == '\r') first.pop_back();
    if (first + "\n" != header) {
      return make_error(
          "{}: its header is not CodeCarbon's emissions.csv layout that carbonclock writes; "
          "refusing to append (write to a new file with -o)",
          path.string());
    }
    if (content.back() != '\n') content += '\n';
  }
  content += codecarbon_csv_row(run, account);
  return write_file_atomic(path, content);
}

}  // namespace carbonclock

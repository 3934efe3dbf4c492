#include "reports/codecarbon_csv.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>

#include "common/files.h"
#include "common/units.h"
#include "regions/catalogue.h"
#include "reports/countries.h"
#include "reports/format.h"

namespace carbonclock {
namespace {

// EmissionsData's fields at each release that changed them (mlco2/codecarbon,
// codecarbon/output.py up to 2.3, codecarbon/output_methods/emissions_data.py after). The CSV's
// columns are the dataclass's fields in declaration order (output_methods/file.py writes
// pd.DataFrame.from_records([dict(data.values)])). Releases v3.2.1 to 3.3.0 (the newest) have
// k321, v3.0.8–v3.1.2 k308, v2.7.0–v3.0.7 k270, v2.2.3–v2.6.0 k223, v2.2.0–v2.2.2 k220,
// v2.0.0–v2.1.4 k200.
enum Release : std::uint8_t { k200, k220, k223, k270, k308, k321, kReleaseCount };
constexpr const char* kReleaseNames[] = {"2.0.0", "2.2.0", "2.2.3", "2.7.0", "3.0.8", "3.2.1"};
static_assert(std::size(kReleaseNames) == kReleaseCount);

// Every column any release has written, in the current order, with the release that added it.
// No release removed a column or reordered those it kept, so a release's layout is the columns
// added up to it, in this order. Each layout was compared field by field with the source at the
// tag of its release, the current one also at the newest release, 3.3.0 (tag 3.3.0, commit
// 4dde6e30f061f9fa718fa0396b284b3c965a5aad, 2026-08-04), and at master
// b05965e43b690cdc53787c7577adbe6e2caf4ed9 (2026-08-08): unchanged since v3.2.1 (commit
// 37f7b7c9d1370a402aa8f26b21bdfdce4bcac187). In 3.2.1 the utilisation columns and ram_used_gb
// (fields with defaults, so after the required ones) come after tracking_mode, before on_cloud.
struct Column {
  const char* name;
  Release since;
};
constexpr Column kColumns[] = {
    {"timestamp", k200},
    {"project_name", k200},
    {"run_id", k200},
    {"experiment_id", k270},
    {"duration", k200},
    {"emissions", k200},
    {"emissions_rate", k200},
    {"cpu_power", k200},
    {"gpu_power", k200},
    {"ram_power", k200},
    {"cpu_energy", k200},
    {"gpu_energy", k200},
    {"ram_energy", k200},
    {"energy_consumed", k200},
    {"water_consumed", k308},
    {"country_name", k200},
    {"country_iso_code", k200},
    {"region", k200},
    {"cloud_provider", k200},
    {"cloud_region", k200},
    {"os", k200},
    {"python_version", k200},
    {"codecarbon_version", k220},
    {"cpu_count", k200},
    {"cpu_model", k200},
    {"gpu_count", k200},
    {"gpu_model", k200},
    {"longitude", k200},
    {"latitude", k200},
    {"ram_total_size", k200},
    {"tracking_mode", k200},
    {"cpu_utilization_percent", k321},
    {"gpu_utilization_percent", k321},
    {"ram_utilization_percent", k321},
    {"ram_used_gb", k321},
    {"on_cloud", k200},
    {"pue", k223},
    {"wue", k308},
};

// The columns of `release`'s layout, in order.
template <Release release>
constexpr auto columns_of() {
  constexpr auto kCount = static_cast<size_t>(
      std::ranges::count_if(kColumns, [](const Column& c) { return c.since <= release; }));
  std::array<const char*, kCount> out{};
  size_t n = 0;
  for (const Column& c : kColumns) {
    if (c.since <= release) out[n++] = c.name;
  }
  return out;
}
template <Release release>
constexpr auto kLayoutColumns = columns_of<release>();
template <Release release>
constexpr CodeCarbonLayout layout() {
  return {kReleaseNames[release], kLayoutColumns<release>};
}

constexpr CodeCarbonLayout kLayouts[] = {layout<k200>(), layout<k220>(), layout<k223>(),
                                         layout<k270>(), layout<k308>(), layout<k321>()};

// Shortest text that reads back as the same double (fmt's default), never "-0".
std::string number(double v) { return fmt::format("{}", v == 0 ? 0.0 : v); }

// "2 x NVIDIA A100-SXM4-40GB, 1 x NVIDIA T4": CodeCarbon's "N x NAME" per model.
std::string gpu_models(const RunRecord& run) {
  std::vector<std::pair<std::string, int>> counts;
  for (const auto& d : run.timeline.devices) {
    if (d.kind != DeviceKind::kGpu) continue;
    std::string name = d.name.empty() ? d.id : d.name;
    auto it = std::find_if(counts.begin(), counts.end(), [&](auto& c) { return c.first == name; });
    if (it == counts.end()) {
      counts.emplace_back(name, 1);
    } else {
      ++it->second;
    }
  }
  std::string out;
  for (const auto& [name, n] : counts)
    out += fmt::format("{}{} x {}", out.empty() ? "" : ", ", n, name);
  return out;
}

// One CSV record: its fields (unquoted) and its raw text including the line break.
struct Record {
  std::vector<std::string> fields;
  std::string_view raw;
};

// Splits `text` into RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
// Hand-written: the grid's CSV reader is line-based and internal to the grid library.
Result<std::vector<Record>> parse_records(std::string_view text, const std::string& origin) {
  std::vector<Record> out;
  size_t i = 0;
  while (i < text.size()) {
    Record r;
    const size_t begin = i;
    std::string field;
    bool quoted = false, in_quotes = false;
    while (true) {
      if (i >= text.size()) {
        if (in_quotes)
          return make_error("{}: record {}: unterminated quote", origin, out.size() + 1);
        r.fields.push_back(std::move(field));
        break;
      }
      char c = text[i++];
      if (in_quotes) {
        if (c == '"' && i < text.size() && text[i] == '"') {
          field += '"';
          ++i;
        } else if (c == '"') {
          in_quotes = false;
        } else {
          field += c;
        }
      } else if (c == '"' && field.empty() && !quoted) {
        in_quotes = quoted = true;
      } else if (c == ',') {
        r.fields.push_back(std::move(field));
        field.clear();
        quoted = false;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i < text.size() && text[i] == '\n') ++i;
        r.fields.push_back(std::move(field));
        break;
      } else {
        field += c;
      }
    }
    r.raw = text.substr(begin, i - begin);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::span<const CodeCarbonLayout> codecarbon_layouts() { return kLayouts; }

std::string codecarbon_csv_header() {
  std::string out;
  for (const char* c : kLayouts[std::size(kLayouts) - 1].columns) {
    out += fmt::format("{}{}", out.empty() ? "" : ",", c);
  }
  return out + "\n";
}

std::map<std::string, std::string> codecarbon_fields(const RunRecord& run, const CarbonAccount& a) {
  double cpu_j = 0, gpu_j = 0, ram_j = 0;
  int gpu_count = 0;
  bool all_estimated = !run.timeline.devices.empty();
  auto totals = run.timeline.device_totals_j();
  for (size_t i = 0; i < totals.size(); ++i) {
    const auto& d = run.timeline.devices[i];
    all_estimated = all_estimated && d.method == Method::kEstimate;
    switch (d.kind) {
      case DeviceKind::kCpu:
        cpu_j += totals[i];
        break;
      case DeviceKind::kGpu:
        gpu_j += totals[i];
        ++gpu_count;
        break;
      case DeviceKind::kDram:
        ram_j += totals[i];
        break;
    }
  }
  const double duration_s = run.duration_s();
  auto mean_w = [&](double j) { return duration_s > 0 ? j / duration_s : 0.0; };
  // CodeCarbon multiplies every energy by the PUE (EmissionsTracker._do_measurements), not the
  // powers; emissions already include it.
  auto facility_kwh = [&](double j) { return j * a.pue / kJoulesPerKwh; };
  const double emissions_kg = a.operational_g() / 1000;

  std::string alpha2, provider, cloud_region, lat, lon;
  if (const GridZone* z = find_zone(a.zone)) alpha2 = z->country;
  // Cloud fields only when the run was placed in a cloud region: a zone alone says nothing
  // about where the machine was.
  if (a.region) {
    if (auto r = resolve_region(*a.region); r) {
      provider = to_string((*r)->provider);
      cloud_region = (*r)->name;
      alpha2 = (*r)->country;
      lat = number((*r)->lat_deg);
      lon = number((*r)->lon_deg);
    }
  }
  const Country* country = alpha2.empty() ? nullptr : country_by_alpha2(alpha2);
  std::string ts = format_utc(run.end_utc);
  ts.pop_back();  // CodeCarbon writes %Y-%m-%dT%H:%M:%S, without a zone suffix (ours is UTC)
  const HostInfo host = run.host_info.value_or(HostInfo{});
  return {
      {"timestamp", ts},
      {"project_name", csv_field(run.tags.empty() ? "carbonclock" : run.tags.front())},
      {"run_id", csv_field(run.id)},
      {"experiment_id", ""},
      {"duration", number(duration_s)},
      {"emissions", number(emissions_kg)},
      {"emissions_rate", number(duration_s > 0 ? emissions_kg / duration_s : 0.0)},
      {"cpu_power", number(mean_w(cpu_j))},
      {"gpu_power", number(mean_w(gpu_j))},
      {"ram_power", number(mean_w(ram_j))},
      {"cpu_energy", number(facility_kwh(cpu_j))},
      {"gpu_energy", number(facility_kwh(gpu_j))},
      {"ram_energy", number(facility_kwh(ram_j))},
      {"energy_consumed", number(facility_kwh(cpu_j + gpu_j + ram_j))},
      {"water_consumed", "0"},  // water = WUE × energy, and WUE is 0 (CodeCarbon's default)
      {"country_name", csv_field(country ? country->name : "")},
      {"country_iso_code", country ? country->alpha3 : ""},
      {"region", csv_field(a.zone)},
      {"cloud_provider", provider},
      {"cloud_region", csv_field(cloud_region)},
      {"os", csv_field(host.os)},
      {"python_version", csv_field(host.python_version)},
      {"codecarbon_version", ""},  // not written by CodeCarbon
      {"cpu_count", host.logical_cpus > 0 ? std::to_string(host.logical_cpus) : ""},
      {"cpu_model", csv_field(host.cpu_model)},
      {"gpu_count", std::to_string(gpu_count)},
      {"gpu_model", csv_field(gpu_models(run))},
      {"longitude", lon},
      {"latitude", lat},
      {"ram_total_size", host.ram_total_gb > 0 ? number(host.ram_total_gb) : ""},
      // "process": every device is a model of the job's own process tree.
      {"tracking_mode", all_estimated ? "process" : "machine"},
      {"cpu_utilization_percent", ""},
      {"gpu_utilization_percent", ""},
      {"ram_utilization_percent", ""},
      {"ram_used_gb", ""},
      {"on_cloud", provider.empty() ? "N" : "Y"},
      {"pue", number(a.pue)},
      {"wue", "0"},
  };
}

std::string codecarbon_csv_row(const RunRecord& run, const CarbonAccount& account,
                               std::span<const std::string> columns) {
  auto fields = codecarbon_fields(run, account);
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    auto it = fields.find(columns[i]);
    out += (i ? "," : "") + (it == fields.end() ? std::string() : it->second);
  }
  return out + "\n";
}

std::string codecarbon_csv_row(const RunRecord& run, const CarbonAccount& account) {
  const auto& current = kLayouts[std::size(kLayouts) - 1].columns;
  std::vector<std::string> columns(current.begin(), current.end());
  return codecarbon_csv_row(run, account, columns);
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
  if (content.empty()) {
    return write_file_atomic(path, codecarbon_csv_header() + codecarbon_csv_row(run, account));
  }
  std::string_view text = content;
  const bool bom = text.starts_with("\xEF\xBB\xBF");
  if (bom) text.remove_prefix(3);
  auto records = parse_records(text, path.string());
  if (!records) return records.error();
  const std::vector<std::string> header = records->front().fields;
  const std::set<std::string> have(header.begin(), header.end());
  const CodeCarbonLayout* layout = nullptr;
  for (const auto& l : kLayouts) {
    std::set<std::string> want(l.columns.begin(), l.columns.end());
    if (want == have && want.size() == header.size()) layout = &l;
  }
  if (!layout) {
    std::string versions;
    for (const auto& l : kLayouts) {
      versions +=
          fmt::format("{}{} ({} columns)", versions.empty() ? "" : ", ", l.since, l.columns.size());
    }
    return make_error(
        "{}: its header is not one of CodeCarbon's emissions.csv layouts ({}); refusing to "
        "append (write to a new file with -o)",
        path.string(), versions);
  }
  const auto run_id_at =
      static_cast<size_t>(std::find(header.begin(), header.end(), "run_id") - header.begin());
  const std::string_view first_raw = records->front().raw;
  const std::string eol = first_raw.ends_with("\r\n") ? "\r\n" : "\n";
  std::string row = codecarbon_csv_row(run, account, header);
  row.pop_back();
  row += eol;
  // Rebuild: the header and every other run's record as they were, this run's row replacing
  // its old one (or appended).
  std::string out = bom ? "\xEF\xBB\xBF" : "";
  out += first_raw;
  if (!first_raw.ends_with('\n') && !first_raw.ends_with('\r')) out += eol;
  bool replaced = false;
  for (size_t i = 1; i < records->size(); ++i) {
    const Record& r = (*records)[i];
    const bool blank = r.fields.size() == 1 && r.fields[0].empty();
    if (!blank && r.fields.size() > run_id_at && r.fields[run_id_at] == run.id) {
      if (!replaced) out += row;
      replaced = true;
      continue;
    }
    out += r.raw;
    if (!r.raw.ends_with('\n') && !r.raw.ends_with('\r')) out += eol;
  }
  if (!replaced) out += row;
  return write_file_atomic(path, out);
}

}  // namespace carbonclock

#include "grid/importers.h"

#include <date/tz.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/files.h"
#include "common/json_text.h"
#include "grid/csv_reader.h"

namespace carbonclock {
namespace {

using json = nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;

constexpr double kGramsPerPound = 453.59237;

// ---------------------------------------------------------------------------------------------
// Small parsing helpers.

bool parse_double(std::string_view text, double& out) {
  text = csv::trim(text);
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && std::isfinite(out);
}

bool parse_int(std::string_view text, int64_t& out) {
  text = csv::trim(text);
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && p == text.data() + text.size();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void erase_all(std::string& s, std::string_view what) {
  for (size_t pos; (pos = s.find(what)) != std::string::npos;) s.erase(pos, what.size());
}

// True when the timestamp text carries its own UTC offset or "Z".
bool has_offset(std::string_view text) {
  text = csv::trim(text);
  if (text.size() <= 10) return false;
  char last = text.back();
  if (last == 'Z' || last == 'z' || text.ends_with("UTC")) return true;
  return text.find_first_of("+-", 11) != std::string_view::npos;
}

// Converts timestamps to UTC, reading offset-less ones in a time zone when one is given.
class TimeReader {
 public:
  static Result<TimeReader> make(const std::string& tz_name) {
    TimeReader r;
    if (tz_name.empty()) return r;
    try {
      r.tz_ = date::locate_zone(tz_name);
    } catch (const std::runtime_error& e) {
      return make_error("unknown time zone '{}' (expected an IANA name such as Europe/Berlin)",
                        tz_name);
    }
    return r;
  }

  // `prev` is the previous row's instant (same zone), used to order a repeated DST hour.
  Result<SysTime> read(std::string_view text, const SysTime* prev) const {
    auto t = parse_utc(text);
    if (!t || tz_ == nullptr || has_offset(text)) return t;
    auto secs = std::chrono::floor<Seconds>(*t);
    date::local_seconds local{secs.time_since_epoch()};
    date::local_info info = tz_->get_info(local);
    switch (info.result) {
      case date::local_info::unique:
        return *t - info.first.offset;
      case date::local_info::nonexistent:
        return make_error("local time '{}' does not exist in {} (skipped by a DST change)",
                          csv::trim(text), tz_->name());
      case date::local_info::ambiguous:
      default: {
        SysTime earlier = *t - info.first.offset;
        SysTime later = *t - info.second.offset;
        if (prev != nullptr && earlier <= *prev) return later;
        return earlier;
      }
    }
  }

 private:
  const date::time_zone* tz_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Accumulates one zone's points in file order, rejecting backwards and conflicting duplicates.

struct PointsBuilder {
  std::string zone;
  std::vector<SysTime> starts;
  std::vector<double> values;
  std::vector<char> estimated;
  std::vector<Nanos> durations;  // only when the file gives them

  // `where` is "FILE:LINE" or "FILE: data[3]".
  Status add(SysTime t, double g_per_kwh, bool is_estimated, std::optional<Nanos> duration,
             const std::string& where) {
    if (!starts.empty()) {
      if (t < starts.back()) {
        return make_error("{}: timestamp goes backwards ({} after {})", where, format_utc(t),
                          format_utc(starts.back()));
      }
      if (t == starts.back()) {
        bool same = values.back() == g_per_kwh &&
                    (!duration || durations.empty() || durations.back() == *duration);
        if (same) return {};  // an exact repeat adds nothing
        return make_error("{}: duplicate timestamp {} with different values ({} and {} g/kWh)",
                          where, format_utc(t), values.back(), g_per_kwh);
      }
    }
    starts.push_back(t);
    values.push_back(g_per_kwh);
    estimated.push_back(is_estimated ? 1 : 0);
    if (duration) durations.push_back(*duration);
    return {};
  }

  // Builds the series; durations from the file, a fixed step, or inferred.
  Result<IntensitySeries> finish(Signal signal, Factor factor, std::string source,
                                 std::optional<Nanos> step, Nanos fallback,
                                 const std::string& origin) const {
    IntensitySeries s;
    s.zone = zone;
    s.signal = signal;
    s.factor = factor;
    s.source = std::move(source);
    std::vector<Nanos> d;
    if (!durations.empty()) {
      d = durations;
    } else if (step) {
      d.assign(starts.size(), *step);
    } else {
      if (starts.size() == 1 && fallback <= Nanos(0)) {
        return make_error("{}: zone {}: cannot infer the duration of a single point (give --step)",
                          origin, zone);
      }
      d = infer_durations(starts, fallback);
    }
    s.points.reserve(starts.size());
    for (size_t i = 0; i < starts.size(); ++i) {
      s.points.push_back({starts[i], d[i], values[i], estimated[i] != 0});
    }
    if (auto st = validate_series(s, origin); !st) return st.error();
    return s;
  }
};

// Finds the builder for a zone, keeping the last one hot (files are usually single-zone).
class Builders {
 public:
  PointsBuilder& get(std::string_view zone) {
    if (last_ < list_.size() && list_[last_].zone == zone) return list_[last_];
    for (size_t i = 0; i < list_.size(); ++i) {
      if (list_[i].zone == zone) {
        last_ = i;
        return list_[i];
      }
    }
    list_.push_back(PointsBuilder{std::string(zone), {}, {}, {}, {}});
    last_ = list_.size() - 1;
    return list_.back();
  }
  std::vector<PointsBuilder>& all() { return list_; }

 private:
  std::vector<PointsBuilder> list_;
  size_t last_ = 0;
};

std::string where_line(const std::string& origin, size_t line) {
  return fmt::format("{}:{}", origin, line);
}

// Finds a header column by exact (case-insensitive, trimmed) name; -1 when absent.
int find_column(const std::vector<std::string_view>& header, std::string_view name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (csv::iequals(csv::trim(header[i]), csv::trim(name))) return static_cast<int>(i);
  }
  return -1;
}

std::string list_columns(const std::vector<std::string_view>& header) {
  std::string out;
  for (size_t i = 0; i < header.size(); ++i) {
    if (i) out += ", ";
    out += "'" + std::string(csv::trim(header[i])) + "'";
  }
  return out;
}

Result<int> require_column(const std::vector<std::string_view>& header, std::string_view name,
                           const std::string& origin, const char* role) {
  int c = find_column(header, name);
  if (c < 0) {
    return make_error("{}:1: no {} column '{}' (columns: {})", origin, role, name,
                      list_columns(header));
  }
  return c;
}

// Reads the header line; error on an empty file.
Status read_header(csv::LineReader& lines, std::vector<std::string_view>& header,
                   const std::string& origin) {
  std::string_view line;
  while (lines.next(line)) {
    if (csv::trim(line).empty()) continue;
    if (!csv::split(line, header)) {
      return make_error("{}:{}: unterminated quote in header", origin, lines.line_number());
    }
    return {};
  }
  return make_error("{}: empty file (no header)", origin);
}

bool parse_bool_text(std::string_view text) {
  text = csv::trim(text);
  return csv::iequals(text, "true") || text == "1" || csv::iequals(text, "yes");
}

// ---------------------------------------------------------------------------------------------
// Electricity Maps CSV.

constexpr std::string_view kEmTimeColumn = "Datetime (UTC)";
constexpr std::string_view kEmIntensityPrefix = "Carbon Intensity gCO";

int find_em_intensity(const std::vector<std::string_view>& header, std::string_view suffix) {
  for (size_t i = 0; i < header.size(); ++i) {
    std::string_view h = csv::trim(header[i]);
    if (h.starts_with(kEmIntensityPrefix) && h.ends_with(suffix)) return static_cast<int>(i);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// JSON helpers.

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> string_member(const json& obj, const char* key, const std::string& where) {
  const json* v = member(obj, key);
  if (v == nullptr || !v->is_string()) return make_error("{}: missing string '{}'", where, key);
  return v->get<std::string>();
}

Result<SysTime> time_member(const json& obj, const char* key, const std::string& where) {
  auto s = string_member(obj, key, where);
  if (!s) return s.error();
  auto t = parse_utc(*s);
  if (!t) return t.error().with_context(where);
  return t;
}

// A value that must be a finite non-negative number; nullopt when null/absent.
Result<std::optional<double>> value_member(const json& obj, const char* key,
                                           const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) {
    return make_error("{}: '{}' is not a number ({})", where, key, it->type_name());
  }
  double v = it->get<double>();
  if (!std::isfinite(v) || v < 0) {
    return make_error("{}: '{}' is negative or not finite ({})", where, key, v);
  }
  return std::optional<double>(v);
}

Result<std::vector<IntensitySeries>> finish_all(std::vector<PointsBuilder>& builders, Signal signal,
                                                Factor factor, const std::string& source,
                                                std::optional<Nanos> step, Nanos fallback,
                                                std::optional<SysTime> issued_at,
                                                const std::string& origin) {
  std::vector<IntensitySeries> out;
  for (const PointsBuilder& b : builders) {
    if (b.starts.empty()) continue;
    auto s = b.finish(signal, factor, source, step, fallback, origin);
    if (!s) return s.error();
    s->issued_at = issued_at;
    out.push_back(std::move(*s));
  }
  if (out.empty()) return make_error("{}: no data points", origin);
  return out;
}

Nanos em_granularity(const json& root) {
  const json* g = member(root, "temporalGranularity");
  if (g == nullptr || !g->is_string()) return Nanos(0);
  std::string v = g->get<std::string>();
  if (v == "5_minutes") return minutes(5);
  if (v == "15_minutes") return minutes(15);
  if (v == "hourly") return hours(1);
  if (v == "daily") return hours(24);
  return Nanos(0);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

const char* to_string(ImportFormat f) {
  switch (f) {
    case ImportFormat::kAuto:
      return "auto";
    case ImportFormat::kElectricityMapsCsv:
      return "electricitymaps-csv";
    case ImportFormat::kElectricityMapsJson:
      return "electricitymaps-json";
    case ImportFormat::kWattTimeJson:
      return "watttime-json";
    case ImportFormat::kUkCarbonIntensityJson:
      return "ukci-json";
    case ImportFormat::kGenericCsv:
      return "csv";
  }
  return "?";
}

Result<ImportFormat> parse_import_format(std::string_view text) {
  for (ImportFormat f : {ImportFormat::kAuto, ImportFormat::kElectricityMapsCsv,
                         ImportFormat::kElectricityMapsJson, ImportFormat::kWattTimeJson,
                         ImportFormat::kUkCarbonIntensityJson, ImportFormat::kGenericCsv}) {
    if (text == to_string(f)) return f;
  }
  return make_error(
      "unknown format '{}' (auto, electricitymaps-csv, electricitymaps-json, watttime-json, "
      "ukci-json, csv)",
      text);
}

Result<double> unit_to_g_per_kwh(std::string_view unit) {
  std::string u = lower(csv::trim(unit));
  erase_all(u, " ");
  for (const char* w : {"_per_", "per"}) {
    for (size_t pos; (pos = u.find(w)) != std::string::npos;) u.replace(pos, strlen(w), "/");
  }
  for (const char* w : {"co2eq", "co2e", "co2",
                        "co\xE2\x82\x82"
                        "eq",
                        "co\xE2\x82\x82"}) {
    erase_all(u, w);
  }
  erase_all(u, "_");
  static const std::pair<const char*, double> kUnits[] = {{"g/kwh", 1.0},
                                                          {"kg/mwh", 1.0},
                                                          {"g/mwh", 1e-3},
                                                          {"mg/kwh", 1e-3},
                                                          {"t/mwh", 1000.0},
                                                          {"tonne/mwh", 1000.0},
                                                          {"tonnes/mwh", 1000.0},
                                                          {"kg/kwh", 1000.0},
                                                          {"lb/mwh", kGramsPerPound / 1000},
                                                          {"lbs/mwh", kGramsPerPound / 1000},
                                                          {"lb/kwh", kGramsPerPound},
                                                          {"lbs/kwh", kGramsPerPound}};
  for (const auto& [name, factor] : kUnits) {
    if (u == name) return factor;
  }
  return make_error(
      "unknown unit '{}' (g/kWh, kg/MWh, g/MWh, mg/kWh, t/MWh, kg/kWh, lbs/MWh, lbs/kWh)", unit);
}

std::vector<Nanos> infer_durations(const std::vector<SysTime>& starts, Nanos fallback) {
  std::vector<Nanos> out(starts.size(), fallback);
  if (starts.size() < 2) return out;
  std::vector<Nanos> steps;
  steps.reserve(starts.size() - 1);
  for (size_t i = 1; i < starts.size(); ++i) steps.push_back(starts[i] - starts[i - 1]);
  std::vector<Nanos> sorted = steps;
  std::sort(sorted.begin(), sorted.end());
  Nanos dominant = sorted[0];
  size_t best = 0;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    if (j - i > best) {  // strictly greater: ties keep the smaller step
      best = j - i;
      dominant = sorted[i];
    }
    i = j;
  }
  for (size_t i = 0; i + 1 < starts.size(); ++i) out[i] = std::min(steps[i], dominant);
  out.back() = std::min(steps.back(), dominant);
  return out;
}

Status validate_series(const IntensitySeries& series, std::string_view origin) {
  if (series.zone.empty()) return make_error("{}: series without a zone", origin);
  const auto& p = series.points;
  for (size_t i = 0; i < p.size(); ++i) {
    if (!in_time_range(p[i].start)) {
      return make_error(
          "{}: zone {}: point at {} is outside the supported range 1900-01-01 .. "
          "2199-12-31",
          origin, series.zone, format_utc(p[i].start));
    }
    if (p[i].duration > kMaxDuration) {
      return make_error("{}: zone {}: point at {} lasts {}, longer than the supported 20 years",
                        origin, series.zone, format_utc(p[i].start),
                        format_duration(p[i].duration));
    }
    if (p[i].duration <= Nanos(0)) {
      return make_error("{}: zone {}: point at {} has a non-positive duration", origin, series.zone,
                        format_utc(p[i].start));
    }
    if (!std::isfinite(p[i].g_per_kwh) || p[i].g_per_kwh < 0) {
      return make_error("{}: zone {}: point at {} has a negative or non-finite value ({})", origin,
                        series.zone, format_utc(p[i].start), p[i].g_per_kwh);
    }
    if (i > 0 && p[i].start < p[i - 1].end()) {
      return make_error("{}: zone {}: point at {} starts before the previous one ends ({})", origin,
                        series.zone, format_utc(p[i].start), format_utc(p[i - 1].end()));
    }
  }
  return {};
}

Result<ImportFormat> detect_import_format(std::string_view content, std::string_view origin) {
  std::string_view s = content;
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return make_error("{}: empty file", origin);
  if (s[first] == '{' || s[first] == '[') {
    auto root = parse_json(s, std::string(origin));
    if (!root) return root.error();
    const json& r = *root;
    if (member(r, "meta") && (member(r["meta"], "signal_type") || member(r["meta"], "region"))) {
      return ImportFormat::kWattTimeJson;
    }
    if (member(r, "history") || member(r, "forecast") || (member(r, "zone") && member(r, "data"))) {
      return ImportFormat::kElectricityMapsJson;
    }
    if (const json* data = member(r, "data")) {
      const json& item = data->is_array() && !data->empty() ? (*data)[0] : *data;
      if (member(item, "intensity") || member(item, "regions") || member(item, "regionid") ||
          member(item, "shortname")) {
        return ImportFormat::kUkCarbonIntensityJson;
      }
      if (member(item, "carbonIntensity")) return ImportFormat::kElectricityMapsJson;
      if (member(item, "point_time")) return ImportFormat::kWattTimeJson;
    }
    return make_error(
        "{}: JSON of unknown shape (expected an Electricity Maps, WattTime or UK Carbon Intensity "
        "API response; use --format)",
        origin);
  }
  std::string_view header = s.substr(first, s.find('\n', first) - first);
  if (header.find(kEmTimeColumn) != std::string_view::npos &&
      header.find(kEmIntensityPrefix) != std::string_view::npos) {
    return ImportFormat::kElectricityMapsCsv;
  }
  if (header.find(',') == std::string_view::npos) {
    return make_error("{}:1: not a CSV or JSON file (no comma in the first line)", origin);
  }
  return ImportFormat::kGenericCsv;
}

Result<std::vector<IntensitySeries>> parse_electricitymaps_csv(std::string_view content,
                                                               std::string origin) {
  csv::LineReader lines(content);
  std::vector<std::string_view> header, fields;
  if (auto st = read_header(lines, header, origin); !st) return st.error();
  auto time_col = require_column(header, kEmTimeColumn, origin, "time");
  if (!time_col) return time_col.error();
  auto zone_col = require_column(header, "Zone Id", origin, "zone");
  if (!zone_col) return zone_col.error();
  int direct_col = find_em_intensity(header, "(direct)");
  int lca_col = find_em_intensity(header, "(LCA)");
  if (direct_col < 0 && lca_col < 0) {
    return make_error("{}:1: no '{}...(direct)' or '(LCA)' column (columns: {})", origin,
                      kEmIntensityPrefix, list_columns(header));
  }
  int est_col = find_column(header, "Data Estimated");
  size_t needed = static_cast<size_t>(std::max({*time_col, *zone_col, direct_col, lca_col}) + 1);
  Builders lifecycle, direct;
  std::string_view line;
  while (lines.next(line)) {
    if (csv::trim(line).empty()) continue;
    size_t n = lines.line_number();
    if (!csv::split(line, fields)) {
      return make_error("{}: unterminated quote", where_line(origin, n));
    }
    if (fields.size() < needed || fields.size() > header.size()) {
      return make_error("{}: expected {} columns, found {}", where_line(origin, n), header.size(),
                        fields.size());
    }
    auto t = parse_utc(fields[static_cast<size_t>(*time_col)]);
    if (!t) return t.error().with_context(where_line(origin, n));
    std::string_view zone = csv::trim(fields[static_cast<size_t>(*zone_col)]);
    if (zone.empty()) return make_error("{}: empty Zone Id", where_line(origin, n));
    bool est = est_col >= 0 && static_cast<size_t>(est_col) < fields.size() &&
               parse_bool_text(fields[static_cast<size_t>(est_col)]);
    for (auto [col, builders] : {std::pair{lca_col, &lifecycle}, std::pair{direct_col, &direct}}) {
      if (col < 0) continue;
      std::string_view text = csv::trim(fields[static_cast<size_t>(col)]);
      if (text.empty()) continue;  // no value: a gap
      double v = 0;
      if (!parse_double(text, v) || v < 0) {
        return make_error("{}: bad intensity '{}' in column '{}' (need a number >= 0)",
                          where_line(origin, n), text, csv::trim(header[static_cast<size_t>(col)]));
      }
      if (auto st = builders->get(zone).add(*t, v, est, std::nullopt, where_line(origin, n)); !st) {
        return st.error();
      }
    }
  }
  std::vector<IntensitySeries> out;
  for (auto [factor, builders] :
       {std::pair{Factor::kLifecycle, &lifecycle}, std::pair{Factor::kDirect, &direct}}) {
    if (builders->all().empty()) continue;
    auto s = finish_all(builders->all(), Signal::kAverage, factor, "electricitymaps-csv",
                        std::nullopt, hours(1), std::nullopt, origin);
    if (!s) return s.error();
    for (auto& x : *s) out.push_back(std::move(x));
  }
  if (out.empty()) return make_error("{}: no data rows", origin);
  return out;
}

Result<std::vector<IntensitySeries>> parse_generic_csv(std::string_view content, std::string origin,
                                                       const ImportOptions& options) {
  const GenericCsvOptions& o = options.csv;
  csv::LineReader lines(content);
  std::vector<std::string_view> header, fields;
  if (auto st = read_header(lines, header, origin); !st) return st.error();
  const bool indexed = o.index_origin.has_value();
  if (indexed && (!o.step || *o.step <= Nanos(0))) {
    return make_error("{}: --index-origin needs a positive --step", origin);
  }
  // Time column.
  int time_col = -1;
  if (!o.time_column.empty()) {
    auto c = require_column(header, o.time_column, origin, "time");
    if (!c) return c.error();
    time_col = *c;
  } else {
    for (const char* name : {"Time", "timestamp", "datetime", "date", "Datetime (UTC)",
                             "point_time", "oootime", "T"}) {
      if ((time_col = find_column(header, name)) >= 0) break;
    }
    if (time_col < 0) time_col = 0;
  }
  // Zone and duration columns.
  int zone_col = -1, duration_col = -1;
  if (!o.zone_column.empty()) {
    auto c = require_column(header, o.zone_column, origin, "zone");
    if (!c) return c.error();
    zone_col = *c;
  } else if (!options.zone) {
    for (const char* name : {"zone", "location", "region", "Zone Id", "zone_id"}) {
      if ((zone_col = find_column(header, name)) >= 0) break;
    }
  }
  if (zone_col < 0 && !options.zone) {
    return make_error("{}: no zone: give --zone (or --zone-column)", origin);
  }
  if (!o.duration_column.empty()) {
    auto c = require_column(header, o.duration_column, origin, "duration");
    if (!c) return c.error();
    duration_col = *c;
  } else if (!o.step) {
    duration_col = find_column(header, "duration");
  }
  // Value column: named, else "value", else the only other column.
  int value_col = -1;
  if (!o.value_column.empty()) {
    auto c = require_column(header, o.value_column, origin, "value");
    if (!c) return c.error();
    value_col = *c;
  } else if ((value_col = find_column(header, "value")) < 0) {
    std::vector<int> candidates;
    for (int i = 0; i < static_cast<int>(header.size()); ++i) {
      if (i != time_col && i != zone_col && i != duration_col) candidates.push_back(i);
    }
    if (candidates.size() != 1) {
      return make_error(
          "{}:1: cannot tell which column holds the intensity (columns: {}); give "
          "--value-column",
          origin, list_columns(header));
    }
    value_col = candidates[0];
  }
  std::string unit = o.unit.empty() ? "g/kWh" : o.unit;
  auto unit_factor = unit_to_g_per_kwh(unit);
  if (!unit_factor) return unit_factor.error().with_context(origin);
  auto times = TimeReader::make(o.tz);
  if (!times) return times.error().with_context(origin);

  size_t needed = static_cast<size_t>(std::max({time_col, value_col, zone_col, duration_col}) + 1);
  Builders builders;
  std::string_view line;
  while (lines.next(line)) {
    if (csv::trim(line).empty()) continue;
    size_t n = lines.line_number();
    if (!csv::split(line, fields))
      return make_error("{}: unterminated quote", where_line(origin, n));
    // More fields than the header means a value holds an unquoted comma: the columns would
    // shift, so the row is refused rather than read wrongly.
    if (fields.size() < needed || fields.size() > header.size()) {
      return make_error("{}: expected {} columns, found {}", where_line(origin, n), header.size(),
                        fields.size());
    }
    std::string_view zone = zone_col >= 0 ? csv::trim(fields[static_cast<size_t>(zone_col)])
                                          : std::string_view(*options.zone);
    if (zone.empty()) return make_error("{}: empty zone", where_line(origin, n));
    PointsBuilder& b = builders.get(zone);
    std::string_view time_text = fields[static_cast<size_t>(time_col)];
    SysTime t;
    if (indexed) {
      int64_t index = 0;
      if (!parse_int(time_text, index) || index < 0) {
        return make_error("{}: bad interval index '{}' (need an integer >= 0)",
                          where_line(origin, n), csv::trim(time_text));
      }
      // Checked before multiplying: index × step overflowed 64-bit nanoseconds and wrapped.
      if (index > (kMaxTime - *o.index_origin) / *o.step) {
        return make_error("{}: interval index {} puts the point {}", where_line(origin, n), index,
                          "outside the supported range 1900-01-01 .. 2199-12-31");
      }
      t = *o.index_origin + index * *o.step;
    } else {
      auto parsed = times->read(time_text, b.starts.empty() ? nullptr : &b.starts.back());
      if (!parsed) return parsed.error().with_context(where_line(origin, n));
      t = *parsed;
    }
    std::string_view value_text = csv::trim(fields[static_cast<size_t>(value_col)]);
    if (value_text.empty()) continue;  // no value: a gap
    double v = 0;
    if (!parse_double(value_text, v)) {
      return make_error("{}: non-numeric value '{}' in column '{}'", where_line(origin, n),
                        value_text, csv::trim(header[static_cast<size_t>(value_col)]));
    }
    if (v < 0) {
      return make_error("{}: negative value {} in column '{}'", where_line(origin, n), v,
                        csv::trim(header[static_cast<size_t>(value_col)]));
    }
    std::optional<Nanos> duration;
    if (duration_col >= 0) {
      double d = 0;
      std::string_view d_text = fields[static_cast<size_t>(duration_col)];
      const auto d_unit = std::chrono::duration<double, std::nano>(o.duration_unit);
      if (!parse_double(d_text, d) || d <= 0 || !(d * d_unit <= kMaxDuration)) {
        return make_error("{}: bad duration '{}' (need a number > 0, at most 20 years)",
                          where_line(origin, n), csv::trim(d_text));
      }
      duration = std::chrono::round<Nanos>(d * d_unit);
    }
    if (auto st = b.add(t, v * *unit_factor, false, duration, where_line(origin, n)); !st) {
      return st.error();
    }
  }
  // Marginal rates (WattTime MOER, model-based MEFs) count combustion at the marginal plant:
  // direct emissions. Average series are usually lifecycle (Electricity Maps' default).
  const Signal signal = options.signal.value_or(Signal::kAverage);
  const Factor default_factor = signal == Signal::kMarginal ? Factor::kDirect : Factor::kLifecycle;
  return finish_all(builders.all(), signal, options.factor.value_or(default_factor),
                    options.source.value_or("csv"), o.step, Nanos(0), std::nullopt, origin);
}

Result<std::vector<IntensitySeries>> parse_electricitymaps_json(std::string_view content,
                                                                std::string origin) {
  auto root_or = parse_json(content, origin);
  if (!root_or) return root_or.error();
  const json& root = *root_or;
  const char* key = member(root, "forecast")  ? "forecast"
                    : member(root, "history") ? "history"
                                              : "data";
  const json* items = member(root, key);
  if (items == nullptr || !items->is_array()) {
    return make_error("{}: no 'history', 'data' or 'forecast' array", origin);
  }
  std::string top_zone;
  if (const json* z = member(root, "zone"); z && z->is_string()) top_zone = z->get<std::string>();
  std::string top_factor;
  if (const json* f = member(root, "emissionFactorType"); f && f->is_string()) {
    top_factor = f->get<std::string>();
  }
  Builders lifecycle, direct;
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    std::string where = fmt::format("{}: {}[{}]", origin, key, i);
    if (!item.is_object()) return make_error("{}: not an object", where);
    std::string zone = top_zone;
    if (const json* z = member(item, "zone"); z && z->is_string()) zone = z->get<std::string>();
    if (zone.empty()) return make_error("{}: no zone", where);
    auto t = time_member(item, "datetime", where);
    if (!t) return t.error();
    auto v = value_member(item, "carbonIntensity", where);
    if (!v) return v.error();
    if (!*v) continue;  // null intensity: a gap
    std::string factor_text = top_factor;
    if (const json* f = member(item, "emissionFactorType"); f && f->is_string()) {
      factor_text = f->get<std::string>();
    }
    Factor factor = Factor::kLifecycle;
    if (!factor_text.empty()) {
      auto parsed = parse_factor(factor_text);
      if (!parsed) return parsed.error().with_context(where);
      factor = *parsed;
    }
    bool est = false;
    if (const json* e = member(item, "isEstimated"); e && e->is_boolean()) est = e->get<bool>();
    Builders& b = factor == Factor::kLifecycle ? lifecycle : direct;
    if (auto st = b.get(zone).add(*t, **v, est, std::nullopt, where); !st) return st.error();
  }
  std::optional<SysTime> issued_at;
  if (std::string_view(key) == "forecast") {
    if (member(root, "updatedAt")) {
      auto t = time_member(root, "updatedAt", origin);
      if (!t) return t.error();
      issued_at = *t;
    } else if (!items->empty()) {
      auto t = time_member((*items)[0], "datetime", origin);
      if (!t) return t.error();
      issued_at = *t;
    }
  }
  Nanos granularity = em_granularity(root);
  std::optional<Nanos> step;
  if (granularity > Nanos(0)) step = granularity;
  std::vector<IntensitySeries> out;
  for (auto [factor, builders] :
       {std::pair{Factor::kLifecycle, &lifecycle}, std::pair{Factor::kDirect, &direct}}) {
    if (builders->all().empty()) continue;
    auto s = finish_all(builders->all(), Signal::kAverage, factor, "electricitymaps-api", step,
                        hours(1), issued_at, origin);
    if (!s) return s.error();
    for (auto& x : *s) out.push_back(std::move(x));
  }
  if (out.empty()) return make_error("{}: no data points", origin);
  return out;
}

namespace {

struct WattTimeMeta {
  std::string region;
  Signal signal = Signal::kMarginal;
  double factor = 1;
  std::optional<Nanos> step;
  std::optional<SysTime> generated_at;
};

Result<WattTimeMeta> read_watttime_meta(const json& root, const std::string& origin) {
  const json* meta = member(root, "meta");
  if (meta == nullptr || !meta->is_object()) return make_error("{}: no 'meta' object", origin);
  std::string where = origin + ": meta";
  WattTimeMeta m;
  auto region = string_member(*meta, "region", where);
  if (!region) return region.error();
  m.region = *region;
  auto signal = string_member(*meta, "signal_type", where);
  if (!signal) return signal.error();
  if (*signal == "co2_moer") {
    m.signal = Signal::kMarginal;
  } else if (*signal == "co2_aoer") {
    m.signal = Signal::kAverage;
  } else {
    return make_error("{}: unsupported signal_type '{}' (co2_moer or co2_aoer)", where, *signal);
  }
  auto units = string_member(*meta, "units", where);
  if (!units) return units.error();
  auto factor = unit_to_g_per_kwh(*units);
  if (!factor) return factor.error().with_context(where);
  m.factor = *factor;
  if (const json* p = member(*meta, "data_point_period_seconds")) {
    auto step = p->is_number() ? checked_from_seconds(p->get<double>())
                               : Result<Nanos>(make_error("not a number ({})", p->type_name()));
    if (!step || *step <= Nanos(0)) {
      return make_error("{}: bad data_point_period_seconds: {}", where,
                        step ? "not positive" : step.error().message());
    }
    m.step = *step;
  }
  if (member(*meta, "generated_at")) {
    auto t = time_member(*meta, "generated_at", where);
    if (!t) return t.error();
    m.generated_at = *t;
  }
  return m;
}

Result<IntensitySeries> watttime_points(const json& items, const WattTimeMeta& meta,
                                        std::optional<SysTime> issued_at,
                                        const std::string& where_prefix,
                                        const std::string& origin) {
  PointsBuilder b{meta.region, {}, {}, {}, {}};
  for (size_t i = 0; i < items.size(); ++i) {
    std::string where = fmt::format("{}[{}]", where_prefix, i);
    auto t = time_member(items[i], "point_time", where);
    if (!t) return t.error();
    auto v = value_member(items[i], "value", where);
    if (!v) return v.error();
    if (!*v) continue;
    if (auto st = b.add(*t, **v * meta.factor, false, std::nullopt, where); !st) return st.error();
  }
  if (b.starts.empty()) return make_error("{}: no data points", where_prefix);
  auto s = b.finish(meta.signal, Factor::kDirect, "watttime-api", meta.step, minutes(5), origin);
  if (!s) return s.error();
  s->issued_at = issued_at;
  return s;
}

}  // namespace

Result<std::vector<IntensitySeries>> parse_watttime_json(std::string_view content,
                                                         std::string origin) {
  auto root_or = parse_json(content, origin);
  if (!root_or) return root_or.error();
  const json& root = *root_or;
  auto meta = read_watttime_meta(root, origin);
  if (!meta) return meta.error();
  const json* data = member(root, "data");
  if (data == nullptr || !data->is_array()) return make_error("{}: no 'data' array", origin);
  std::vector<IntensitySeries> out;
  // /v3/forecast/historical: data[] of {generated_at, forecast[]}, one forecast each.
  if (!data->empty() && member((*data)[0], "forecast")) {
    for (size_t i = 0; i < data->size(); ++i) {
      std::string where = fmt::format("{}: data[{}]", origin, i);
      auto issued = time_member((*data)[i], "generated_at", where);
      if (!issued) return issued.error();
      const json* f = member((*data)[i], "forecast");
      if (f == nullptr || !f->is_array()) return make_error("{}: no 'forecast' array", where);
      auto s = watttime_points(*f, *meta, *issued, where + ".forecast", origin);
      if (!s) return s.error();
      out.push_back(std::move(*s));
    }
    return out;
  }
  auto s = watttime_points(*data, *meta, meta->generated_at, origin + ": data", origin);
  if (!s) return s.error();
  out.push_back(std::move(*s));
  return out;
}

namespace {

// Adds one UK CI period ({from, to, intensity{forecast, actual}}) to a builder.
Status add_uk_period(PointsBuilder& b, const json& period, const std::string& where) {
  auto from = time_member(period, "from", where);
  if (!from) return from.error();
  auto to = time_member(period, "to", where);
  if (!to) return to.error();
  if (*to <= *from) return make_error("{}: 'to' is not after 'from'", where);
  const json* intensity = member(period, "intensity");
  if (intensity == nullptr || !intensity->is_object()) {
    return make_error("{}: no 'intensity' object", where);
  }
  auto actual = value_member(*intensity, "actual", where + ".intensity");
  if (!actual) return actual.error();
  auto forecast = value_member(*intensity, "forecast", where + ".intensity");
  if (!forecast) return forecast.error();
  if (*actual) return b.add(*from, **actual, false, *to - *from, where);
  if (*forecast) return b.add(*from, **forecast, true, *to - *from, where);
  return {};  // neither: a gap
}

std::string uk_region_zone(const json& region, const std::string& where, Status& status) {
  if (const json* id = member(region, "regionid"); id && id->is_number_integer()) {
    return fmt::format("GB-{}", id->get<int64_t>());
  }
  if (const json* name = member(region, "shortname"); name && name->is_string()) {
    return "GB-" + name->get<std::string>();
  }
  status = make_error("{}: region without 'regionid' or 'shortname'", where);
  return {};
}

}  // namespace

Result<std::vector<IntensitySeries>> parse_uk_carbon_intensity_json(std::string_view content,
                                                                    std::string origin) {
  auto root_or = parse_json(content, origin);
  if (!root_or) return root_or.error();
  const json* data = member(*root_or, "data");
  if (data == nullptr) return make_error("{}: no 'data'", origin);
  json list = data->is_array() ? *data : json::array({*data});
  Builders builders;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& item = list[i];
    std::string where = fmt::format("{}: data[{}]", origin, i);
    Status st;
    if (const json* periods = member(item, "data")) {
      // Regional, one region with its periods.
      std::string zone = uk_region_zone(item, where, st);
      if (!st) return st.error();
      if (!periods->is_array()) return make_error("{}: 'data' is not an array", where);
      for (size_t k = 0; k < periods->size(); ++k) {
        std::string w = fmt::format("{}.data[{}]", where, k);
        if (auto s = add_uk_period(builders.get(zone), (*periods)[k], w); !s) return s.error();
      }
    } else if (const json* regions = member(item, "regions")) {
      // Regional, one period with every region.
      if (!regions->is_array()) return make_error("{}: 'regions' is not an array", where);
      for (size_t k = 0; k < regions->size(); ++k) {
        std::string w = fmt::format("{}.regions[{}]", where, k);
        std::string zone = uk_region_zone((*regions)[k], w, st);
        if (!st) return st.error();
        json period = (*regions)[k];
        // Copied as they are: a non-string from/to is reported by add_uk_period.
        for (const char* key : {"from", "to"}) {
          const json* v = member(item, key);
          period[key] = v != nullptr ? *v : json();
        }
        if (auto s = add_uk_period(builders.get(zone), period, w); !s) return s.error();
      }
    } else {
      if (auto s = add_uk_period(builders.get("GB"), item, where); !s) return s.error();
    }
  }
  return finish_all(builders.all(), Signal::kAverage, Factor::kDirect, "ukci-api", std::nullopt,
                    minutes(30), std::nullopt, origin);
}

Result<std::vector<IntensitySeries>> parse_series(std::string_view content, std::string origin,
                                                  const ImportOptions& options) {
  ImportFormat format = options.format;
  if (format == ImportFormat::kAuto) {
    auto detected = detect_import_format(content, origin);
    if (!detected) return detected.error();
    format = *detected;
  }
  Result<std::vector<IntensitySeries>> parsed = make_error("unreachable");
  bool file_states_signal = true, file_states_factor = false;
  switch (format) {
    case ImportFormat::kElectricityMapsCsv:
      parsed = parse_electricitymaps_csv(content, origin);
      file_states_factor = true;
      break;
    case ImportFormat::kElectricityMapsJson:
      parsed = parse_electricitymaps_json(content, origin);
      file_states_factor = true;
      break;
    case ImportFormat::kWattTimeJson:
      parsed = parse_watttime_json(content, origin);
      break;
    case ImportFormat::kUkCarbonIntensityJson:
      parsed = parse_uk_carbon_intensity_json(content, origin);
      break;
    case ImportFormat::kGenericCsv:
    case ImportFormat::kAuto:
      return parse_generic_csv(content, origin, options);
  }
  if (!parsed) return parsed;
  std::vector<IntensitySeries> out;
  for (IntensitySeries& s : *parsed) {
    if (options.signal && file_states_signal && *options.signal != s.signal) {
      return make_error("{}: the file holds {} data; --signal {} contradicts it", origin,
                        to_string(s.signal), to_string(*options.signal));
    }
    if (options.factor) {
      if (file_states_factor && *options.factor != s.factor) continue;  // pick one of several
      s.factor = *options.factor;
    }
    if (options.source) s.source = *options.source;
    out.push_back(std::move(s));
  }
  if (out.empty()) {
    return make_error("{}: no {} series in the file", origin, to_string(*options.factor));
  }
  if (options.zone) {
    for (size_t i = 1; i < out.size(); ++i) {
      if (out[i].zone != out[0].zone) {
        return make_error("{}: the file holds several zones ({}, {}); --zone cannot rename them",
                          origin, out[0].zone, out[i].zone);
      }
    }
    for (IntensitySeries& s : out) s.zone = *options.zone;
  }
  return out;
}

Result<std::vector<IntensitySeries>> read_series_file(const std::filesystem::path& path,
                                                      const ImportOptions& options) {
  auto content = read_file(path);
  if (!content) return content.error();
  return parse_series(*content, path.string(), options);
}

}  // namespace carbonclock

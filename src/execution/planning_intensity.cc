#include "execution/planning_intensity.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "common/files.h"
#include "regions/embedded_profile.h"

namespace carbonclock {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

/// Fills the still-empty slots of `out` that `points` cover completely with their
/// time-weighted mean. Returns how many slots it filled.
size_t fill(PlanningIntensity& out, const std::vector<IntensityPoint>& points, Nanos shift,
            IntensityBasis basis) {
  size_t filled = 0, p = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isnan(out.g_per_kwh[i])) continue;
    SysTime a = out.slot_start(i), b = out.slot_start(i + 1);
    while (p < points.size() && points[p].end() + shift <= a) ++p;
    double weighted = 0;
    Nanos covered{0};
    for (size_t q = p; q < points.size() && points[q].start + shift < b; ++q) {
      SysTime s = std::max(a, points[q].start + shift), e = std::min(b, points[q].end() + shift);
      if (e <= s) continue;
      weighted += points[q].g_per_kwh * to_seconds(e - s);
      covered += e - s;
    }
    if (covered == b - a) {
      out.g_per_kwh[i] = weighted / to_seconds(b - a);
      out.basis[i] = basis;
      ++filled;
    }
  }
  return filled;
}

std::optional<size_t> first_empty(const PlanningIntensity& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::isnan(out.g_per_kwh[i])) return i;
  }
  return std::nullopt;
}

}  // namespace

Result<IntensitySeries> parse_intensity_file(std::string_view text, const std::string& origin,
                                             SysTime anchor) {
  IntensitySeries series;
  series.source = "intensity-file";
  bool header = false;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> cells;
    size_t c = 0;
    while (c <= line.size()) {
      size_t comma = line.find(',', c);
      if (comma == std::string_view::npos) comma = line.size();
      cells.push_back(trim(line.substr(c, comma - c)));
      c = comma + 1;
    }
    if (!header) {
      if (cells.size() != 3 || cells[0] != "start" || cells[1] != "duration_s" ||
          cells[2] != "g_per_kwh") {
        return make_error("{}:{}: expected the header start,duration_s,g_per_kwh", origin, line_no);
      }
      header = true;
      continue;
    }
    if (cells.size() != 3) {
      return make_error("{}:{}: expected 3 cells (start,duration_s,g_per_kwh), got {}", origin,
                        line_no, cells.size());
    }
    IntensityPoint p;
    if (!cells[0].empty() && cells[0].front() == '+') {
      auto offset = parse_duration(cells[0].substr(1));
      if (!offset) return offset.error().with_context(fmt::format("{}:{}", origin, line_no));
      p.start = anchor + *offset;
    } else {
      auto t = parse_utc(cells[0]);
      if (!t) return t.error().with_context(fmt::format("{}:{}", origin, line_no));
      p.start = *t;
    }
    char* end = nullptr;
    std::string d(cells[1]), g(cells[2]);
    double duration_s = std::strtod(d.c_str(), &end);
    if (end == d.c_str() || *end != '\0' || !(duration_s > 0)) {
      return make_error("{}:{}: duration_s '{}' must be a positive number", origin, line_no, d);
    }
    double value = std::strtod(g.c_str(), &end);
    if (end == g.c_str() || *end != '\0' || !std::isfinite(value) || value < 0) {
      return make_error("{}:{}: g_per_kwh '{}' must be a non-negative number", origin, line_no, g);
    }
    p.duration = from_seconds(duration_s);
    p.g_per_kwh = value;
    if (!series.points.empty() && p.start < series.points.back().end()) {
      return make_error("{}:{}: row starts at {}, before the previous row ends ({})", origin,
                        line_no, format_utc(p.start), format_utc(series.points.back().end()));
    }
    series.points.push_back(p);
  }
  if (!header)
    return make_error("{}: empty (expected the header start,duration_s,g_per_kwh)", origin);
  return series;
}

Result<PlanningIntensity> planning_intensity(const IntensitySources& src, SysTime as_of,
                                             SysTime from, SysTime to) {
  PlanningIntensity out;
  out.zone = src.zone;
  out.slot = src.slot;
  out.signal = src.signal ? to_string(*src.signal) : "average";
  out.factor = src.factor ? to_string(*src.factor) : "lifecycle";
  out.first_slot_utc = floor_to(from, src.slot);
  SysTime last = floor_to(to, src.slot);
  if (last < to) last += src.slot;
  if (last <= out.first_slot_utc) last = out.first_slot_utc + src.slot;
  size_t n = static_cast<size_t>((last - out.first_slot_utc) / src.slot);
  out.g_per_kwh.assign(n, std::numeric_limits<double>::quiet_NaN());
  out.basis.assign(n, IntensityBasis::kEmbedded);

  if (src.intensity_file) {
    auto text = read_file(*src.intensity_file);
    if (!text) return text.error();
    auto series = parse_intensity_file(*text, src.intensity_file->string(), src.file_anchor);
    if (!series) return series.error();
    fill(out, series->points, Nanos(0), IntensityBasis::kFile);
  }
  if (src.store != nullptr && first_empty(out)) {
    SeriesQuery query{src.store_zone.empty() ? src.zone : src.store_zone, src.signal, src.factor};
    if (auto forecast = src.store->latest_forecast(query, as_of, out.first_slot_utc, last);
        forecast && forecast->has_value() && !(*forecast)->points.empty()) {
      const IntensitySeries& f = **forecast;
      out.signal = to_string(f.signal);
      out.factor = to_string(f.factor);
      out.forecast = ForecastInfo{f.source, f.issued_at.value_or(as_of), f.points.back().end()};
      fill(out, f.points, Nanos(0), IntensityBasis::kForecast);
      if (out.forecast->horizon_end_utc < last) {
        out.notes.push_back(fmt::format(
            "beyond the forecast horizon ({}) the plan rests on older data (actuals or the "
            "embedded typical profile)",
            format_utc(out.forecast->horizon_end_utc)));
      }
    }
    if (first_empty(out)) {
      if (auto actual = src.store->read(query, out.first_slot_utc, last); actual) {
        fill(out, actual->points, Nanos(0), IntensityBasis::kActual);
        out.signal = to_string(actual->signal);
        out.factor = to_string(actual->factor);
      }
    }
    if (first_empty(out)) {
      const Nanos day = std::chrono::hours(24);
      if (auto recent = src.store->read(query, out.first_slot_utc - day, last - day); recent) {
        fill(out, recent->points, day, IntensityBasis::kRecentActuals);
      }
    }
  }
  if (auto empty = first_empty(out)) {
    auto profile = embedded_profile_series(src.zone, out.first_slot_utc, last);
    if (profile) {
      fill(out, profile->points, Nanos(0), IntensityBasis::kEmbedded);
      if (src.signal && *src.signal == Signal::kMarginal) {
        out.notes.push_back(
            "the embedded typical profile is an average signal; it stands in for marginal data "
            "where none is stored");
      }
    }
    if (auto still = first_empty(out)) {
      return make_error(
          "no carbon-intensity data for zone {} at {} (no intensity file row, no stored forecast "
          "or actuals, no embedded profile{}): import a forecast with `carbonclock grid import` "
          "or give --intensity-file",
          src.zone.empty() ? "(none)" : src.zone, format_utc(out.slot_start(*still)),
          profile ? "" : ": " + profile.error().message());
    }
    (void)empty;
  }
  return out;
}

}  // namespace carbonclock

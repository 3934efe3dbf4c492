#include "reports/grid_render.h"

#include <fmt/format.h>

#include <algorithm>

namespace carbonclock {
namespace {

using ojson = nlohmann::ordered_json;

int64_t whole_seconds(Nanos d) { return std::chrono::duration_cast<Seconds>(d).count(); }

}  // namespace

std::string describe_series(const std::string& zone, Signal s, Factor f,
                            std::optional<SysTime> issued) {
  std::string out = fmt::format("{} {}/{}", zone, to_string(s), to_string(f));
  if (issued) out += fmt::format(" (forecast issued {})", format_utc(*issued));
  return out;
}

std::string render_import(const std::vector<ImportedSeries>& imported) {
  std::string out;
  for (const ImportedSeries& i : imported) {
    const IntensitySeries& s = i.series;
    out += fmt::format("{}: {}: {} points ({} new, {} already stored{}), {} to {}, source {}",
                       i.origin, describe_series(s.zone, s.signal, s.factor, s.issued_at),
                       s.points.size(), i.result.points_added, i.result.points_already_stored,
                       i.result.points_replaced > 0
                           ? fmt::format(", {} stored points replaced", i.result.points_replaced)
                           : "",
                       format_utc(s.points.front().start), format_utc(s.points.back().end()),
                       s.source);
    if (i.gaps.empty()) {
      out += ", no gaps\n";
      continue;
    }
    auto largest = std::max_element(i.gaps.begin(), i.gaps.end(), [](const Gap& x, const Gap& y) {
      return x.duration < y.duration;
    });
    out +=
        fmt::format(", {} gap{} (largest {} at {})\n", i.gaps.size(), i.gaps.size() == 1 ? "" : "s",
                    format_duration(largest->duration), format_utc(largest->start));
  }
  return out;
}

std::string render_import_json(const std::vector<ImportedSeries>& imported) {
  ojson series = ojson::array();
  for (const ImportedSeries& i : imported) {
    const IntensitySeries& s = i.series;
    ojson gaps = ojson::array();
    for (const Gap& g : i.gaps) {
      gaps.push_back(
          {{"start_utc", format_utc(g.start)}, {"duration_s", whole_seconds(g.duration)}});
    }
    series.push_back(
        {{"file", i.origin},
         {"zone", s.zone},
         {"signal", to_string(s.signal)},
         {"factor", to_string(s.factor)},
         {"source", s.source},
         {"issued_at_utc", s.issued_at ? ojson(format_utc(*s.issued_at)) : ojson(nullptr)},
         {"points", s.points.size()},
         {"points_added", i.result.points_added},
         {"points_already_stored", i.result.points_already_stored},
         {"first_start_utc",
          s.points.empty() ? ojson(nullptr) : ojson(format_utc(s.points.front().start))},
         {"last_end_utc",
          s.points.empty() ? ojson(nullptr) : ojson(format_utc(s.points.back().end()))},
         {"gaps", std::move(gaps)}});
  }
  return json_text(ojson{{"series", std::move(series)}});
}

std::string render_series_list(const std::vector<StoredSeriesInfo>& list, Format format) {
  if (format == Format::kJson) {
    ojson a = ojson::array();
    for (const StoredSeriesInfo& i : list) {
      a.push_back(
          {{"zone", i.zone},
           {"signal", to_string(i.signal)},
           {"factor", to_string(i.factor)},
           {"source", i.source},
           {"issued_at_utc", i.issued_at ? ojson(format_utc(*i.issued_at)) : ojson(nullptr)},
           {"points", i.point_count},
           {"first_start_utc", format_utc(i.first_start)},
           {"last_end_utc", format_utc(i.last_end)}});
    }
    return json_text(ojson{{"series", a}});
  }
  std::string out = "zone,signal,factor,source,issued_at,points,first_start_utc,last_end_utc\n";
  for (const StoredSeriesInfo& i : list) {
    out += fmt::format("{},{},{},{},{},{},{},{}\n", csv_field(i.zone), to_string(i.signal),
                       to_string(i.factor), csv_quoted(i.source),
                       i.issued_at ? format_utc(*i.issued_at) : "", i.point_count,
                       format_utc(i.first_start), format_utc(i.last_end));
  }
  return out;
}

std::string render_series(const IntensitySeries& s, Format format) {
  if (format == Format::kJson) {
    ojson j;
    j["zone"] = s.zone;
    j["signal"] = to_string(s.signal);
    j["factor"] = to_string(s.factor);
    j["source"] = s.source;
    j["issued_at"] = s.issued_at ? ojson(format_utc(*s.issued_at)) : ojson(nullptr);
    auto& points = j["points"] = ojson::array();
    for (const IntensityPoint& p : s.points) {
      points.push_back({{"start_utc", format_utc(p.start)},
                        {"duration_s", whole_seconds(p.duration)},
                        {"g_per_kwh", p.g_per_kwh},
                        {"estimated", p.estimated}});
    }
    return json_text(j);
  }
  std::string out = "start_utc,duration_s,g_per_kwh,signal,factor,estimated\n";
  for (const IntensityPoint& p : s.points) {
    out += fmt::format("{},{},{},{},{},{}\n", format_utc(p.start), whole_seconds(p.duration),
                       p.g_per_kwh, to_string(s.signal), to_string(s.factor), p.estimated);
  }
  return out;
}

std::string render_fetch(const FetchResult& f) {
  const SeriesQuery& q = f.report.query;
  std::string what =
      fmt::format("{} {} {}/{}{}", to_string(f.request.source), q.zone, to_string(*q.signal),
                  to_string(*q.factor), f.request.forecast ? " forecast" : "");
  if (f.report.from_cache) {
    return fmt::format("{}: already stored for {} .. {} (no request made)\n", what,
                       format_utc(f.request.from), format_utc(f.request.to));
  }
  int64_t added = 0, already = 0;
  for (const auto& s : f.report.stored) {
    added += s.points_added;
    already += s.points_already_stored;
  }
  return fmt::format("{}: {} points stored ({} already stored) from {} request{}, {} .. {}\n", what,
                     added, already, f.report.requests, f.report.requests == 1 ? "" : "s",
                     format_utc(f.request.from), format_utc(f.request.to));
}

}  // namespace carbonclock

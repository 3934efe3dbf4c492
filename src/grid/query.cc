#include "grid/query.h"
#include "common/units.h"

#include <algorithm>

namespace carbonclock {
namespace {

// Index of the first point whose end is after t (the candidate containing or following t).
size_t first_ending_after(const std::vector<IntensityPoint>& points, SysTime t) {
  // Points are sorted and do not overlap, so ends are sorted too.
  auto it = std::upper_bound(points.begin(), points.end(), t,
                             [](SysTime v, const IntensityPoint& p) { return v < p.end(); });
  return static_cast<size_t>(it - points.begin());
}


}  // namespace

double Coverage::fraction() const {
  Nanos total = covered + uncovered;
  if (total <= Nanos(0)) return 1.0;
  return to_seconds(covered) / to_seconds(total);
}

std::vector<Gap> find_gaps(const IntensitySeries& series) {
  std::vector<Gap> gaps;
  for (size_t i = 1; i < series.points.size(); ++i) {
    SysTime prev_end = series.points[i - 1].end();
    if (series.points[i].start > prev_end) {
      gaps.push_back({prev_end, series.points[i].start - prev_end});
    }
  }
  return gaps;
}

std::optional<IntensityPoint> value_at(const IntensitySeries& series, SysTime t) {
  size_t i = first_ending_after(series.points, t);
  if (i < series.points.size() && series.points[i].start <= t) return series.points[i];
  return std::nullopt;
}

IntensitySeries slice(const IntensitySeries& series, SysTime from, SysTime to) {
  IntensitySeries out;
  out.zone = series.zone;
  out.signal = series.signal;
  out.factor = series.factor;
  out.source = series.source;
  out.issued_at = series.issued_at;
  for (size_t i = first_ending_after(series.points, from);
       i < series.points.size() && series.points[i].start < to; ++i) {
    out.points.push_back(series.points[i]);
  }
  return out;
}

Coverage coverage(const IntensitySeries& series, SysTime from, SysTime to) {
  Coverage c;
  if (to <= from) return c;
  SysTime cursor = from;
  for (size_t i = first_ending_after(series.points, from);
       i < series.points.size() && series.points[i].start < to; ++i) {
    const IntensityPoint& p = series.points[i];
    SysTime start = std::max(p.start, from);
    SysTime end = std::min(p.end(), to);
    if (start > cursor) c.gaps.push_back({cursor, start - cursor});
    c.covered += end - start;
    cursor = end;
  }
  if (cursor < to) c.gaps.push_back({cursor, to - cursor});
  c.uncovered = (to - from) - c.covered;
  return c;
}

EmissionsIntegral integrate(const IntensitySeries& series,
                            std::span<const EnergyInterval> intervals) {
  EmissionsIntegral r;
  r.zone = series.zone;
  r.signal = series.signal;
  r.factor = series.factor;
  r.source = series.source;
  r.issued_at = series.issued_at;
  const auto& points = series.points;
  for (const EnergyInterval& e : intervals) {
    if (e.duration <= Nanos(0)) {
      auto p = value_at(series, e.start);
      if (p) {
        r.emissions_g += e.energy_j * p->g_per_kwh / kJoulesPerKwh;
        r.energy_matched_j += e.energy_j;
        if (p->estimated) r.estimated_energy_j += e.energy_j;
      } else {
        r.energy_unmatched_j += e.energy_j;
      }
      continue;
    }
    SysTime end = e.start + e.duration;
    Nanos covered{0};
    const double j_per_s = e.energy_j / to_seconds(e.duration);
    for (size_t i = first_ending_after(points, e.start); i < points.size() && points[i].start < end;
         ++i) {
      Nanos overlap = std::min(points[i].end(), end) - std::max(points[i].start, e.start);
      double part_j = j_per_s * to_seconds(overlap);
      r.emissions_g += part_j * points[i].g_per_kwh / kJoulesPerKwh;
      covered += overlap;
      if (points[i].estimated) r.estimated_energy_j += part_j;
    }
    // Split by exact covered time so a fully covered interval leaves no rounding residue.
    r.energy_matched_j += covered == e.duration ? e.energy_j : j_per_s * to_seconds(covered);
    r.energy_unmatched_j += j_per_s * to_seconds(e.duration - covered);
  }
  return r;
}

}  // namespace carbonclock

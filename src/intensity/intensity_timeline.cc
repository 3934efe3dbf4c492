#include "intensity/intensity_timeline.h"

#include <algorithm>

namespace carbonclock {

IntensitySeries IntensityTimeline::series_of(size_t index) const {
  IntensitySeries s;
  if (index < provenances.size()) {
    const Provenance& p = provenances[index];
    s.zone = p.zone;
    s.signal = p.signal;
    s.factor = p.factor;
    s.source = p.source;
    s.issued_at = p.issued_at;
  }
  for (size_t i = 0; i < points.size(); ++i) {
    if (provenance[i] == index) s.points.push_back(points[i]);
  }
  return s;
}

IntensitySeries IntensityTimeline::as_series() const {
  IntensitySeries s;
  s.zone = zone;
  s.signal = signal;
  if (!provenances.empty()) {
    s.factor = provenances.front().factor;
    s.source = provenances.front().source;
  }
  s.points = points;
  return s;
}

std::vector<Provenance> IntensityTimeline::used() const {
  std::vector<bool> seen(provenances.size(), false);
  for (uint8_t p : provenance) seen[p] = true;
  std::vector<Provenance> out;
  for (size_t i = 0; i < provenances.size(); ++i) {
    if (seen[i]) out.push_back(provenances[i]);
  }
  return out;
}

bool IntensityTimeline::has_stored() const {
  for (const Provenance& p : used()) {
    if (p.basis == IntensityBasis::kActual || p.basis == IntensityBasis::kForecast) return true;
  }
  return false;
}

ProvenanceSummary PricedEnergy::summary() const {
  std::vector<Provenance> used;
  for (const Part& p : parts) used.push_back(p.provenance);
  return summarize(used);
}

double PricedEnergy::energy_of(IntensityBasis basis) const {
  double sum = 0;
  for (const Part& p : parts) {
    if (p.provenance.basis == basis) sum += p.energy_j;
  }
  return sum;
}

namespace {

using Tagged = std::pair<IntensityPoint, uint8_t>;

/// Where stretches of [from, to) are still uncovered by `have` (sorted by start).
std::vector<Gap> gaps_of(const std::vector<Tagged>& have, SysTime from, SysTime to) {
  std::vector<Gap> out;
  SysTime t = from;
  for (const auto& [p, _] : have) {
    if (p.start > t) out.push_back({t, std::min(p.start, to) - t});
    t = std::max(t, p.end());
    if (t >= to) break;
  }
  if (t < to) out.push_back({t, to - t});
  return out;
}

}  // namespace

IntensityTimeline stitch_timeline(std::string zone, Signal signal, SysTime from, SysTime to,
                                  const std::vector<TimelineSource>& sources) {
  IntensityTimeline tl;
  tl.zone = std::move(zone);
  tl.signal = signal;
  tl.from = from;
  tl.to = to;
  std::vector<Tagged> have;
  for (const TimelineSource& src : sources) {
    std::vector<Gap> gaps = gaps_of(have, from, to);
    if (gaps.empty()) break;
    const auto& points = src.series->points;
    const auto tag = static_cast<uint8_t>(tl.provenances.size());
    bool added = false;
    for (const Gap& g : gaps) {
      auto it = std::lower_bound(points.begin(), points.end(), g.start,
                                 [](const IntensityPoint& p, SysTime t) { return p.end() <= t; });
      for (; it != points.end() && it->start < g.end(); ++it) {
        SysTime a = std::max(it->start, g.start), b = std::min(it->end(), g.end());
        if (a >= b) continue;
        have.push_back({{a, b - a, it->g_per_kwh, it->estimated}, tag});
        added = true;
      }
    }
    if (!added) continue;
    tl.provenances.push_back(src.provenance);
    std::sort(have.begin(), have.end(),
              [](const Tagged& x, const Tagged& y) { return x.first.start < y.first.start; });
  }
  for (auto& [point, tag] : have) {
    tl.points.push_back(point);
    tl.provenance.push_back(tag);
  }
  return tl;
}

PricedEnergy price(std::span<const EnergyInterval> intervals, const IntensityTimeline& timeline) {
  PricedEnergy out;
  std::vector<IntensitySeries> by_provenance;
  for (size_t k = 0; k < timeline.provenances.size(); ++k) {
    by_provenance.push_back(timeline.series_of(k));
  }
  std::vector<PricedEnergy::Part> parts(timeline.provenances.size());
  for (size_t k = 0; k < parts.size(); ++k) parts[k].provenance = timeline.provenances[k];
  for (const EnergyInterval& e : intervals) {
    out.energy_j += e.energy_j;
    double g = 0, matched = 0;
    std::span<const EnergyInterval> one(&e, 1);
    for (size_t k = 0; k < by_provenance.size(); ++k) {
      if (by_provenance[k].points.empty()) continue;
      EmissionsIntegral r = integrate(by_provenance[k], one);
      parts[k].energy_j += r.energy_matched_j;
      parts[k].it_g += r.emissions_g;
      parts[k].estimated_energy_j += r.estimated_energy_j;
      g += r.emissions_g;
      matched += r.energy_matched_j;
    }
    out.it_g += g;
    out.interval_it_g.push_back(g);
    out.unpriced_energy_j += std::max(e.energy_j - matched, 0.0);
  }
  // Shares of tiny residues from floating point are noise.
  if (out.unpriced_energy_j < 1e-9 * std::max(out.energy_j, 1.0)) out.unpriced_energy_j = 0;
  for (auto& p : parts) {
    if (p.energy_j > 0) out.parts.push_back(std::move(p));
  }
  return out;
}

}  // namespace carbonclock

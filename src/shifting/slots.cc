#include "shifting/slots.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/units.h"

namespace carbonclock {
namespace {

int64_t slot_count(Nanos length, Nanos slot) { return length.count() / slot.count(); }

}  // namespace

std::optional<size_t> SlottedIntensity::index_of(SysTime t) const {
  if (t < first_slot_utc) return std::nullopt;
  Nanos offset = t - first_slot_utc;
  if (offset.count() % slot.count() != 0) return std::nullopt;
  auto i = static_cast<size_t>(slot_count(offset, slot));
  if (i >= size()) return std::nullopt;
  return i;
}

bool SlottedIntensity::window_covered(size_t begin, size_t end) const {
  if (begin > end || end > size()) return false;
  return uncovered_prefix[end] == uncovered_prefix[begin];
}

void SlottedIntensity::index_coverage() {
  uncovered_prefix.assign(size() + 1, 0);
  for (size_t i = 0; i < size(); ++i) {
    uncovered_prefix[i + 1] = uncovered_prefix[i] + (covered[i] ? 0 : 1);
  }
}

std::optional<double> SlottedIntensity::at(SysTime t) const {
  if (t < first_slot_utc || t >= end_utc()) return std::nullopt;
  auto i = static_cast<size_t>((t - first_slot_utc) / slot);
  if (!covered[i]) return std::nullopt;
  return g_per_kwh(i);
}

Provenance SlottedIntensity::provenance_of(size_t i) const {
  if (i >= size() || !covered[i]) return Provenance{};
  if (!provenance.empty() && provenance[i] < provenances.size()) return provenances[provenance[i]];
  if (!provenances.empty()) return provenances.front();
  return Provenance{
      IntensityBasis::kActual, zone, signal, factor, source, std::nullopt, std::nullopt};
}

std::vector<Provenance> SlottedIntensity::used_provenances(size_t begin, size_t end) const {
  std::vector<Provenance> out;
  for (size_t i = begin; i < std::min(end, size()); ++i) {
    if (!covered[i]) continue;
    Provenance p = provenance_of(i);
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  }
  return out;
}

std::string SlottedIntensity::describe() const {
  std::string spans;
  size_t i = 0;
  while (i < size()) {
    Provenance p = provenance_of(i);
    size_t j = i + 1;
    while (j < size() && provenance_of(j) == p) ++j;
    if (!spans.empty()) spans += ", then ";
    spans += fmt::format("{} from {}", to_string(p.basis), format_utc(slot_start(i)));
    if (p.basis != IntensityBasis::kUnpriced && !p.source.empty()) {
      spans += fmt::format(" ({}", p.source);
      if (p.issued_at) spans += fmt::format(", issued {}", format_utc(*p.issued_at));
      if (p.zone != zone) spans += fmt::format(", stored as {}", p.zone);
      if (p.signal != signal || p.factor != factor) {
        spans += fmt::format(", {}/{}", to_string(p.signal), to_string(p.factor));
      }
      spans += ")";
    }
    i = j;
  }
  return fmt::format("{} {}/{}: {}", zone, to_string(signal), to_string(factor),
                     spans.empty() ? "no data" : spans);
}

IntensitySeries series_from_values(std::string zone, SysTime first, Nanos slot,
                                   const std::vector<double>& g_per_kwh) {
  IntensitySeries s;
  s.zone = std::move(zone);
  s.source = "values";
  for (size_t i = 0; i < g_per_kwh.size(); ++i) {
    if (std::isnan(g_per_kwh[i])) continue;
    s.points.push_back({first + slot * static_cast<int64_t>(i), slot, g_per_kwh[i], false});
  }
  return s;
}

Result<SlottedIntensity> slot_series(const IntensitySeries& series, Nanos slot) {
  if (slot <= Nanos(0)) return make_error("the slot length must be positive");
  if (series.points.empty()) {
    return make_error("zone {} {}/{}: no intensity points", series.zone, to_string(series.signal),
                      to_string(series.factor));
  }
  SlottedIntensity out;
  out.zone = series.zone;
  out.signal = series.signal;
  out.factor = series.factor;
  out.source = series.source;
  out.provenances.push_back({series.issued_at ? IntensityBasis::kForecast : IntensityBasis::kActual,
                             series.zone, series.signal, series.factor, series.source,
                             series.issued_at, std::nullopt});
  out.slot = slot;
  out.first_slot_utc = floor_to(series.points.front().start, slot);
  SysTime last_end = series.points.front().end();
  for (const IntensityPoint& p : series.points) last_end = std::max(last_end, p.end());
  SysTime end = floor_to(last_end, slot);
  if (end < last_end) end += slot;
  auto n = static_cast<size_t>(slot_count(end - out.first_slot_utc, slot));
  out.ug_per_kwh.assign(n, 0);
  out.covered.assign(n, 0);
  out.estimated.assign(n, 0);
  // Integrate point by point: weighted[i] = Σ value × overlap (in slot fractions).
  std::vector<double> weighted(n, 0.0);
  std::vector<int64_t> covered_ns(n, 0);
  for (const IntensityPoint& p : series.points) {
    SysTime a = p.start;
    while (a < p.end()) {
      auto i = static_cast<size_t>(slot_count(floor_to(a, slot) - out.first_slot_utc, slot));
      SysTime slot_end = out.slot_start(i + 1);
      SysTime b = std::min(slot_end, p.end());
      double fraction = static_cast<double>((b - a).count()) / static_cast<double>(slot.count());
      weighted[i] += p.g_per_kwh * fraction;
      covered_ns[i] += (b - a).count();
      if (p.estimated) out.estimated[i] = 1;
      a = b;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (covered_ns[i] != slot.count()) continue;
    out.covered[i] = 1;
    out.ug_per_kwh[i] = std::llround(weighted[i] * kMicrogramsPerGram);
  }
  out.index_coverage();
  return out;
}

double JobProfile::total_kwh() const {
  double sum = 0;
  for (double e : energy_kwh) sum += e;
  return sum;
}

size_t job_slots(Nanos duration, Nanos slot) {
  int64_t k = (duration.count() + slot.count() / 2) / slot.count();
  return static_cast<size_t>(std::max<int64_t>(1, k));
}

Result<JobProfile> flat_profile(std::string name, Nanos duration, double energy_kwh, Nanos slot) {
  if (slot <= Nanos(0)) return make_error("the slot length must be positive");
  if (duration <= Nanos(0)) return make_error("job '{}': the duration must be positive", name);
  if (!std::isfinite(energy_kwh) || energy_kwh < 0) {
    return make_error("job '{}': the energy must be a finite number >= 0 kWh", name);
  }
  JobProfile p;
  p.name = std::move(name);
  p.slot = slot;
  size_t k = job_slots(duration, slot);
  p.energy_kwh.assign(k, energy_kwh / static_cast<double>(k));
  p.flat = true;
  return p;
}

Result<JobProfile> measured_profile(std::string name, const EnergyTimeline& timeline,
                                    SysTime run_start, SysTime run_end, Nanos slot) {
  if (slot <= Nanos(0)) return make_error("the slot length must be positive");
  if (timeline.buckets.empty()) {
    return make_error("run {}: the energy timeline is empty (no buckets to build a profile from)",
                      name);
  }
  if (run_end <= run_start) return make_error("run {}: its end is not after its start", name);
  if (!(timeline.total_j() > 0)) {
    return make_error("run {}: the energy timeline holds no energy", name);
  }
  size_t k = job_slots(run_end - run_start, slot);
  std::vector<double> energy_j(k, 0.0);
  auto add_span = [&](SysTime a, SysTime b, double joules) {
    // Spreads `joules` evenly over [a, b) (a == b: all at a) across job slots.
    auto slot_of = [&](SysTime t) {
      int64_t i = (t - run_start).count() / slot.count();
      return static_cast<size_t>(std::clamp<int64_t>(i, 0, static_cast<int64_t>(k) - 1));
    };
    if (b <= a) {
      energy_j[slot_of(a)] += joules;
      return;
    }
    double total_ns = static_cast<double>((b - a).count());
    SysTime t = a;
    while (t < b) {
      int64_t raw = (t - run_start).count() / slot.count();
      SysTime next = run_start + slot * (raw + 1);
      if (raw >= static_cast<int64_t>(k) - 1) next = b;  // the remainder goes to the last slot
      next = std::min(next, b);
      energy_j[slot_of(t)] += joules * static_cast<double>((next - t).count()) / total_ns;
      t = next;
    }
  };
  for (const TimelineBucket& bucket : timeline.buckets) {
    double joules = 0;
    for (double e : bucket.energy_j) joules += e;
    if (joules == 0) continue;
    SysTime a = std::max(bucket.start_utc, run_start);
    SysTime b = std::min(bucket.start_utc + timeline.bucket, run_end);
    if (b < a) b = a;
    add_span(a, b, joules);
  }
  JobProfile p;
  p.name = std::move(name);
  p.slot = slot;
  p.energy_kwh.resize(k);
  for (size_t i = 0; i < k; ++i) p.energy_kwh[i] = energy_j[i] / kJoulesPerKwh;
  return p;
}

Result<ShiftWindow> parse_window(std::string_view text) {
  ShiftWindow w;
  w.label = std::string(text);
  if (text.empty()) return make_error("empty window");
  if (text.back() == '%') {
    std::string number(text.substr(0, text.size() - 1));
    char* end = nullptr;
    double pct = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !std::isfinite(pct) || pct < 0) {
      return make_error("invalid window '{}': expected a duration (6h) or a percentage (25%)",
                        text);
    }
    w.percent = pct;
    return w;
  }
  auto d = parse_duration(text);
  if (!d) {
    return make_error("invalid window '{}': expected a duration (6h) or a percentage (25%)", text);
  }
  w.absolute = *d;
  return w;
}

Result<std::vector<ShiftWindow>> parse_windows(std::string_view text) {
  std::vector<ShiftWindow> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    auto w = parse_window(text.substr(pos, comma - pos));
    if (!w) return w.error();
    out.push_back(*w);
    pos = comma + 1;
  }
  return out;
}

size_t window_slots(const ShiftWindow& window, size_t job_slot_count, Nanos slot) {
  if (window.absolute) {
    return static_cast<size_t>((window.absolute->count() + slot.count() / 2) / slot.count());
  }
  return static_cast<size_t>(
      std::floor(window.percent / 100.0 * static_cast<double>(job_slot_count) + 0.5));
}

}  // namespace carbonclock

// Queries over one IntensitySeries: value at a time, slices at native granularity, coverage
// and gaps, and the exact integral of energy intervals against the step function. Pure
// functions; the grid knows nothing of runs or meters.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "common/time.h"
#include "grid/series.h"

namespace carbonclock {

/// A stretch of time a series does not cover.
struct Gap {
  SysTime start;
  Nanos duration{};
  SysTime end() const { return start + duration; }
};

/// How much of [from, to) a series covers.
struct Coverage {
  Nanos covered{};
  Nanos uncovered{};
  std::vector<Gap> gaps;    ///< uncovered stretches in time order, clipped to [from, to)
  double fraction() const;  ///< covered / (to − from); 1 for an empty interval
};

/// Gaps between consecutive points (start_{i+1} > end_i), in time order.
std::vector<Gap> find_gaps(const IntensitySeries& series);

/// The point whose [start, end) contains t; nullopt in a gap or outside the series.
std::optional<IntensityPoint> value_at(const IntensitySeries& series, SysTime t);

/// The points overlapping [from, to), unclipped (native granularity), with the series' metadata.
IntensitySeries slice(const IntensitySeries& series, SysTime from, SysTime to);

/// Coverage and gaps of [from, to) by the series' points.
Coverage coverage(const IntensitySeries& series, SysTime from, SysTime to);

/// Energy spent uniformly over [start, start + duration). A zero duration means an instant:
/// all its energy is matched at the point containing `start`.
struct EnergyInterval {
  SysTime start;
  Nanos duration{};
  double energy_j = 0;
};

/// The result of integrating energy against a series, saying which series it used.
struct EmissionsIntegral {
  double emissions_g = 0;
  double energy_matched_j = 0;    ///< energy falling on covered time
  double energy_unmatched_j = 0;  ///< energy falling in gaps / outside the series
  double estimated_energy_j = 0;  ///< part of the matched energy priced by estimated points
  std::string zone;
  Signal signal = Signal::kAverage;
  Factor factor = Factor::kLifecycle;
  std::string source;
  std::optional<SysTime> issued_at;  ///< set when the series was a forecast
};

/// Σ over intervals and overlapping points of energy_j × overlap / duration × g_per_kwh /
/// 3.6e6 — exact for any mix of granularities (a 5-minute energy bucket across a 60-minute
/// step or a 60-minute bucket across 5-minute steps). Intervals need not be sorted; overlapping
/// intervals are each counted. Energy in gaps goes to energy_unmatched_j.
EmissionsIntegral integrate(const IntensitySeries& series,
                            std::span<const EnergyInterval> intervals);

}  // namespace carbonclock

// Intensity over an interval as a step function whose every point says where it comes from,
// and the one pricing function: energy intervals × intensity → grams, split by provenance.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "grid/provenance.h"
#include "grid/query.h"
#include "grid/series.h"

namespace carbonclock {

/// A zone's intensity over [from, to) for one requested signal, stitched from several sources
/// (stored actuals under several ids and factors, the embedded profile). Stretches without a
/// point are unpriced.
struct IntensityTimeline {
  std::string zone;
  Signal signal = Signal::kAverage;  ///< the signal asked for
  SysTime from;
  SysTime to;
  std::vector<IntensityPoint> points;  ///< sorted, non-overlapping, clipped to [from, to)
  std::vector<uint8_t> provenance;     ///< per point: index into provenances
  std::vector<Provenance> provenances;
  std::vector<std::string> notes;

  /// The points of provenance `index` as a series (for the grid query API).
  IntensitySeries series_of(size_t index) const;
  /// All points as one series labelled with the first provenance (for callers that need a
  /// plain step function, e.g. schedule savings).
  IntensitySeries as_series() const;
  /// The provenances with at least one point.
  std::vector<Provenance> used() const;
  /// Whether any point rests on stored data (actuals or forecasts).
  bool has_stored() const;
};

/// One source for stitch_timeline: a series and what it is.
struct TimelineSource {
  const IntensitySeries* series = nullptr;
  Provenance provenance;
};

/// Stitches `sources` over [from, to): the first source's points, then each next source's
/// points clipped into what is still uncovered. Sources that add nothing are left out of the
/// timeline's provenances.
IntensityTimeline stitch_timeline(std::string zone, Signal signal, SysTime from, SysTime to,
                                  const std::vector<TimelineSource>& sources);

/// Energy priced against a timeline, split by what priced it.
struct PricedEnergy {
  struct Part {
    Provenance provenance;
    double energy_j = 0;            ///< energy priced by this provenance
    double it_g = 0;                ///< its grams before PUE
    double estimated_energy_j = 0;  ///< of which priced by points marked estimated
  };
  std::vector<Part> parts;            ///< in order of provenance; only those that priced energy
  double energy_j = 0;                ///< all energy given
  double unpriced_energy_j = 0;       ///< energy where the timeline has no point
  double it_g = 0;                    ///< Σ parts' grams
  std::vector<double> interval_it_g;  ///< per input interval, grams before PUE

  /// "marginal" / "average" / "mixed" and "lifecycle" / "direct" / "mixed" over the parts.
  ProvenanceSummary summary() const;
  /// Energy of the parts whose basis is `basis`.
  double energy_of(IntensityBasis basis) const;
};

/// Prices `intervals` exactly against the timeline's points (grid/query.h integrate): every
/// interval's energy is spread over its duration and matched point by point.
PricedEnergy price(std::span<const EnergyInterval> intervals, const IntensityTimeline& timeline);

}  // namespace carbonclock

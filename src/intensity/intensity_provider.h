// The intensity provider: the one place that answers "what was (or will be) the carbon
// intensity of this zone at this time, and where does that number come from". It owns every
// alias (zone id case, cloud region → zone, zone → WattTime region, Electricity Maps ids such as
// DE-LU for DE; see regions/catalogue.h select_zone) and the whole fallback chain, and returns
// each value with its provenance. Accounting, shifting, planning, execution, reports and the
// front ends all ask it; nothing else reads intensity from the store.
//
// Fallback chains:
//   actuals  (accounting, what-if, shift): stored actuals of the signal under every id of the
//            zone (the asked factor, else lifecycle before direct), then, with
//            Fallback::kEmbedded, the zone's embedded typical profile; the rest is unpriced.
//   in force (exporter): stored actuals, then the latest stored forecast issued by the time
//            asked, then (Fallback::kEmbedded) the embedded profile; the rest is unpriced.
//   planning (plan, run --flex-start/--pause-resume): per slot, a scripted intensity file, the
//            latest stored forecast issued by the decision time, stored actuals, actuals of the
//            same time a day earlier, the embedded typical profile.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "grid/store.h"
#include "intensity/intensity_timeline.h"
#include "regions/catalogue.h"
#include "shifting/slots.h"

namespace carbonclock {

/// What fills the time stored actuals do not cover.
enum class Fallback {
  kNone,      ///< nothing: those stretches are unpriced (oracle sweeps)
  kEmbedded,  ///< the zone's embedded typical profile (average signal, labelled)
};

class IntensityProvider {
 public:
  struct Options {
    /// A scripted intensity file for planning (re-read at every call).
    std::optional<std::filesystem::path> intensity_file;
    /// The time "+SECONDS" rows of the intensity file count from.
    SysTime file_anchor{};
  };

  /// `store` may be null: then only the embedded profiles (and an intensity file) are known.
  explicit IntensityProvider(GridStore* store);
  IntensityProvider(GridStore* store, Options options);

  GridStore* store() const { return store_; }

  /// Error unless the zone is known somewhere: in the catalogue, with an embedded profile, or
  /// with data stored under one of its ids. Names the zone and the closest catalogue zones.
  Status check_zone(const ZoneSelection& zone);

  /// The stored series of the zone for `signal` (actuals, or forecasts), best first: the asked
  /// factor (else lifecycle, then direct) under each of the zone's ids in order. Empty when none.
  Result<std::vector<SeriesQuery>> stored_series(const ZoneSelection& zone, Signal signal,
                                                 std::optional<Factor> factor, bool forecasts);

  /// Whether any actuals of `signal` are stored for the zone (under any id).
  bool has_stored(const ZoneSelection& zone, Signal signal);

  /// The zone's intensity over [from, to) for `signal` (see the chain above).
  Result<IntensityTimeline> actuals(const ZoneSelection& zone, Signal signal,
                                    std::optional<Factor> factor, SysTime from, SysTime to,
                                    Fallback fallback);

  /// The intensity in force over [from, to) as known at `as_of` (see the chain above), at the
  /// data's own resolution: what a live meter prices energy against as it comes in.
  Result<IntensityTimeline> in_force(const ZoneSelection& zone, Signal signal,
                                     std::optional<Factor> factor, SysTime as_of, SysTime from,
                                     SysTime to, Fallback fallback);

  /// The same cut into slots. With Fallback::kNone the slots span the stored data inside
  /// [from, to) (an error when there is none); with kEmbedded they span [from, to).
  Result<SlottedIntensity> slotted(const ZoneSelection& zone, Signal signal,
                                   std::optional<Factor> factor, Nanos slot, SysTime from,
                                   SysTime to, Fallback fallback);

  /// The intensity to plan on over the slots covering [from, to), as known at `as_of` (see the
  /// chain above). Error when a slot has no data at all, naming the zone, the slot and what to do.
  Result<SlottedIntensity> planning(const ZoneSelection& zone, std::optional<Signal> signal,
                                    std::optional<Factor> factor, Nanos slot, SysTime as_of,
                                    SysTime from, SysTime to);

  /// Forgets the cached list of stored series (after an import or a fetch).
  void reload() { listed_.reset(); }

 private:
  Result<const std::vector<StoredSeriesInfo>*> listing();

  GridStore* store_;
  Options options_;
  std::optional<std::vector<StoredSeriesInfo>> listed_;
};

}  // namespace carbonclock

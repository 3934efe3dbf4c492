// The intensity a plan rests on: the best data for each slot of the coming hours, in this
// order: a scripted --intensity-file, the latest stored forecast issued by then, stored actuals,
// recent actuals (the same time one day earlier), the zone's embedded typical profile. Each
// slot says which one it came from; beyond a forecast's horizon a note says so.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/time.h"
#include "execution/online_planner.h"
#include "grid/series.h"
#include "grid/store.h"

namespace carbonclock {

struct IntensitySources {
  std::string zone;
  /// The zone id stored data is looked up under when it differs from `zone` (a WattTime
  /// region such as CAISO_NORTH for a fetched WattTime forecast); empty: `zone`. The embedded
  /// profile is always `zone`'s.
  std::string store_zone;
  std::optional<Signal> signal;
  std::optional<Factor> factor;
  Nanos slot{std::chrono::minutes(5)};
  /// CSV of `start,duration_s,g_per_kwh` rows (header required; `#` comments). `start` is a UTC
  /// time ("2026-01-01T10:00:00Z") or "+SECONDS" after `file_anchor`. Re-read at every call,
  /// so editing it during a run changes the plan from the next slot boundary.
  std::optional<std::filesystem::path> intensity_file;
  SysTime file_anchor{};
  GridStore* store = nullptr;  ///< may be null (no database)
};

/// Parses an intensity file's text; `origin` names it in errors ("FILE:LINE: ...").
Result<IntensitySeries> parse_intensity_file(std::string_view text, const std::string& origin,
                                             SysTime anchor);

/// The planning intensity over the slots covering [from, to), as known at `as_of`. Error when
/// some slot has no data at all (no file row, nothing stored, no embedded profile for the zone),
/// naming the zone, the first such slot and what to do.
Result<PlanningIntensity> planning_intensity(const IntensitySources& sources, SysTime as_of,
                                             SysTime from, SysTime to);

}  // namespace carbonclock

// Embedded default profiles: a compact typical carbon intensity per grid zone, so accounting and
// planning work with no imported data and no network. Average signal only. Derived by
// generate_embedded_profiles.py into embedded_profiles.csv (compiled in); sources and licences
// in SOURCES.md.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/time.h"
#include "grid/series.h"

namespace carbonclock {

/// One zone's typical profile: mean intensity by month × hour of day (UTC). A zone without
/// hourly source data has one flat yearly value in every cell (`hourly` false).
struct EmbeddedProfile {
  std::string zone;     ///< Electricity Maps zone id
  bool hourly = false;  ///< true: from hourly data; false: a flat yearly value
  Factor factor = Factor::kLifecycle;
  std::string source;  ///< "Electricity Maps", "Ember/OWID via CodeCarbon", ...
  int year = 0;        ///< the year the values describe
  std::array<double, 12 * 24> g_per_kwh{};  ///< [(month − 1) × 24 + hour], month 1..12

  /// The value for a month (1..12) and UTC hour (0..23).
  double at(unsigned month, unsigned hour_utc) const {
    return g_per_kwh[(month - 1) * 24 + hour_utc];
  }
  /// The series source label: "embedded typical profile (average, Electricity Maps, 2023)".
  std::string label() const;
};

/// Every embedded profile, sorted by zone.
std::span<const EmbeddedProfile> embedded_profiles();

/// The profile of a zone id (case-insensitive), or nullptr.
const EmbeddedProfile* find_embedded_profile(std::string_view zone);

/// The zone's typical profile laid over [from, to) as hourly, UTC-aligned points from
/// floor(from) to ceil(to), each the profile's value for its month and hour, marked estimated
/// (a typical value, not a measurement). Signal average; factor and source from the profile.
/// Errors: unknown zone (listing the closest zones with a profile), to < from, or a range over
/// 20 years.
Result<IntensitySeries> embedded_profile_series(std::string_view zone, SysTime from, SysTime to);

}  // namespace carbonclock

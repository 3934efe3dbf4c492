// Internal to src/regions: the data files compiled into the binary (see CMakeLists.txt) and a
// reader for their simple CSV dialect (no quoting; '#' lines are comments).
#pragma once

#include <string_view>
#include <vector>

namespace carbonclock::regions_internal {

std::string_view cloud_regions_csv();      ///< cloud_regions.csv, byte for byte
std::string_view grid_zones_csv();         ///< grid_zones.csv, byte for byte
std::string_view embedded_profiles_csv();  ///< embedded_profiles.csv, byte for byte

/// The non-empty, non-comment lines of `text`, each split at ','.
std::vector<std::vector<std::string_view>> csv_rows(std::string_view text);

}  // namespace carbonclock::regions_internal

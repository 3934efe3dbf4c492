// Renders the region catalogue as text, CSV or JSON (`carbonclock regions`).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/error.h"
#include "regions/catalogue.h"
#include "reports/format.h"

namespace carbonclock {

/// One row per region (format kText, kCsv or kJson): provider, region, name, city, country, lat, lon, zone, WattTime region
/// and the zone's embedded profile ("hourly 2023" / "flat 2023"). Text: aligned columns with a
/// header; CSV: a header row then RFC 4180 rows; JSON: an array of objects with keys provider,
/// region, name, city, country, lat_deg, lon_deg, zone, watttime_region, profile
/// ({kind, source, year}).
std::string render_regions(std::span<const CloudRegion> regions, Format format);

}  // namespace carbonclock

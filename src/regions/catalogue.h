// The region catalogue: cloud regions of AWS, Azure and GCP (as users type them) and the grid
// zones behind them (Electricity Maps zone ids, WattTime region abbreviations). The tables are
// data files in this folder (cloud_regions.csv, grid_zones.csv) compiled into the binary; where
// each mapping comes from is in SOURCES.md.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace carbonclock {

enum class CloudProvider { kAws, kAzure, kGcp };

const char* to_string(CloudProvider p);  ///< "aws" | "azure" | "gcp"
/// "aws" | "azure" | "gcp" (case-insensitive; "google" is accepted for gcp). Error lists them.
Result<CloudProvider> parse_cloud_provider(std::string_view text);

/// A grid zone: the unit grid data is published for.
struct GridZone {
  std::string id;               ///< Electricity Maps zone id: "US-NW-BPAT", "DE"
  std::string name;             ///< "Bonneville Power Administration"
  std::string country;          ///< ISO 3166-1 alpha-2: "US"
  std::string watttime_region;  ///< representative WattTime region ("BPA"); empty if none known
};

/// A cloud region and the grid zone that feeds it.
struct CloudRegion {
  CloudProvider provider = CloudProvider::kAws;
  std::string name;          ///< as the provider's CLI spells it: "us-west-2", "westus2"
  std::string display_name;  ///< "US West (Oregon)"
  std::string city;          ///< "Boardman OR"
  std::string country;       ///< ISO 3166-1 alpha-2
  double lat_deg = 0;
  double lon_deg = 0;
  std::string zone;             ///< Electricity Maps zone id; always a catalogue GridZone
  std::string watttime_region;  ///< WattTime region for this site; empty if none known
};

/// Every catalogued cloud region, by provider then the file's order. Never empty.
std::span<const CloudRegion> cloud_regions();

/// Every catalogued grid zone, sorted by id.
std::span<const GridZone> grid_zones();

/// The zone with this id (case-insensitive), or nullptr.
const GridZone* find_zone(std::string_view id);

/// Resolves a cloud region name ("us-west-2", "westus2", "us-west1"; case-insensitive; an
/// optional "aws:" / "azure:" / "gcp:" prefix) or a catalogued zone id ("US-NW-BPAT": the first
/// region in that zone). An unknown name is an Error listing the closest catalogued names by
/// edit distance ("unknown region or zone 'us-west-9'; closest: us-west-2, us-west1, ...").
Result<const CloudRegion*> resolve_region(std::string_view name);

/// The catalogue zone an Electricity Maps alias stands for ("DE-LU" → "DE": the bidding zone
/// its CSV exports are named after; "AUS-NSW" → "AU-NSW", "US-CA" → "US-CAL-CISO": ids used
/// before Electricity Maps renamed them), case-insensitive; nullptr when `id` is no alias.
const GridZone* find_zone_alias(std::string_view id);

/// Every alias of a catalogue zone id (empty when none).
std::vector<std::string> zone_aliases(std::string_view zone_id);

/// The result of `--region R` / `--zone Z`.
struct ZoneSelection {
  std::string zone;                     ///< zone id to query grid data for
  std::string watttime_region;          ///< WattTime region (empty if none known)
  const CloudRegion* region = nullptr;  ///< set when chosen through a cloud region
  std::string given;                    ///< the name as the user gave it
  /// Every id the zone's data may be stored under, in order of preference: the zone, the
  /// name as given, the zone's aliases, its WattTime region. Compared case-insensitively.
  std::vector<std::string> store_ids;
};

/// Resolves the `--region` / `--zone` option pair used by commands that need a grid zone.
/// region: resolved with resolve_region, the zone is the region's. zone: a catalogued zone id
/// or alias (case-insensitive; normalised to the catalogue zone), or any other id made of
/// letters, digits, '-' and '_' (zones of imported data, WattTime regions) taken as given. Both:
/// the zone must be the region's zone. Neither: an Error asking for one.
Result<ZoneSelection> select_zone(const std::optional<std::string>& region,
                                  const std::optional<std::string>& zone);

/// Levenshtein distance of two strings, compared case-insensitively.
size_t edit_distance(std::string_view a, std::string_view b);

/// Up to `limit` of `candidates` closest to `name` by edit distance (ties: candidate order).
std::vector<std::string> closest_matches(std::string_view name,
                                         const std::vector<std::string>& candidates, size_t limit);

}  // namespace carbonclock

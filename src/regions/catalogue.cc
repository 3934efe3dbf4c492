#include "regions/catalogue.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <numeric>
#include <stdexcept>

#include "common/strings.h"
#include "regions/embedded_data.h"

namespace carbonclock {
namespace {

using regions_internal::csv_rows;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// The embedded tables are part of the build: a malformed one is a programming error.
[[noreturn]] void bad_table(std::string_view table, std::string_view why) {
  throw std::logic_error(fmt::format("embedded {} is malformed: {}", table, why));
}

double to_double(std::string_view text, std::string_view table) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    bad_table(table, fmt::format("'{}' is not a number", text));
  }
  return v;
}

struct Catalogue {
  std::vector<CloudRegion> regions;
  std::vector<GridZone> zones;
};

Catalogue load() {
  Catalogue c;
  for (const auto& row : csv_rows(regions_internal::grid_zones_csv())) {
    if (row.size() != 5) bad_table("grid_zones.csv", fmt::format("{} fields", row.size()));
    c.zones.push_back(
        {std::string(row[0]), std::string(row[1]), std::string(row[2]), std::string(row[3])});
  }
  std::sort(c.zones.begin(), c.zones.end(),
            [](const GridZone& a, const GridZone& b) { return a.id < b.id; });
  for (const auto& row : csv_rows(regions_internal::cloud_regions_csv())) {
    if (row.size() != 9) bad_table("cloud_regions.csv", fmt::format("{} fields", row.size()));
    auto provider = parse_cloud_provider(row[0]);
    if (!provider.ok()) bad_table("cloud_regions.csv", provider.error().message());
    CloudRegion r{*provider,
                  std::string(row[1]),
                  std::string(row[2]),
                  std::string(row[3]),
                  std::string(row[4]),
                  to_double(row[5], "cloud_regions.csv"),
                  to_double(row[6], "cloud_regions.csv"),
                  std::string(row[7]),
                  std::string(row[8])};
    bool known_zone = std::any_of(c.zones.begin(), c.zones.end(),
                                  [&](const GridZone& z) { return z.id == r.zone; });
    if (!known_zone) bad_table("cloud_regions.csv", fmt::format("{}: zone {}", r.name, r.zone));
    c.regions.push_back(std::move(r));
  }
  std::stable_sort(c.regions.begin(), c.regions.end(), [](const auto& a, const auto& b) {
    return static_cast<int>(a.provider) < static_cast<int>(b.provider);
  });
  if (c.regions.empty()) bad_table("cloud_regions.csv", "no regions");
  return c;
}

const Catalogue& catalogue() {
  static const Catalogue c = load();
  return c;
}

// Splits an optional "provider:" prefix off a region name.
std::pair<std::optional<CloudProvider>, std::string_view> split_provider(std::string_view name) {
  size_t colon = name.find(':');
  if (colon == std::string_view::npos) return {std::nullopt, name};
  auto p = parse_cloud_provider(name.substr(0, colon));
  if (!p.ok()) return {std::nullopt, name};
  return {*p, name.substr(colon + 1)};
}

bool is_zone_like(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
  });
}

}  // namespace

const char* to_string(CloudProvider p) {
  switch (p) {
    case CloudProvider::kAws:
      return "aws";
    case CloudProvider::kAzure:
      return "azure";
    case CloudProvider::kGcp:
      return "gcp";
  }
  return "?";
}

Result<CloudProvider> parse_cloud_provider(std::string_view text) {
  if (iequals(text, "aws")) return CloudProvider::kAws;
  if (iequals(text, "azure")) return CloudProvider::kAzure;
  if (iequals(text, "gcp") || iequals(text, "google")) return CloudProvider::kGcp;
  return make_error("unknown cloud provider '{}' (aws, azure or gcp)", text);
}

std::span<const CloudRegion> cloud_regions() { return catalogue().regions; }

std::span<const GridZone> grid_zones() { return catalogue().zones; }

const GridZone* find_zone(std::string_view id) {
  for (const auto& z : catalogue().zones) {
    if (iequals(z.id, id)) return &z;
  }
  return nullptr;
}

namespace {

// Electricity Maps ids that name a catalogue zone under another spelling. DE-LU is the
// ENTSO-E bidding zone Electricity Maps' German exports are named after (their rows say DE);
// the others are ids Electricity Maps used before renaming its zones (2021-2022).
constexpr std::pair<std::string_view, std::string_view> kZoneAliases[] = {
    {"DE-LU", "DE"},
    {"AUS-NSW", "AU-NSW"},
    {"AUS-VIC", "AU-VIC"},
    {"AUS-QLD", "AU-QLD"},
    {"AUS-SA", "AU-SA"},
    {"AUS-TAS", "AU-TAS"},
    {"AUS-WA", "AU-WA"},
    {"US-CA", "US-CAL-CISO"},
    {"US-NY", "US-NY-NYIS"},
    {"US-TX", "US-TEX-ERCO"},
    {"US-PJM", "US-MIDA-PJM"},
    {"US-BPA", "US-NW-BPAT"},
    {"US-MISO", "US-MIDW-MISO"},
    {"US-NEISO", "US-NE-ISNE"},
    {"US-SPP", "US-CENT-SWPP"},
};

}  // namespace

const GridZone* find_zone_alias(std::string_view id) {
  for (auto [alias, zone] : kZoneAliases) {
    if (iequals(alias, id)) return find_zone(zone);
  }
  return nullptr;
}

std::vector<std::string> zone_aliases(std::string_view zone_id) {
  std::vector<std::string> out;
  for (auto [alias, zone] : kZoneAliases) {
    if (iequals(zone, zone_id)) out.emplace_back(alias);
  }
  return out;
}

Result<const CloudRegion*> resolve_region(std::string_view name) {
  auto [provider, bare] = split_provider(name);
  for (const auto& r : catalogue().regions) {
    if ((!provider || r.provider == *provider) && iequals(r.name, bare)) return &r;
  }
  if (!provider) {
    if (const GridZone* z = find_zone(bare)) {
      for (const auto& r : catalogue().regions) {
        if (r.zone == z->id) return &r;
      }
    }
  }
  std::vector<std::string> names;
  for (const auto& r : catalogue().regions) {
    if (!provider || r.provider == *provider) names.push_back(r.name);
  }
  if (!provider) {
    for (const auto& z : catalogue().zones) names.push_back(z.id);
  }
  auto close = closest_matches(bare, names, 5);
  std::string joined;
  for (const auto& c : close) joined += (joined.empty() ? "" : ", ") + c;
  return make_error(
      "unknown {} '{}'; closest: {} (`carbonclock regions` lists them all)",
      provider ? fmt::format("{} region", to_string(*provider)) : std::string("region or zone"),
      name, joined);
}

Result<ZoneSelection> select_zone(const std::optional<std::string>& region,
                                  const std::optional<std::string>& zone) {
  if (!region && !zone) {
    return make_error("no grid zone given: pass --region (e.g. us-west-2) or --zone (e.g. DE)");
  }
  ZoneSelection out;
  if (region) {
    auto r = resolve_region(*region);
    if (!r.ok()) return r.error();
    out.region = *r;
    out.zone = out.region->zone;
    out.watttime_region = out.region->watttime_region;
  }
  if (zone) {
    const GridZone* z = find_zone(*zone);
    if (!z) z = find_zone_alias(*zone);
    if (!z && !is_zone_like(*zone)) {
      return make_error("'{}' is not a zone id (letters, digits, '-' and '_')", *zone);
    }
    std::string id = z ? z->id : *zone;
    if (out.region && id != out.zone) {
      return make_error("--region {} is in zone {}, not {}: give only one of --region and --zone",
                        *region, out.zone, id);
    }
    out.zone = id;
    if (!out.region) out.watttime_region = z ? z->watttime_region : std::string();
  }
  out.given = zone ? *zone : *region;
  auto add = [&out](const std::string& id) {
    if (id.empty()) return;
    for (const auto& have : out.store_ids) {
      if (iequals(have, id)) return;
    }
    out.store_ids.push_back(id);
  };
  add(out.zone);
  if (zone) add(*zone);
  for (const auto& a : zone_aliases(out.zone)) add(a);
  add(out.watttime_region);
  if (const GridZone* z = find_zone(out.zone)) add(z->watttime_region);
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  std::iota(prev.begin(), prev.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitution});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<std::string> closest_matches(std::string_view name,
                                         const std::vector<std::string>& candidates, size_t limit) {
  std::vector<std::pair<size_t, size_t>> scored;  // (distance, index)
  for (size_t i = 0; i < candidates.size(); ++i) {
    scored.emplace_back(edit_distance(name, candidates[i]), i);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && out.size() < limit; ++i) {
    out.push_back(candidates[scored[i].second]);
  }
  return out;
}

}  // namespace carbonclock

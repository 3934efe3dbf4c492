#include "reports/regions_render.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/json_text.h"
#include "regions/embedded_profile.h"
#include "reports/format.h"

namespace carbonclock {
namespace {

constexpr std::array<const char*, 10> kColumns = {"provider",        "region",  "name",    "city",
                                                  "country",         "lat_deg", "lon_deg", "zone",
                                                  "watttime_region", "profile"};

std::string profile_text(const CloudRegion& r) {
  const EmbeddedProfile* p = find_embedded_profile(r.zone);
  return p ? fmt::format("{} {}", p->hourly ? "hourly" : "flat", p->year) : "none";
}

std::vector<std::string> fields(const CloudRegion& r) {
  return {to_string(r.provider),
          r.name,
          r.display_name,
          r.city,
          r.country,
          fmt::format("{:.4f}", r.lat_deg),
          fmt::format("{:.4f}", r.lon_deg),
          r.zone,
          r.watttime_region,
          profile_text(r)};
}

std::string render_text(std::span<const CloudRegion> regions) {
  std::vector<std::vector<std::string>> rows;
  rows.emplace_back(kColumns.begin(), kColumns.end());
  for (const auto& r : regions) rows.push_back(fields(r));
  std::vector<size_t> width(kColumns.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 < row.size() ? fmt::format("{:<{}}  ", row[i], width[i]) : row[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string render_csv(std::span<const CloudRegion> regions) {
  std::string out = fmt::format("{}\n", fmt::join(kColumns, ","));
  for (const auto& r : regions) {
    auto f = fields(r);
    for (auto& s : f) s = csv_field(s);
    out += fmt::format("{}\n", fmt::join(f, ","));
  }
  return out;
}

std::string render_json(std::span<const CloudRegion> regions) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : regions) {
    nlohmann::json profile = nullptr;
    if (const EmbeddedProfile* p = find_embedded_profile(r.zone)) {
      profile = {{"kind", p->hourly ? "hourly" : "flat"},
                 {"source", p->label()},
                 {"factor", to_string(p->factor)},
                 {"year", p->year}};
    }
    out.push_back(
        {{"provider", to_string(r.provider)},
         {"region", r.name},
         {"name", r.display_name},
         {"city", r.city},
         {"country", r.country},
         {"lat_deg", r.lat_deg},
         {"lon_deg", r.lon_deg},
         {"zone", r.zone},
         {"watttime_region",
          r.watttime_region.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.watttime_region)},
         {"profile", profile}});
  }
  return json_text(out);
}

}  // namespace

std::string render_regions(std::span<const CloudRegion> regions, Format format) {
  if (format == Format::kCsv) return render_csv(regions);
  if (format == Format::kJson) return render_json(regions);
  return render_text(regions);
}

}  // namespace carbonclock

#include "regions/embedded_profile.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "regions/catalogue.h"
#include "regions/embedded_data.h"
#include "common/strings.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

[[noreturn]] void bad_table(std::string_view why) {
  throw std::logic_error(fmt::format("embedded embedded_profiles.csv is malformed: {}", why));
}

template <typename T>
T number(std::string_view text) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    bad_table(fmt::format("'{}' is not a number", text));
  }
  return v;
}

std::vector<EmbeddedProfile> load() {
  std::vector<EmbeddedProfile> out;
  for (const auto& row : regions_internal::csv_rows(regions_internal::embedded_profiles_csv())) {
    if (row.size() < 6) bad_table(fmt::format("{} fields", row.size()));
    EmbeddedProfile p;
    p.zone = std::string(row[0]);
    p.hourly = row[1] == "hourly";
    if (!p.hourly && row[1] != "flat") bad_table(fmt::format("{}: kind '{}'", p.zone, row[1]));
    auto factor = parse_factor(row[2]);
    if (!factor.ok()) bad_table(factor.error().message());
    p.factor = *factor;
    p.source = std::string(row[3]);
    p.year = number<int>(row[4]);
    size_t values = row.size() - 5;
    if (values != (p.hourly ? p.g_per_kwh.size() : 1)) {
      bad_table(fmt::format("{}: {} values", p.zone, values));
    }
    for (size_t i = 0; i < p.g_per_kwh.size(); ++i) {
      p.g_per_kwh[i] = number<double>(row[5 + (p.hourly ? i : 0)]);
    }
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.zone < b.zone; });
  return out;
}

const std::vector<EmbeddedProfile>& profiles() {
  static const std::vector<EmbeddedProfile> p = load();
  return p;
}


}  // namespace

std::string EmbeddedProfile::label() const {
  return fmt::format("embedded typical profile (average, {}, {})", source, year);
}

std::span<const EmbeddedProfile> embedded_profiles() { return profiles(); }

const EmbeddedProfile* find_embedded_profile(std::string_view zone) {
  for (const auto& p : profiles()) {
    if (iequals(p.zone, zone)) return &p;
  }
  return nullptr;
}

Result<IntensitySeries> embedded_profile_series(std::string_view zone, SysTime from, SysTime to) {
  const EmbeddedProfile* profile = find_embedded_profile(zone);
  if (!profile) {
    std::vector<std::string> zones;
    for (const auto& p : profiles()) zones.push_back(p.zone);
    auto close = closest_matches(zone, zones, 5);
    return make_error("no embedded profile for zone '{}'; closest: {}", zone,
                      fmt::join(close, ", "));
  }
  if (to < from) {
    return make_error("empty time range: {} is before {}", format_utc(to), format_utc(from));
  }
  if (to - from > std::chrono::hours(24 * 366 * 20)) {
    return make_error("time range {} .. {} is over 20 years", format_utc(from), format_utc(to));
  }
  IntensitySeries series;
  series.zone = profile->zone;
  series.signal = Signal::kAverage;
  series.factor = profile->factor;
  series.source = profile->label();
  SysTime end = floor_to(to, 1h);
  if (end < to) end += 1h;
  for (SysTime t = floor_to(from, 1h); t < end; t += 1h) {
    auto day = std::chrono::floor<std::chrono::days>(t);
    std::chrono::year_month_day ymd{day};
    auto hour = std::chrono::duration_cast<std::chrono::hours>(t - day).count();
    series.points.push_back({t, 1h, profile->at(unsigned(ymd.month()), unsigned(hour)), true});
  }
  return series;
}

}  // namespace carbonclock

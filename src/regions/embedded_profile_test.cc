#include "regions/embedded_profile.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/files.h"
#include "regions/catalogue.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

SysTime at(const char* s) { return parse_utc(s).value(); }

TEST(EmbeddedProfile, EveryCatalogueZoneHasAProfile) {
  for (const auto& z : grid_zones()) {
    EXPECT_NE(find_embedded_profile(z.id), nullptr) << "zone " << z.id << " has no profile";
  }
  for (const auto& r : cloud_regions()) {
    EXPECT_NE(find_embedded_profile(r.zone), nullptr) << r.name;
  }
  for (const auto& p : embedded_profiles()) {
    for (double v : p.g_per_kwh) {
      EXPECT_GT(v, 0) << p.zone;
      EXPECT_LT(v, 1500) << p.zone;
    }
  }
}

TEST(EmbeddedProfile, SeriesIsHourlyUtcAlignedAndLabelled) {
  const EmbeddedProfile* p = find_embedded_profile("US-CAL-CISO");
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->hourly);
  auto s = embedded_profile_series("us-cal-ciso", at("2024-01-31T22:30Z"), at("2024-02-01T01:10Z"));
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->zone, "US-CAL-CISO");
  EXPECT_EQ(s->signal, Signal::kAverage);
  EXPECT_EQ(s->factor, Factor::kLifecycle);
  EXPECT_EQ(s->source, "embedded typical profile (average, Electricity Maps, 2023)");
  ASSERT_EQ(s->points.size(), 4u);
  EXPECT_EQ(s->points[0].start, at("2024-01-31T22:00Z"));
  EXPECT_EQ(s->points[3].end(), at("2024-02-01T02:00Z"));
  EXPECT_EQ(s->points[0].g_per_kwh, p->at(1, 22));
  EXPECT_EQ(s->points[1].g_per_kwh, p->at(1, 23));
  EXPECT_EQ(s->points[2].g_per_kwh, p->at(2, 0));
  EXPECT_EQ(s->points[3].g_per_kwh, p->at(2, 1));
  for (const auto& pt : s->points) {
    EXPECT_EQ(pt.duration, 1h);
    EXPECT_TRUE(pt.estimated);
  }
  // The daily shape is real data, not a constant.
  EXPECT_NE(p->at(6, 20), p->at(6, 3));
}

TEST(EmbeddedProfile, FlatZoneAndEdgeRanges) {
  const EmbeddedProfile* p = find_embedded_profile("FR");
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->hourly);
  EXPECT_EQ(p->at(1, 0), p->at(7, 13));
  auto aligned = embedded_profile_series("FR", at("2024-03-01T00:00Z"), at("2024-03-01T02:00Z"));
  ASSERT_TRUE(aligned.ok());
  EXPECT_EQ(aligned->points.size(), 2u);
  auto empty = embedded_profile_series("FR", at("2024-03-01T00:00Z"), at("2024-03-01T00:00Z"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->points.empty());
  EXPECT_FALSE(embedded_profile_series("FR", at("2024-03-02Z"), at("2024-03-01Z")).ok());
}

TEST(EmbeddedProfile, UnknownZoneListsClosest) {
  auto s = embedded_profile_series("US-NW-BPA", at("2024-01-01Z"), at("2024-01-02Z"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("US-NW-BPAT"), std::string::npos) << s.error().message();
}

// Splits one CSV line, honouring double quotes.
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

// Each hourly profile equals the mean of its source year per month × hour (to the table's
// 2 decimals).
TEST(EmbeddedProfile, HourlyValuesAreTheMeansOfTheSourceData) {
  fs::path dir = fs::path(CARBONCLOCK_SHARED_DATA) / "electricitymaps_hourly";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "shared data not found at " << dir;
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    std::string line;
    std::getline(in, line);  // header
    std::array<double, 288> sum{};
    std::array<int, 288> count{};
    std::string zone;
    int year = 0;
    while (std::getline(in, line)) {
      auto f = split_csv(line);
      ASSERT_GE(f.size(), 6u) << entry.path();
      zone = f[3];
      year = std::stoi(f[0].substr(0, 4));
      size_t i = (std::stoul(f[0].substr(5, 2)) - 1) * 24 + std::stoul(f[0].substr(11, 2));
      sum[i] += std::stod(f[5]);  // "Carbon Intensity gCO₂eq/kWh (LCA)"
      ++count[i];
    }
    const EmbeddedProfile* p = find_embedded_profile(zone);
    if (!p || !p->hourly || p->year != year) continue;  // an older year of the same zone
    for (size_t i = 0; i < 288; ++i) {
      ASSERT_GT(count[i], 0);
      EXPECT_NEAR(p->g_per_kwh[i], sum[i] / count[i], 0.005 + 1e-9)
          << zone << " month " << i / 24 + 1 << " hour " << i % 24;
    }
    ++checked;
  }
  EXPECT_GE(checked, 10) << "expected most shared zones to back an hourly profile";
}

// Each flat profile equals the yearly value its grid_zones.csv fallback names.
TEST(EmbeddedProfile, FlatValuesAreTheYearlySourceValues) {
  fs::path infra = fs::path(CARBONCLOCK_SHARED_DATA) / "codecarbon" / "private_infra";
  if (!fs::is_directory(infra)) GTEST_SKIP() << "shared data not found at " << infra;
  auto world = nlohmann::json::parse(read_file(infra / "global_energy_mix.json").value());
  auto states = nlohmann::json::parse(read_file(infra / "2016" / "usa_emissions.json").value());
  std::ifstream zones(fs::path(CARBONCLOCK_SOURCE_DIR) / "src" / "regions" / "grid_zones.csv");
  std::string line;
  int checked = 0;
  while (std::getline(zones, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split_csv(line);
    ASSERT_EQ(f.size(), 5u) << line;
    const EmbeddedProfile* p = find_embedded_profile(f[0]);
    ASSERT_NE(p, nullptr) << f[0];
    if (p->hourly) continue;
    std::string kind = f[4].substr(0, f[4].find(':')), key = f[4].substr(f[4].find(':') + 1);
    if (kind == "country") {
      EXPECT_NEAR(p->at(3, 12), world[key]["carbon_intensity"].get<double>(), 0.005 + 1e-9) << f[0];
      EXPECT_EQ(p->year, world[key]["year"].get<int>()) << f[0];
      ++checked;
    } else if (kind == "us-state") {
      EXPECT_NEAR(p->at(3, 12), states[key]["emissions"].get<double>() * 0.45359237, 0.005 + 1e-9)
          << f[0];
      EXPECT_EQ(p->factor, Factor::kDirect) << f[0];
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

}  // namespace
}  // namespace carbonclock

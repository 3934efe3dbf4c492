#include "regions/catalogue.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace carbonclock {
namespace {

TEST(Catalogue, CoversTheMajorRegionsOfEachProvider) {
  std::map<CloudProvider, int> count;
  for (const auto& r : cloud_regions()) ++count[r.provider];
  EXPECT_GE(count[CloudProvider::kAws], 25);
  EXPECT_GE(count[CloudProvider::kAzure], 30);
  EXPECT_GE(count[CloudProvider::kGcp], 30);
}

TEST(Catalogue, HoldsThePapersRegions) {
  // 9 North America, 6 Europe, 1 Australia, plus the common names users type.
  for (const char* name :
       {"us-east-1",    "us-east-2",     "us-west-1",     "us-west-2",
        "ca-central-1", "westus",        "eastus",        "centralus",
        "westus2",      "europe-west1",  "europe-west2",  "europe-west3",
        "europe-west4", "uksouth",       "francecentral", "germanywestcentral",
        "norwayeast",   "swedencentral", "australiaeast", "australia-southeast1"}) {
    auto r = resolve_region(name);
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().message();
    EXPECT_EQ((*r)->name, name);
  }
}

TEST(Catalogue, NamesAreUniqueAndZonesAreConsistent) {
  std::set<std::string> names;
  for (const auto& r : cloud_regions()) {
    EXPECT_TRUE(names.insert(r.name).second) << "duplicate region name " << r.name;
    const GridZone* z = find_zone(r.zone);
    ASSERT_NE(z, nullptr) << r.name << " maps to uncatalogued zone " << r.zone;
    EXPECT_EQ(z->country, r.country) << r.name << " is in " << r.country << ", zone " << z->id;
    EXPECT_GE(r.lat_deg, -90);
    EXPECT_LE(r.lat_deg, 90);
    EXPECT_GE(r.lon_deg, -180);
    EXPECT_LE(r.lon_deg, 180);
    EXPECT_FALSE(r.display_name.empty());
  }
}

TEST(Catalogue, KnownMappings) {
  auto oregon = resolve_region("us-west-2");
  ASSERT_TRUE(oregon.ok());
  EXPECT_EQ((*oregon)->zone, "US-NW-BPAT");
  EXPECT_EQ((*oregon)->watttime_region, "BPA");
  EXPECT_EQ((*oregon)->provider, CloudProvider::kAws);
  auto quincy = resolve_region("westus2");
  ASSERT_TRUE(quincy.ok());
  EXPECT_EQ((*quincy)->zone, "US-NW-GCPD");
  auto dalles = resolve_region("us-west1");
  ASSERT_TRUE(dalles.ok());
  EXPECT_EQ((*dalles)->provider, CloudProvider::kGcp);
  EXPECT_EQ((*dalles)->zone, "US-NW-BPAT");
  EXPECT_EQ(resolve_region("europe-west4").value()->zone, "NL");
}

TEST(ResolveRegion, IgnoresCaseAndTakesAProviderPrefix) {
  EXPECT_EQ(resolve_region("US-West-2").value()->name, "us-west-2");
  EXPECT_EQ(resolve_region("gcp:us-west1").value()->provider, CloudProvider::kGcp);
  EXPECT_EQ(resolve_region("Azure:WestUS2").value()->name, "westus2");
  auto wrong_provider = resolve_region("azure:us-west-2");
  ASSERT_FALSE(wrong_provider.ok());
  EXPECT_NE(wrong_provider.error().message().find("azure region"), std::string::npos);
}

TEST(ResolveRegion, AcceptsAZoneId) {
  auto r = resolve_region("us-nw-bpat");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->zone, "US-NW-BPAT");
}

TEST(ResolveRegion, UnknownNameListsTheClosestMatches) {
  auto r = resolve_region("us-west-9");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message();
  EXPECT_NE(m.find("'us-west-9'"), std::string::npos) << m;
  EXPECT_NE(m.find("us-west-2"), std::string::npos) << m;
  EXPECT_NE(m.find("us-west-1"), std::string::npos) << m;
  auto typo = resolve_region("francecentrl");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message().find("closest: francecentral"), std::string::npos)
      << typo.error().message();
}

TEST(SelectZone, FromRegionOrZone) {
  auto by_region = select_zone(std::string("us-west-2"), std::nullopt);
  ASSERT_TRUE(by_region.ok());
  EXPECT_EQ(by_region->zone, "US-NW-BPAT");
  EXPECT_EQ(by_region->watttime_region, "BPA");
  EXPECT_NE(by_region->region, nullptr);

  auto by_zone = select_zone(std::nullopt, std::string("de"));
  ASSERT_TRUE(by_zone.ok());
  EXPECT_EQ(by_zone->zone, "DE");
  EXPECT_EQ(by_zone->watttime_region, "DE");
  EXPECT_EQ(by_zone->region, nullptr);

  // Zones of imported data need not be catalogued.
  auto other = select_zone(std::nullopt, std::string("CAISO_NORTH"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->zone, "CAISO_NORTH");
  EXPECT_TRUE(other->watttime_region.empty());

  auto both = select_zone(std::string("eu-central-1"), std::string("DE"));
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->zone, "DE");
}

TEST(SelectZone, Errors) {
  auto neither = select_zone(std::nullopt, std::nullopt);
  ASSERT_FALSE(neither.ok());
  EXPECT_NE(neither.error().message().find("--region"), std::string::npos);
  auto clash = select_zone(std::string("us-west-2"), std::string("DE"));
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message().find("US-NW-BPAT"), std::string::npos);
  EXPECT_FALSE(select_zone(std::nullopt, std::string("DE; rm -rf")).ok());
  EXPECT_FALSE(select_zone(std::string("nowhere-1"), std::nullopt).ok());
}

TEST(EditDistance, Levenshtein) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("WestUS", "westus"), 0u);
  EXPECT_EQ(edit_distance("us-west-2", "us-west2"), 1u);
  auto close = closest_matches("eastus3", {"westus", "eastus2", "eastus", "centralus"}, 2);
  EXPECT_EQ(close, (std::vector<std::string>{"eastus2", "eastus"}));
}

TEST(CloudProvider, ParsesNames) {
  EXPECT_EQ(parse_cloud_provider("AWS").value(), CloudProvider::kAws);
  EXPECT_EQ(parse_cloud_provider("google").value(), CloudProvider::kGcp);
  EXPECT_FALSE(parse_cloud_provider("oracle").ok());
}

}  // namespace
}  // namespace carbonclock

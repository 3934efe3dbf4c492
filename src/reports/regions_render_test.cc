#include "reports/regions_render.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace carbonclock {
namespace {

std::vector<CloudRegion> two_regions() {
  return {*resolve_region("us-west-2").value(), *resolve_region("westeurope").value()};
}

TEST(RegionListing, CsvHasAHeaderAndOneRowPerRegion) {
  std::string csv = render_regions(two_regions(), Format::kCsv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "provider,region,name,city,country,lat_deg,lon_deg,zone,watttime_region,profile");
  EXPECT_NE(csv.find("\naws,us-west-2,US West (Oregon),Boardman OR,US,45.8400,-119.7000,"
                     "US-NW-BPAT,BPA,flat 2016\n"),
            std::string::npos)
      << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
}

TEST(RegionListing, JsonCarriesZoneAndProfile) {
  auto j = nlohmann::json::parse(render_regions(two_regions(), Format::kJson));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["region"], "westeurope");
  EXPECT_EQ(j[1]["provider"], "azure");
  EXPECT_EQ(j[1]["zone"], "NL");
  EXPECT_EQ(j[1]["watttime_region"], "NL");
  EXPECT_DOUBLE_EQ(j[1]["lat_deg"].get<double>(), 52.3667);
  EXPECT_EQ(j[1]["profile"]["kind"], "flat");
  EXPECT_EQ(j[0]["profile"]["factor"], "direct");
}

TEST(RegionListing, TextAlignsColumns) {
  std::string text = render_regions(two_regions(), Format::kText);
  auto first = text.substr(0, text.find('\n'));
  auto second_start = text.find('\n') + 1;
  auto second = text.substr(second_start, text.find('\n', second_start) - second_start);
  EXPECT_EQ(first.find("region"), second.find("us-west-2"));
  EXPECT_EQ(first.find("zone"), second.find("US-NW-BPAT"));
}

TEST(RegionListing, ParsesFormatNames) {
  EXPECT_EQ(parse_format("json", {Format::kText, Format::kCsv, Format::kJson}).value(), Format::kJson);
  EXPECT_FALSE(parse_format("xml", {Format::kText, Format::kCsv, Format::kJson}).ok());
}

}  // namespace
}  // namespace carbonclock

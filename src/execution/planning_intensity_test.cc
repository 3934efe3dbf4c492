#include "execution/planning_intensity.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const SysTime kT0 = parse_utc("2026-03-02T00:00:00Z").value();

IntensitySeries hourly(const std::string& zone, SysTime first, std::vector<double> values,
                       std::optional<SysTime> issued) {
  IntensitySeries s;
  s.zone = zone;
  s.source = issued ? "test-forecast" : "test-actuals";
  s.issued_at = issued;
  for (size_t i = 0; i < values.size(); ++i) {
    s.points.push_back({first + 1h * static_cast<int>(i), 1h, values[i], false});
  }
  return s;
}

class PlanningIntensityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cc_planint_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(PlanningIntensityTest, IntensityFileRowsMayBeRelativeToTheAnchor) {
  std::ofstream(dir_ / "i.csv") << "# scripted\nstart,duration_s,g_per_kwh\n+0,2,500\n+2,1,100\n"
                                   "2026-03-02T00:00:03Z,3,250\n";
  IntensitySources src;
  src.slot = 1s;
  src.intensity_file = dir_ / "i.csv";
  src.file_anchor = kT0;
  auto in = planning_intensity(src, kT0, kT0, kT0 + 6s);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(in->g_per_kwh, (std::vector<double>{500, 500, 100, 250, 250, 250}));
  EXPECT_EQ(in->basis[0], IntensityBasis::kFile);
}

TEST_F(PlanningIntensityTest, MalformedFileNamesTheLine) {
  auto bad = parse_intensity_file("start,duration_s,g_per_kwh\n+0,-1,5\n", "x.csv", kT0);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("x.csv:2"), std::string::npos) << bad.error().message();
}

TEST_F(PlanningIntensityTest, LatestForecastThenEmbeddedProfileBeyondItsHorizon) {
  auto store = GridStore::open(dir_ / "db.sqlite");
  ASSERT_TRUE(store) << store.error().message();
  ASSERT_TRUE(store->import({hourly("DE", kT0, {100, 200}, kT0 - 2h)}, "old"));
  ASSERT_TRUE(store->import({hourly("DE", kT0, {300, 50}, kT0 - 1h)}, "new"));
  IntensitySources src;
  src.zone = "DE";
  src.slot = 1h;
  src.store = &*store;
  auto in = planning_intensity(src, kT0, kT0, kT0 + 4h);
  ASSERT_TRUE(in) << in.error().message();
  ASSERT_EQ(in->size(), 4u);
  EXPECT_EQ(in->g_per_kwh[0], 300);
  EXPECT_EQ(in->g_per_kwh[1], 50);
  EXPECT_EQ(in->basis[1], IntensityBasis::kForecast);
  EXPECT_EQ(in->basis[2], IntensityBasis::kEmbedded);
  ASSERT_TRUE(in->forecast);
  EXPECT_EQ(in->forecast->issued_at, kT0 - 1h);
  EXPECT_EQ(in->forecast->horizon_end_utc, kT0 + 2h);
  ASSERT_FALSE(in->notes.empty());
  EXPECT_NE(in->notes[0].find("beyond the forecast horizon"), std::string::npos);
  // As of before the newer forecast was issued, the older one is used.
  auto older = planning_intensity(src, kT0 - 90min, kT0, kT0 + 2h);
  ASSERT_TRUE(older);
  EXPECT_EQ(older->g_per_kwh[0], 100);
}

TEST_F(PlanningIntensityTest, RecentActualsStandInForTheComingDay) {
  auto store = GridStore::open(dir_ / "db.sqlite");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->import({hourly("ZZ-TEST", kT0 - 24h, {400, 40}, std::nullopt)}, "a"));
  IntensitySources src;
  src.zone = "ZZ-TEST";
  src.slot = 1h;
  src.store = &*store;
  auto in = planning_intensity(src, kT0, kT0, kT0 + 2h);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(in->g_per_kwh, (std::vector<double>{400, 40}));
  EXPECT_EQ(in->basis[0], IntensityBasis::kRecentActuals);
}

TEST_F(PlanningIntensityTest, NoDataAtAllIsAClearError) {
  IntensitySources src;
  src.zone = "ZZ-NOWHERE";
  src.slot = 1h;
  auto in = planning_intensity(src, kT0, kT0, kT0 + 2h);
  ASSERT_FALSE(in);
  EXPECT_NE(in.error().message().find("no carbon-intensity data for zone ZZ-NOWHERE"),
            std::string::npos)
      << in.error().message();
}

}  // namespace
}  // namespace carbonclock

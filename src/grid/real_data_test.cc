// Imports every real intensity series in the shared data folder (../shared/data); skipped
// when the folder is absent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "grid/importers.h"
#include "grid/query.h"
#include "grid/store.h"
#include "grid/test_util.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;
using testing::utc;

fs::path shared(const std::string& rel) { return fs::path(CARBONCLOCK_SHARED_DATA) / rel; }

#define SKIP_WITHOUT(path)                                     \
  if (!fs::exists(path))                                       \
  GTEST_SKIP() << "shared data not found: " << (path).string() \
               << " (tests of real files need ../shared/data)"

Result<std::vector<IntensitySeries>> load(const fs::path& p, const ImportOptions& o) {
  return read_series_file(p, o);
}

TEST(RealData, ElectricityMapsHourlyExports) {
  fs::path dir = shared("electricitymaps_hourly");
  SKIP_WITHOUT(dir);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".csv") continue;
    ++files;
    auto r = load(entry.path(), {});
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_EQ(r->size(), 2u) << entry.path();
    bool leap = entry.path().filename().string().find("2024") != std::string::npos;
    for (const IntensitySeries& s : *r) {
      EXPECT_EQ(s.points.size(), leap ? 8784u : 8760u) << entry.path();
      EXPECT_TRUE(find_gaps(s).empty()) << entry.path();
      EXPECT_EQ(s.points.front().duration, hours(1));
    }
  }
  EXPECT_GE(files, 9);
}

TEST(RealData, EstimatedHoursAreFlagged) {
  fs::path p = shared("electricitymaps_hourly/JP-TK_2022_hourly.csv");
  SKIP_WITHOUT(p);
  auto r = load(p, {});
  ASSERT_TRUE(r.ok()) << r.error().message();
  for (const auto& pt : (*r)[0].points) ASSERT_TRUE(pt.estimated);
}

TEST(RealData, LetsWaitAwhileGermanyHasTwoShortGaps) {
  fs::path p = shared("lets-wait-awhile/ger_ci.csv");
  SKIP_WITHOUT(p);
  ImportOptions o;
  o.zone = "DE";
  auto r = load(p, o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const IntensitySeries& s = (*r)[0];
  EXPECT_EQ(s.points.size(), 37147u);
  EXPECT_EQ(s.points.front().start, utc("2019-12-20T00:00Z"));
  auto gaps = find_gaps(s);
  ASSERT_EQ(gaps.size(), 2u);
  for (const Gap& g : gaps) EXPECT_EQ(g.duration, minutes(15));
}

TEST(RealData, LetsWaitAwhileBritainKeepsMixedSteps) {
  fs::path p = shared("lets-wait-awhile/gb_ci.csv");
  SKIP_WITHOUT(p);
  ImportOptions o;
  o.zone = "GB";
  auto r = load(p, o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const IntensitySeries& s = (*r)[0];
  EXPECT_EQ(s.points.size(), 21980u);
  size_t quarter = 0, half = 0;
  for (const auto& pt : s.points) {
    quarter += pt.duration == minutes(15);
    half += pt.duration == minutes(30);
  }
  EXPECT_EQ(quarter + half, s.points.size());
  EXPECT_GE(quarter, 6808u);
  EXPECT_GE(half, 15000u);
}

TEST(RealData, LetsWaitAwhileFrance) {
  fs::path p = shared("lets-wait-awhile/fr_ci.csv");
  SKIP_WITHOUT(p);
  ImportOptions o;
  o.zone = "FR";
  auto r = load(p, o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ((*r)[0].points.size(), 18574u);
  EXPECT_EQ((*r)[0].points.back().end(), utc("2021-01-09T23:00Z"));
}

TEST(RealData, VessimWattTimeMarginalFiveMinutes) {
  fs::path p = shared("vessim/watttime_example.csv");
  SKIP_WITHOUT(p);
  ImportOptions o;
  o.zone = "CAISO_NORTH";
  o.signal = Signal::kMarginal;
  o.factor = Factor::kDirect;
  auto r = load(p, o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const IntensitySeries& s = (*r)[0];
  EXPECT_EQ(s.points.size(), 8928u);
  EXPECT_EQ(s.points.front().duration, minutes(5));
  EXPECT_EQ(s.signal, Signal::kMarginal);
  EXPECT_DOUBLE_EQ(s.points.front().g_per_kwh, 425.01605069);
}

TEST(RealData, ZeusCarbonHistWithZoneAndDurationColumns) {
  fs::path p = shared("zeus/carbon_hist.csv");
  SKIP_WITHOUT(p);
  ImportOptions o;
  o.signal = Signal::kMarginal;
  o.factor = Factor::kDirect;
  auto r = load(p, o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].zone, "MISO_MASON_CITY");
  EXPECT_EQ((*r)[0].points.size(), 167u);
  EXPECT_EQ((*r)[0].points.front().duration, minutes(30));
  EXPECT_EQ((*r)[0].points.front().start, utc("2022-10-20T06:20Z"));
}

TEST(RealData, ZeusElectricityMapsHistoryJson) {
  for (const char* name : {"zeus/carbon_history_file1.json", "zeus/carbon_history_file2.json"}) {
    fs::path p = shared(name);
    SKIP_WITHOUT(p);
    auto r = load(p, {});
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ((*r)[0].zone, "US-MIDW-MISO");
    EXPECT_EQ((*r)[0].points.size(), 24u);
  }
}

TEST(RealData, MarginalEmissionFactorsByIntervalIndex) {
  for (auto [country, origin] :
       {std::pair{"NL", "2020-01-01T00:00+01:00"}, std::pair{"PL", "2020-01-01T00:00+01:00"},
        std::pair{"IE", "2020-01-01T00:00+00:00"}}) {
    fs::path p = shared(fmt::format("marginal-emission-factors/60min/CEFs_2020_{}.csv", country));
    SKIP_WITHOUT(p);
    for (auto [column, signal] :
         {std::pair{"MEFs", Signal::kMarginal}, std::pair{"XEFs", Signal::kAverage}}) {
      ImportOptions o;
      o.zone = country;
      o.signal = signal;
      o.csv.value_column = column;
      o.csv.unit = "kg/MWh";
      o.csv.step = hours(1);
      o.csv.index_origin = utc(origin);
      auto r = load(p, o);
      ASSERT_TRUE(r.ok()) << r.error().message();
      const IntensitySeries& s = (*r)[0];
      EXPECT_EQ(s.points.size(), 8784u);
      EXPECT_EQ(s.points.front().start, utc(origin));
      EXPECT_TRUE(find_gaps(s).empty());
    }
  }
}

TEST(RealData, EverythingImportsIntoOneStoreAndReimportsAsNoOp) {
  fs::path root = shared("");
  SKIP_WITHOUT(shared("lets-wait-awhile/gb_ci.csv"));
  testing::TempDir dir;
  auto store = GridStore::open(dir.path() / "cc.db");
  ASSERT_TRUE(store.ok());
  std::vector<ImportBatch> batches;
  for (const auto& entry : fs::directory_iterator(shared("electricitymaps_hourly"))) {
    auto r = load(entry.path(), {});
    ASSERT_TRUE(r.ok()) << r.error().message();
    batches.push_back({entry.path().string(), *r});
  }
  ImportOptions gb;
  gb.zone = "GB-ENTSOE";
  auto r = load(shared("lets-wait-awhile/gb_ci.csv"), gb);
  ASSERT_TRUE(r.ok());
  batches.push_back({"gb_ci.csv", *r});
  auto first = store->import(batches);
  ASSERT_TRUE(first.ok()) << first.error().message();
  auto second = store->import(batches);
  ASSERT_TRUE(second.ok()) << second.error().message();
  for (const auto& x : *second) EXPECT_EQ(x.points_added, 0);
  auto back =
      store->read({"GB-ENTSOE", {}, {}}, utc("2020-01-01T00:00Z"), utc("2021-01-01T00:00Z"));
  ASSERT_TRUE(back.ok());
  auto cov = coverage(*back, utc("2020-01-01T00:00Z"), utc("2021-01-01T00:00Z"));
  EXPECT_GT(cov.fraction(), 0.99);
}

}  // namespace
}  // namespace carbonclock

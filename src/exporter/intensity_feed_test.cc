#include "exporter/intensity_feed.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "common/units.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const SysTime kT0 = parse_utc("2026-03-02T00:00:00Z").value();

IntensitySeries hourly(SysTime first, std::vector<double> values,
                       std::optional<SysTime> issued = std::nullopt,
                       Signal signal = Signal::kAverage) {
  IntensitySeries s;
  s.zone = "DE";
  s.signal = signal;
  s.factor = Factor::kLifecycle;
  s.source = issued ? "test-forecast" : "test-actuals";
  s.issued_at = issued;
  for (size_t i = 0; i < values.size(); ++i) {
    s.points.push_back({first + 1h * static_cast<int>(i), 1h, values[i], false});
  }
  return s;
}

class FeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("cc_feed_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = dir_ / "db.sqlite";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void import(const IntensitySeries& s) {
    auto store = GridStore::open(db_);
    ASSERT_TRUE(store) << store.error().message();
    auto r = store->import({s}, "test");
    ASSERT_TRUE(r) << r.error().message();
  }

  IntensityFeed feed(std::optional<Signal> signal = std::nullopt, bool db_option = true) {
    IntensityFeedOptions o;
    o.zone = select_zone(std::nullopt, std::string("DE")).value();
    o.signal = signal;
    if (db_option) o.db = db_.string();
    o.retry_every = 30s;
    return IntensityFeed(o, ctx_);
  }

  fs::path dir_;
  fs::path db_;
  ManualClock clock_{kT0};
  RecordingObserver observer_;
  // The default store ($CARBONCLOCK_DB) is the test's.
  AppContext ctx_{clock_, nullptr,
                  [this](const char* name) -> std::optional<std::string> {
                    if (std::string_view(name) == "CARBONCLOCK_DB") return db_.string();
                    return std::nullopt;
                  },
                  observer_};
};

TEST_F(FeedTest, PricesEnergyExactlyAgainstTheValueInForceAcrossABoundary) {
  import(hourly(kT0, {100, 300}));
  IntensityFeed f = feed();
  f.refresh(kT0 + 59min);
  // 2 kWh spread over 59..61 min: 1 kWh at 100 g/kWh, 1 kWh at 300 g/kWh.
  const PricedEnergy p = f.price(kT0 + 59min, kT0 + 61min, 2 * kJoulesPerKwh);
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].provenance.basis, IntensityBasis::kActual);
  EXPECT_NEAR(p.it_g, 400.0, 1e-9);
  EXPECT_EQ(p.unpriced_energy_j, 0.0);
  const CurrentIntensity now = f.current(kT0 + 30min);
  EXPECT_EQ(now.g_per_kwh, 100);
  EXPECT_EQ(now.provenance, "stored");
  EXPECT_EQ(now.signal, "average");
  EXPECT_EQ(now.factor, "lifecycle");
  EXPECT_EQ(f.current(kT0 + 61min).g_per_kwh, 300);
}

TEST_F(FeedTest, ForecastThenEmbeddedProfileBeyondTheStoredData) {
  import(hourly(kT0 - 1h, {100}));                       // actuals end at kT0
  import(hourly(kT0 - 1h, {9, 250, 260}, kT0 - 30min));  // forecast to kT0 + 2h
  IntensityFeed f = feed();
  f.refresh(kT0 + 10min);
  EXPECT_EQ(f.current(kT0 - 30min).provenance, "stored");
  const CurrentIntensity forecast = f.current(kT0 + 10min);
  EXPECT_EQ(forecast.provenance, "forecast");
  EXPECT_EQ(forecast.g_per_kwh, 250);
  const CurrentIntensity profile = f.current(kT0 + 2h + 10min);
  EXPECT_EQ(profile.provenance, "embedded");
  EXPECT_GT(profile.g_per_kwh, 0);
}

TEST_F(FeedTest, WithoutAStoreTheEmbeddedProfilePrices) {
  IntensityFeed f = feed(std::nullopt, false);  // the default store, which does not exist
  f.refresh(kT0);
  const CurrentIntensity now = f.current(kT0);
  EXPECT_EQ(now.provenance, "embedded");
  EXPECT_GT(now.g_per_kwh, 0);
  const PricedEnergy p = f.price(kT0, kT0 + 1s, kJoulesPerKwh);
  EXPECT_NEAR(p.it_g, now.g_per_kwh, 1e-9);
  EXPECT_FALSE(fs::exists(db_));  // never created by reading
}

TEST_F(FeedTest, MarginalIsTheDefaultSignalWhenStored) {
  import(hourly(kT0, {500}, std::nullopt, Signal::kMarginal));
  import(hourly(kT0, {100}));
  IntensityFeed f = feed();
  f.refresh(kT0);
  EXPECT_EQ(f.signal(), Signal::kMarginal);
  EXPECT_EQ(f.current(kT0).g_per_kwh, 500);
  IntensityFeed average = feed(Signal::kAverage);
  average.refresh(kT0);
  EXPECT_EQ(average.current(kT0).g_per_kwh, 100);
}

TEST_F(FeedTest, RefreshesAtTheBoundaryOfTheValueInForceAndNotBefore) {
  import(hourly(kT0, {100}));
  IntensityFeed f = feed();
  f.refresh_if_due(kT0 + 50min);
  EXPECT_EQ(f.stats().refreshes, 1u);
  import(hourly(kT0 + 1h, {300}));
  f.refresh_if_due(kT0 + 54min);  // nothing due yet (refresh_every is 5 min)
  EXPECT_EQ(f.stats().refreshes, 1u);
  EXPECT_EQ(f.current(kT0 + 61min).provenance, "embedded");  // read before the import
  f.refresh_if_due(kT0 + 1h);                                // the stored value ended
  EXPECT_EQ(f.stats().refreshes, 2u);
  EXPECT_EQ(f.current(kT0 + 61min).g_per_kwh, 300);
}

TEST_F(FeedTest, AStoreLockedByAnImportNeverStopsPricingAndIsReadOnceFree) {
  import(hourly(kT0, {100, 100}));
  // Another connection holds the database exclusively as the exporter starts: reading fails
  // (after SQLite's busy timeout) and the embedded profile prices meanwhile.
  sqlite3* locker = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &locker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(locker, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  IntensityFeed f = feed();
  f.refresh(kT0);
  EXPECT_EQ(f.stats().store_errors, 1u);
  ASSERT_EQ(observer_.warnings.size(), 1u);
  EXPECT_NE(observer_.warnings[0].find("grid store not read"), std::string::npos)
      << observer_.warnings[0];
  EXPECT_NE(observer_.warnings[0].find("embedded typical profile"), std::string::npos);
  EXPECT_EQ(f.current(kT0).provenance, "embedded");
  EXPECT_GT(f.price(kT0, kT0 + 1s, kJoulesPerKwh).it_g, 0);
  // Retried only after retry_every (30 s here), then read.
  f.refresh_if_due(kT0 + 10s);
  EXPECT_EQ(f.stats().store_errors, 1u);
  sqlite3_close(locker);
  f.refresh_if_due(kT0 + 30s);
  EXPECT_EQ(f.stats().store_errors, 1u);
  EXPECT_EQ(f.current(kT0 + 30s).provenance, "stored");
  ASSERT_EQ(observer_.notes.size(), 1u);
  EXPECT_EQ(observer_.notes[0], "grid store read again");

  // An import in progress (its write transaction, WAL): the exporter reads what was committed.
  ASSERT_EQ(sqlite3_open(db_.c_str(), &locker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(locker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  f.refresh(kT0 + 1min);
  EXPECT_EQ(f.stats().store_errors, 1u);
  EXPECT_EQ(f.current(kT0 + 1min).g_per_kwh, 100);
  sqlite3_exec(locker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(locker);
}

}  // namespace
}  // namespace carbonclock

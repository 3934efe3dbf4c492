#include "intensity/intensity_provider.h"

#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "intensity/intensity_file.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const SysTime kT0 = parse_utc("2026-03-02T00:00:00Z").value();

IntensitySeries hourly(const std::string& zone, SysTime first, std::vector<double> values,
                       std::optional<SysTime> issued, Signal signal = Signal::kAverage,
                       Factor factor = Factor::kLifecycle) {
  IntensitySeries s;
  s.zone = zone;
  s.signal = signal;
  s.factor = factor;
  s.source = issued ? "test-forecast" : "test-actuals";
  s.issued_at = issued;
  for (size_t i = 0; i < values.size(); ++i) {
    s.points.push_back({first + 1h * static_cast<int>(i), 1h, values[i], false});
  }
  return s;
}

ZoneSelection zone(const char* z) { return select_zone(std::nullopt, std::string(z)).value(); }
ZoneSelection region(const char* r) { return select_zone(std::string(r), std::nullopt).value(); }

class ProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cc_provider_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto s = GridStore::open(dir_ / "db.sqlite");
    ASSERT_TRUE(s) << s.error().message();
    store_.emplace(std::move(*s));
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::optional<GridStore> store_;
};

// ---- planning (moved from execution/planning_intensity_test.cc) ----------------------------

TEST_F(ProviderTest, IntensityFileRowsMayBeRelativeToTheAnchor) {
  std::ofstream(dir_ / "i.csv") << "# scripted\nstart,duration_s,g_per_kwh\n+0,2,500\n+2,1,100\n"
                                   "2026-03-02T00:00:03Z,3,250\n";
  IntensityProvider provider(nullptr, {dir_ / "i.csv", kT0});
  auto in = provider.planning(zone("DE"), std::nullopt, std::nullopt, 1s, kT0, kT0, kT0 + 6s);
  ASSERT_TRUE(in) << in.error().message();
  std::vector<double> g;
  for (size_t i = 0; i < in->size(); ++i) g.push_back(in->g_per_kwh(i));
  EXPECT_EQ(g, (std::vector<double>{500, 500, 100, 250, 250, 250}));
  EXPECT_EQ(in->provenance_of(0).basis, IntensityBasis::kFile);
}

TEST_F(ProviderTest, MalformedFileNamesTheLine) {
  auto bad = parse_intensity_file("start,duration_s,g_per_kwh\n+0,-1,5\n", "x.csv", kT0);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("x.csv:2"), std::string::npos) << bad.error().message();
}

TEST_F(ProviderTest, LatestForecastThenEmbeddedProfileBeyondItsHorizon) {
  ASSERT_TRUE(store_->import({hourly("DE", kT0, {100, 200}, kT0 - 2h)}, "old"));
  ASSERT_TRUE(store_->import({hourly("DE", kT0, {300, 50}, kT0 - 1h)}, "new"));
  IntensityProvider provider(&*store_);
  auto in = provider.planning(zone("DE"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 4h);
  ASSERT_TRUE(in) << in.error().message();
  ASSERT_EQ(in->size(), 4u);
  EXPECT_EQ(in->g_per_kwh(0), 300);
  EXPECT_EQ(in->g_per_kwh(1), 50);
  EXPECT_EQ(in->provenance_of(1).basis, IntensityBasis::kForecast);
  EXPECT_EQ(in->provenance_of(2).basis, IntensityBasis::kEmbedded);
  Provenance f = in->provenance_of(0);
  EXPECT_EQ(f.issued_at, kT0 - 1h);
  EXPECT_EQ(f.horizon_end_utc, kT0 + 2h);
  ASSERT_FALSE(in->notes.empty());
  EXPECT_NE(in->notes[0].find("beyond the forecast horizon"), std::string::npos);
  // As of before the newer forecast was issued, the older one is used.
  auto older =
      provider.planning(zone("DE"), std::nullopt, std::nullopt, 1h, kT0 - 90min, kT0, kT0 + 2h);
  ASSERT_TRUE(older);
  EXPECT_EQ(older->g_per_kwh(0), 100);
}

TEST_F(ProviderTest, InForceIsActualsThenTheLatestForecastKnownThenTheProfile) {
  ASSERT_TRUE(store_->import({hourly("DE", kT0, {111}, std::nullopt)}, "actuals"));
  ASSERT_TRUE(store_->import({hourly("DE", kT0, {500, 200, 300}, kT0 - 1h)}, "forecast"));
  // Issued after the time asked: not known then.
  ASSERT_TRUE(store_->import({hourly("DE", kT0, {9, 9, 9, 9}, kT0 + 30min)}, "later"));
  IntensityProvider provider(&*store_);
  auto tl = provider.in_force(zone("DE"), Signal::kAverage, std::nullopt, kT0 + 10min, kT0 + 30min,
                              kT0 + 4h, Fallback::kEmbedded);
  ASSERT_TRUE(tl) << tl.error().message();
  ASSERT_EQ(tl->points.size(), 4u);
  EXPECT_EQ(tl->points[0].start, kT0 + 30min);  // clipped to [from, to)
  EXPECT_EQ(tl->points[0].g_per_kwh, 111);
  EXPECT_EQ(tl->provenances[tl->provenance[0]].basis, IntensityBasis::kActual);
  EXPECT_EQ(tl->points[1].g_per_kwh, 200);
  EXPECT_EQ(tl->points[2].g_per_kwh, 300);
  const Provenance& forecast = tl->provenances[tl->provenance[1]];
  EXPECT_EQ(forecast.basis, IntensityBasis::kForecast);
  EXPECT_EQ(forecast.issued_at, kT0 - 1h);
  EXPECT_EQ(tl->provenances[tl->provenance[3]].basis, IntensityBasis::kEmbedded);
  EXPECT_EQ(tl->points[3].start, kT0 + 3h);
  EXPECT_EQ(tl->points.back().end(), kT0 + 4h);

  // Without a fallback the hour past the forecast is unpriced; with no store, only the profile.
  auto bare = provider.in_force(zone("DE"), Signal::kAverage, std::nullopt, kT0 + 10min, kT0,
                                kT0 + 4h, Fallback::kNone);
  ASSERT_TRUE(bare) << bare.error().message();
  EXPECT_EQ(bare->points.back().end(), kT0 + 3h);
  IntensityProvider no_store(nullptr);
  auto profile = no_store.in_force(zone("DE"), Signal::kMarginal, std::nullopt, kT0, kT0, kT0 + 1h,
                                   Fallback::kEmbedded);
  ASSERT_TRUE(profile) << profile.error().message();
  ASSERT_EQ(profile->provenances.size(), 1u);
  EXPECT_EQ(profile->provenances[0].basis, IntensityBasis::kEmbedded);
  EXPECT_EQ(profile->notes.size(), 1u);  // an average profile standing in for marginal data
}

TEST_F(ProviderTest, RecentActualsStandInForTheComingDay) {
  ASSERT_TRUE(store_->import({hourly("ZZ-TEST", kT0 - 24h, {400, 40}, std::nullopt)}, "a"));
  IntensityProvider provider(&*store_);
  auto in = provider.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 2h);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(in->g_per_kwh(0), 400);
  EXPECT_EQ(in->g_per_kwh(1), 40);
  EXPECT_EQ(in->provenance_of(0).basis, IntensityBasis::kRecentActuals);
}

TEST_F(ProviderTest, NoDataAtAllIsAClearError) {
  IntensityProvider provider(nullptr);
  auto in =
      provider.planning(zone("ZZ-NOWHERE"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 2h);
  ASSERT_FALSE(in);
  EXPECT_NE(in.error().message().find("no carbon-intensity data for zone ZZ-NOWHERE"),
            std::string::npos)
      << in.error().message();
}

// ---- aliases: the same intensity whichever name the zone was given ------------------------

TEST_F(ProviderTest, WattTimeDataServesTheZoneAndItsCloudRegions) {
  // Regression: planning for us-west-1 ignored marginal data stored for CAISO_NORTH.
  ASSERT_TRUE(store_->import(
      {hourly("CAISO_NORTH", kT0, {700, 100}, std::nullopt, Signal::kMarginal, Factor::kDirect)},
      "wt"));
  IntensityProvider provider(&*store_);
  for (const ZoneSelection& z :
       {zone("US-CAL-CISO"), region("us-west-1"), zone("us-cal-ciso"), zone("CAISO_NORTH")}) {
    auto plan = provider.planning(z, Signal::kMarginal, std::nullopt, 1h, kT0, kT0, kT0 + 2h);
    ASSERT_TRUE(plan) << plan.error().message();
    EXPECT_EQ(plan->g_per_kwh(0), 700) << z.given;
    EXPECT_EQ(plan->provenance_of(0).basis, IntensityBasis::kActual);
    EXPECT_EQ(plan->provenance_of(0).zone, "CAISO_NORTH");
    auto acc =
        provider.actuals(z, Signal::kMarginal, std::nullopt, kT0, kT0 + 2h, Fallback::kEmbedded);
    ASSERT_TRUE(acc);
    ASSERT_EQ(acc->points.size(), 2u) << z.given;
    EXPECT_EQ(acc->points[1].g_per_kwh, 100);
  }
}

TEST_F(ProviderTest, ElectricityMapsBiddingZoneNameFindsTheZone) {
  // The DE-LU CSV files carry zone id DE; data stored under DE-LU serves DE too.
  ASSERT_TRUE(store_->import({hourly("DE", kT0, {300}, std::nullopt)}, "a"));
  ASSERT_TRUE(store_->import({hourly("DE-LU", kT0 + 1h, {200}, std::nullopt)}, "b"));
  IntensityProvider provider(&*store_);
  for (const char* name : {"DE", "DE-LU", "de-lu", "de"}) {
    auto tl = provider.actuals(zone(name), Signal::kAverage, std::nullopt, kT0, kT0 + 2h,
                               Fallback::kNone);
    ASSERT_TRUE(tl) << tl.error().message();
    ASSERT_EQ(tl->points.size(), 2u) << name;
    EXPECT_EQ(tl->points[0].g_per_kwh, 300);
    EXPECT_EQ(tl->points[1].g_per_kwh, 200);
    EXPECT_EQ(tl->zone, "DE");
  }
}

// ---- provenance: mixed signals and factors are said, never hidden --------------------------

TEST_F(ProviderTest, MixedFactorsAreReportedAsMixed) {
  ASSERT_TRUE(store_->import({hourly("US-CAL-CISO", kT0, {250}, std::nullopt)}, "lca"));
  ASSERT_TRUE(store_->import(
      {hourly("US-CAL-CISO", kT0 + 1h, {200}, std::nullopt, Signal::kAverage, Factor::kDirect)},
      "direct"));
  IntensityProvider provider(&*store_);
  auto tl = provider.actuals(zone("US-CAL-CISO"), Signal::kAverage, std::nullopt, kT0, kT0 + 2h,
                             Fallback::kEmbedded);
  ASSERT_TRUE(tl);
  std::vector<EnergyInterval> e{{kT0, 2h, 7.2e6}};  // 2 kWh spread evenly
  PricedEnergy priced = price(e, *tl);
  ASSERT_EQ(priced.parts.size(), 2u);
  EXPECT_EQ(priced.summary().factor, "mixed");
  EXPECT_EQ(priced.summary().signal, "average");
  EXPECT_DOUBLE_EQ(priced.it_g, 250 + 200);
}

TEST_F(ProviderTest, MarginalGapsFilledWithTheAverageProfileAreMixedSignals) {
  ASSERT_TRUE(store_->import(
      {hourly("DE", kT0, {600}, std::nullopt, Signal::kMarginal, Factor::kDirect)}, "m"));
  IntensityProvider provider(&*store_);
  auto tl = provider.actuals(zone("DE"), Signal::kMarginal, std::nullopt, kT0, kT0 + 2h,
                             Fallback::kEmbedded);
  ASSERT_TRUE(tl);
  std::vector<EnergyInterval> e{{kT0, 2h, 7.2e6}};
  PricedEnergy priced = price(e, *tl);
  ASSERT_EQ(priced.parts.size(), 2u);
  EXPECT_EQ(priced.parts[0].provenance.basis, IntensityBasis::kActual);
  EXPECT_EQ(priced.parts[1].provenance.basis, IntensityBasis::kEmbedded);
  EXPECT_EQ(priced.summary().signal, "mixed");
  EXPECT_FALSE(tl->notes.empty());
}

TEST_F(ProviderTest, UnknownZonesAreRefusedUpFront) {
  IntensityProvider provider(&*store_);
  Status s = provider.check_zone(zone("NOPE"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(s.error().message().find("unknown zone 'NOPE'"), std::string::npos);
  EXPECT_TRUE(provider.check_zone(zone("DE")).ok());
  ASSERT_TRUE(store_->import({hourly("MYGRID", kT0, {1}, std::nullopt)}, "x"));
  provider.reload();
  EXPECT_TRUE(provider.check_zone(zone("MYGRID")).ok());
}

TEST_F(ProviderTest, SlottedOracleSpansTheStoredData) {
  ASSERT_TRUE(store_->import({hourly("GB", kT0, {10, 20, 30}, std::nullopt)}, "a"));
  IntensityProvider provider(&*store_);
  auto s = provider.slotted(zone("GB"), Signal::kAverage, std::nullopt, 30min, SysTime{},
                            kT0 + 100 * 24h, Fallback::kNone);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->first_slot_utc, kT0);
  EXPECT_EQ(s->size(), 6u);
  EXPECT_EQ(s->g_per_kwh(5), 30);
  auto none = provider.slotted(zone("FR"), Signal::kAverage, std::nullopt, 30min, SysTime{}, kT0,
                               Fallback::kNone);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
}

// ---- carbonclock's own forecast in the planning chain --------------------------------------

/// `days` of hourly actuals ending at `end`: a daily cycle 300 ± 100 with a small wobble.
IntensitySeries cycle(const std::string& zone, SysTime end, int days) {
  std::vector<double> v;
  for (int h = 0; h < days * 24; ++h) {
    v.push_back(300 + 100 * std::sin(2 * M_PI * (h % 24) / 24.0) + (h * 7919 % 13));
  }
  return hourly(zone, end - 24h * days, v, std::nullopt);
}

TEST_F(ProviderTest, OwnForecastServesBeyondTheActualsBeforeRecentActuals) {
  ASSERT_TRUE(store_->import({cycle("ZZ-TEST", kT0, 20)}, "a"));
  IntensityProvider provider(&*store_);
  auto in =
      provider.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 5min, kT0, kT0, kT0 + 30h);
  ASSERT_TRUE(in) << in.error().message();
  for (size_t i = 0; i < in->size(); ++i) {
    Provenance p = in->provenance_of(i);
    ASSERT_EQ(p.basis, IntensityBasis::kOwnForecast) << i;
    EXPECT_EQ(p.issued_at, kT0);
    EXPECT_EQ(p.source.rfind("carbonclock-forecast-", 0), 0u) << p.source;
  }
  // Hourly values, the daily cycle: the forecast is low near 18:00 and high near 06:00.
  EXPECT_EQ(in->g_per_kwh(0), in->g_per_kwh(11));
  EXPECT_LT(in->g_per_kwh(18 * 12), in->g_per_kwh(6 * 12));
  bool named = false;
  for (const auto& n : in->notes) named = named || n.find("carbonclock forecast for ZZ-TEST") == 0;
  EXPECT_TRUE(named) << in->describe();
  EXPECT_NE(in->describe().find("carbonclock-forecast from"), std::string::npos);
}

TEST_F(ProviderTest, OwnForecastIsOffWhenAskedAndRecentActualsServe) {
  ASSERT_TRUE(store_->import({cycle("ZZ-TEST", kT0, 20)}, "a"));
  IntensityProvider::Options o;
  o.own_forecast = false;
  IntensityProvider provider(&*store_, o);
  auto in = provider.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 2h);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->provenance_of(0).basis, IntensityBasis::kRecentActuals);
}

TEST_F(ProviderTest, BacktestsNeverSeeActualsStoredAfterTheDecisionTime) {
  ASSERT_TRUE(store_->import({cycle("ZZ-TEST", kT0 + 48h, 22)}, "a"));
  IntensityProvider live(&*store_);
  auto seen = live.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 3h);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->provenance_of(0).basis, IntensityBasis::kActual);  // stored: used as given
  IntensityProvider::Options o;
  o.known_by_as_of = true;
  IntensityProvider backtest(&*store_, o);
  auto in = backtest.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0 + 30min, kT0,
                              kT0 + 3h);
  ASSERT_TRUE(in) << in.error().message();
  for (size_t i = 0; i < in->size(); ++i) {
    EXPECT_EQ(in->provenance_of(i).basis, IntensityBasis::kOwnForecast) << i;
  }
  // The same as a store that never held those actuals.
  fs::create_directories(dir_ / "b");
  auto other = GridStore::open(dir_ / "b" / "db.sqlite");
  ASSERT_TRUE(other);
  auto cut = cycle("ZZ-TEST", kT0 + 48h, 22);
  std::erase_if(cut.points, [](const IntensityPoint& p) { return p.end() > kT0; });
  ASSERT_TRUE(other->import({cut}, "cut"));
  IntensityProvider truncated(&*other);
  auto want = truncated.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0 + 30min, kT0,
                                 kT0 + 3h);
  ASSERT_TRUE(want);
  EXPECT_EQ(in->ug_per_kwh, want->ug_per_kwh);
}

TEST_F(ProviderTest, OwnForecastKeptBetweenCallsEqualsAFreshFit) {
  auto all = cycle("ZZ-TEST", kT0 + 6h, 20);
  auto early = all;
  std::erase_if(early.points, [](const IntensityPoint& p) { return p.end() > kT0; });
  ASSERT_TRUE(store_->import({early}, "early"));
  IntensityProvider kept(&*store_);
  ASSERT_TRUE(kept.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 2h));
  ASSERT_TRUE(store_->import({all}, "late"));  // six more hours arrive
  auto again =
      kept.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0 + 6h, kT0 + 6h, kT0 + 30h);
  IntensityProvider fresh(&*store_);
  auto want = fresh.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0 + 6h, kT0 + 6h,
                             kT0 + 30h);
  ASSERT_TRUE(again && want);
  EXPECT_EQ(again->ug_per_kwh, want->ug_per_kwh);
  EXPECT_EQ(again->notes, want->notes);
}

TEST_F(ProviderTest, TooLittleHistoryFallsBackToRecentActualsAndSaysWhy) {
  ASSERT_TRUE(store_->import(
      {hourly("ZZ-TEST", kT0 - 20h, std::vector<double>(20, 300), std::nullopt)}, "a"));
  IntensityProvider provider(&*store_);
  auto in =
      provider.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0, kT0 + 4h, kT0 + 6h);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(in->provenance_of(0).basis, IntensityBasis::kRecentActuals);
  bool said = false;
  for (const auto& n : in->notes) said = said || n.find("needs at least 1.0 days") != n.npos;
  EXPECT_TRUE(said) << fmt::format("{}", fmt::join(in->notes, " | "));
}

TEST_F(ProviderTest, StaleHistoryIsNotForecastFrom) {
  ASSERT_TRUE(store_->import({cycle("DE", kT0 - 10 * 24h, 20)}, "a"));
  IntensityProvider provider(&*store_);
  auto in = provider.planning(zone("DE"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 2h);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(in->provenance_of(0).basis, IntensityBasis::kEmbedded);
  bool said = false;
  for (const auto& n : in->notes) said = said || n.find("more than 7 days before") != n.npos;
  EXPECT_TRUE(said) << fmt::format("{}", fmt::join(in->notes, " | "));
}

TEST_F(ProviderTest, RiskP90PlansOnTheUpperQuantileOfTheOwnForecast) {
  ASSERT_TRUE(store_->import({cycle("ZZ-TEST", kT0, 40)}, "a"));
  IntensityProvider point(&*store_);
  IntensityProvider::Options o;
  o.risk = ForecastQuantile::kP90;
  IntensityProvider p90(&*store_, o);
  auto a = point.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 24h);
  auto b = p90.planning(zone("ZZ-TEST"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 24h);
  ASSERT_TRUE(a && b);
  bool higher = false;
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_GE(b->ug_per_kwh[i], a->ug_per_kwh[i]) << i;
    higher = higher || b->ug_per_kwh[i] > a->ug_per_kwh[i];
  }
  EXPECT_TRUE(higher);
  EXPECT_NE(b->provenance_of(0).source.find("-p90"), std::string::npos);
}

TEST_F(ProviderTest, ForecastsCarbonclockStoredAreLabelledItsOwn) {
  IntensitySeries f = hourly("DE", kT0, {111, 222}, kT0 - 1h);
  f.source = "carbonclock-forecast-regression";
  ASSERT_TRUE(store_->import({f}, "own"));
  IntensityProvider provider(&*store_);
  auto in = provider.planning(zone("DE"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 2h);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->provenance_of(0).basis, IntensityBasis::kOwnForecast);
  EXPECT_EQ(in->provenance_of(0).issued_at, kT0 - 1h);
}

TEST_F(ProviderTest, RiskOnAStoredPointForecastOfItsOwnIsLabelled) {
  // `forecast --store` keeps the point forecast: it has no p90 to plan on.
  IntensitySeries f = hourly("DE", kT0, {111, 222}, kT0 - 1h);
  f.source = "carbonclock-forecast-regression";
  ASSERT_TRUE(store_->import({f}, "own"));
  IntensityProvider::Options o;
  o.risk = ForecastQuantile::kP90;
  IntensityProvider provider(&*store_, o);
  auto in = provider.planning(zone("DE"), std::nullopt, std::nullopt, 1h, kT0, kT0, kT0 + 2h);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->ug_per_kwh[0], 111'000'000);
  bool said = false;
  for (const auto& n : in->notes) {
    said = said || n.find(
                       "--risk p90: the stored forecast (carbonclock-forecast-regression) has "
                       "no prediction intervals") != n.npos;
  }
  EXPECT_TRUE(said) << fmt::format("{}", fmt::join(in->notes, " | "));
}

TEST_F(ProviderTest, ForecastHistoryWithOnlyAverageDataWhenMarginalIsAsked) {
  ASSERT_TRUE(store_->import({cycle("ZZ-TEST", kT0, 3)}, "a"));
  IntensityProvider provider(&*store_);
  auto h = provider.forecast_history(zone("ZZ-TEST"), Signal::kMarginal, std::nullopt,
                                     kT0 - 24h * 30, kT0);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(h.error().message().find("only average data is stored"), std::string::npos)
      << h.error().message();
  auto ok = provider.forecast_history(zone("ZZ-TEST"), Signal::kAverage, std::nullopt,
                                      kT0 - 24h * 30, kT0);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->points.size(), 72u);
}

}  // namespace
}  // namespace carbonclock

#include "accounting/accounting.h"

#include <gtest/gtest.h>

#include <cmath>

#include "accounting/test_run.h"
#include "grid/store.h"
#include "grid/test_util.h"
#include "regions/embedded_profile.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
using testing::make_run;
using testing::utc;

constexpr double kKwh = 3.6e6;

IntensitySeries series(const char* zone, Signal signal, std::vector<IntensityPoint> points,
                       const char* source = "test") {
  return {zone, signal, Factor::kLifecycle, source, std::nullopt, std::move(points)};
}

// Prices `stored` with `fallback` (the embedded profile) in its gaps, as the provider does.
SignalAccount price_energy(const std::vector<EnergyInterval>& iv, const IntensitySeries& stored,
                           const IntensitySeries* fallback, double pue) {
  SysTime from = iv.front().start, to = iv.front().start + iv.front().duration;
  for (const auto& e : iv) {
    from = std::min(from, e.start);
    to = std::max(to, e.start + e.duration);
  }
  std::vector<TimelineSource> sources{{&stored,
                                       {IntensityBasis::kActual,
                                        stored.zone,
                                        stored.signal,
                                        stored.factor,
                                        stored.source,
                                        {},
                                        {}}}};
  if (fallback) {
    sources.push_back({fallback,
                       {IntensityBasis::kEmbedded,
                        fallback->zone,
                        fallback->signal,
                        fallback->factor,
                        fallback->source,
                        {},
                        {}}});
  }
  return account_signal(iv, stitch_timeline(stored.zone, stored.signal, from, to, sources), pue);
}

TEST(RunEnergyIntervalsTest, ClipsBucketsToTheRunsStartAndEnd) {
  auto run = make_run(utc("2026-03-01T00:02Z"), 5min, 5min, {100, 200});
  auto iv = run_energy_intervals(run);
  ASSERT_EQ(iv.size(), 2u);
  EXPECT_EQ(iv[0].start, utc("2026-03-01T00:02Z"));
  EXPECT_EQ(iv[0].duration, 3min);
  EXPECT_DOUBLE_EQ(iv[0].energy_j, 100);
  EXPECT_EQ(iv[1].start, utc("2026-03-01T00:05Z"));
  EXPECT_EQ(iv[1].duration, 2min);
  EXPECT_DOUBLE_EQ(iv[1].energy_j, 200);
}

TEST(PriceEnergyTest, FineBucketsAgainstACoarseStepTimesPue) {
  // 1 kWh + 2 kWh in two 5-minute buckets, one hourly step at 100 g/kWh, PUE 1.5:
  // 3 kWh × 100 = 300 g before PUE, 450 g after.
  std::vector<EnergyInterval> iv{{utc("2026-03-01T00:00Z"), 5min, 1 * kKwh},
                                 {utc("2026-03-01T00:05Z"), 5min, 2 * kKwh}};
  auto stored = series("DE", Signal::kAverage, {{utc("2026-03-01T00:00Z"), 1h, 100, false}});
  auto a = price_energy(iv, stored, nullptr, 1.5);
  EXPECT_NEAR(a.it_g, 300, 1e-9);
  EXPECT_NEAR(a.operational_g, 450, 1e-9);
  EXPECT_DOUBLE_EQ(a.stored_share(), 1.0);
  EXPECT_EQ(a.unpriced_energy_j, 0);
  ASSERT_EQ(a.bucket_g.size(), 2u);
  EXPECT_NEAR(a.bucket_g[0], 150, 1e-9);
  EXPECT_NEAR(a.bucket_g[1], 300, 1e-9);
  EXPECT_NEAR(a.mean_g_per_kwh(), 100, 1e-9);
}

TEST(PriceEnergyTest, CoarseBucketAcrossFineStepsIsSplitByTime) {
  // 2 kWh over 10 minutes across steps of 100 (first 5 min) and 300 (next 5 min): 100 + 300.
  std::vector<EnergyInterval> iv{{utc("2026-03-01T00:00Z"), 10min, 2 * kKwh}};
  auto stored = series(
      "DE", Signal::kAverage,
      {{utc("2026-03-01T00:00Z"), 5min, 100, false}, {utc("2026-03-01T00:05Z"), 5min, 300, false}});
  EXPECT_NEAR(price_energy(iv, stored, nullptr, 1.0).operational_g, 400, 1e-9);
}

TEST(PriceEnergyTest, GapsFallBackToTheFallbackSeriesAndAreCounted) {
  // 2 kWh over 10 minutes; stored data covers the first 5 minutes at 100, the fallback says
  // 400 everywhere: 1 kWh × 100 + 1 kWh × 400 = 500 g, half stored, half embedded.
  std::vector<EnergyInterval> iv{{utc("2026-03-01T00:00Z"), 10min, 2 * kKwh}};
  auto stored = series("DE", Signal::kAverage, {{utc("2026-03-01T00:00Z"), 5min, 100, false}});
  auto fallback =
      series("DE", Signal::kAverage, {{utc("2026-03-01T00:00Z"), 1h, 400, true}}, "embedded");
  auto a = price_energy(iv, stored, &fallback, 1.0);
  EXPECT_NEAR(a.operational_g, 500, 1e-9);
  EXPECT_NEAR(a.stored_share(), 0.5, 1e-12);
  EXPECT_NEAR(a.embedded_share(), 0.5, 1e-12);
  EXPECT_EQ(a.fallback_source, "embedded");
  EXPECT_NEAR(a.estimated_energy_j, 1 * kKwh, 1e-6);
  ASSERT_EQ(a.intensity.size(), 2u);
  EXPECT_FALSE(a.intensity_embedded[0]);
  EXPECT_TRUE(a.intensity_embedded[1]);
  EXPECT_EQ(a.intensity[1].start, utc("2026-03-01T00:05Z"));

  auto without = price_energy(iv, stored, nullptr, 1.0);
  EXPECT_NEAR(without.operational_g, 100, 1e-9);
  EXPECT_NEAR(without.unpriced_share(), 0.5, 1e-12);
}

class AccountRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = GridStore::open(dir_.path() / "grid.db");
    ASSERT_TRUE(s.ok()) << s.error().message();
    store_.emplace(std::move(*s));
  }
  void import(const IntensitySeries& s) {
    auto r = store_->import({s}, "test");
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  AccountingInputs inputs(const char* zone) {
    AccountingInputs in;
    in.zone = zone;
    in.selection = select_zone(std::nullopt, std::string(zone)).value();
    in.zone_origin = "--zone";
    return in;
  }
  /// A provider over the store as it is now.
  IntensityProvider& provider() {
    provider_.emplace(&*store_);
    return *provider_;
  }
  IntensityProvider& no_store() {
    provider_.emplace(nullptr);
    return *provider_;
  }
  testing::TempDir dir_;
  std::optional<GridStore> store_;
  std::optional<IntensityProvider> provider_;
  // 30 minutes from 00:00, six 5-minute buckets of 0.5 kWh each: 3 kWh.
  RunRecord run_ =
      make_run(utc("2026-03-01T00:00Z"), 30min, 5min, std::vector<double>(6, 0.5 * kKwh));
};

TEST_F(AccountRunTest, MarginalIsTheHeadlineAndAverageIsShownBeside) {
  import(series("US-CAL-CISO", Signal::kMarginal, {{ utc("2026-03-01T00:00Z"), 1h, 400, false }}));
  import(series("US-CAL-CISO", Signal::kAverage,
                {{utc("2026-03-01T00:00Z"), 15min, 200, false},
                 { utc("2026-03-01T00:15Z"),
                   15min,
                   300,
                   false }}));
  auto in = inputs("US-CAL-CISO");
  in.pue = 1.2;
  auto acc = account_run(run_, in, provider());
  ASSERT_TRUE(acc.ok()) << acc.error().message();
  ASSERT_EQ(acc->signals.size(), 2u);
  EXPECT_EQ(acc->headline_signal().signal, Signal::kMarginal);
  // 3 kWh × 400 × 1.2 = 1440; average: (1.5 × 200 + 1.5 × 300) × 1.2 = 900.
  EXPECT_NEAR(acc->operational_g(), 1440, 1e-6);
  EXPECT_NEAR(acc->signals[1].operational_g, 900, 1e-6);
  EXPECT_DOUBLE_EQ(acc->signals[1].stored_share(), 1.0);
  EXPECT_NE(acc->headline_reason.find("marginal"), std::string::npos);

  in.signal = Signal::kAverage;
  auto avg = account_run(run_, in, provider());
  ASSERT_TRUE(avg.ok());
  EXPECT_NEAR(avg->operational_g(), 900, 1e-6);
}

TEST_F(AccountRunTest, TheFactorAskedForPicksThatSeries) {
  // Lifecycle at 300 and direct at 200 stored for the same hour: lifecycle is preferred, unless
  // direct is asked for (`factor` in the Python API).
  auto lifecycle = series("DE", Signal::kAverage, {{utc("2026-03-01T00:00Z"), 1h, 300, false}});
  auto direct = lifecycle;
  direct.factor = Factor::kDirect;
  direct.points[0].g_per_kwh = 200;
  import(lifecycle);
  import(direct);
  auto in = inputs("DE");
  auto preferred = account_run(run_, in, provider());
  ASSERT_TRUE(preferred.ok()) << preferred.error().message();
  EXPECT_NEAR(preferred->operational_g(), 3 * 300, 1e-6);
  in.factor = Factor::kDirect;
  auto asked = account_run(run_, in, provider());
  ASSERT_TRUE(asked.ok()) << asked.error().message();
  EXPECT_NEAR(asked->operational_g(), 3 * 200, 1e-6);
  EXPECT_EQ(asked->headline_signal().factor_label(), "direct");

  AccountingChoices choices;
  choices.zone = "DE";
  choices.factor = "scope3";
  auto bad = resolve_inputs(choices, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message().rfind("--factor: ", 0), 0u) << bad.error().message();
}

TEST_F(AccountRunTest, MarginalDataMayLiveUnderTheWattTimeRegion) {
  import(series("CAISO_NORTH", Signal::kMarginal, {{ utc("2026-03-01T00:00Z"), 1h, 500, false }}));
  auto in = inputs("US-CAL-CISO");
  auto acc = account_run(run_, in, provider());
  ASSERT_TRUE(acc.ok()) << acc.error().message();
  EXPECT_EQ(acc->headline_signal().signal, Signal::kMarginal);
  EXPECT_NEAR(acc->operational_g(), 1500, 1e-6);
}

TEST_F(AccountRunTest, GapsAndMissingDataFallBackToTheEmbeddedProfileAndSaySo) {
  const EmbeddedProfile* profile = find_embedded_profile("US-CAL-CISO");
  ASSERT_NE(profile, nullptr);
  const double march_midnight = profile->at(3, 0);
  // Stored average covers only the first 15 minutes: 1.5 kWh × 200 + 1.5 kWh × profile.
  import(series("US-CAL-CISO", Signal::kAverage,
                {{ utc("2026-03-01T00:00Z"),
                   15min,
                   200,
                   false }}));
  auto acc = account_run(run_, inputs("US-CAL-CISO"), provider());
  ASSERT_TRUE(acc.ok()) << acc.error().message();
  ASSERT_EQ(acc->signals.size(), 1u);
  EXPECT_EQ(acc->headline_signal().signal, Signal::kAverage);
  EXPECT_NEAR(acc->operational_g(), 1.5 * 200 + 1.5 * march_midnight, 1e-6);
  EXPECT_NEAR(acc->headline_signal().embedded_share(), 0.5, 1e-12);
  bool said = false;
  for (const auto& n : acc->notes) said |= n.find("embedded typical profile") != std::string::npos;
  EXPECT_TRUE(said);

  // No store at all: the profile prices everything.
  auto none = account_run(run_, inputs("US-CAL-CISO"), no_store());
  ASSERT_TRUE(none.ok());
  EXPECT_NEAR(none->operational_g(), 3 * march_midnight, 1e-6);
  EXPECT_DOUBLE_EQ(none->headline_signal().embedded_share(), 1.0);
}

TEST_F(AccountRunTest, BadInputsAreClearErrors) {
  auto in = inputs("XX-NOWHERE");
  auto acc = account_run(run_, in, provider());
  ASSERT_FALSE(acc.ok());
  EXPECT_NE(acc.error().message().find("no carbon-intensity data for zone 'XX-NOWHERE'"),
            std::string::npos);

  in = inputs("DE");
  in.signal = Signal::kMarginal;
  acc = account_run(run_, in, provider());
  ASSERT_FALSE(acc.ok());
  EXPECT_NE(acc.error().message().find("--signal marginal"), std::string::npos);

  in = inputs("DE");
  in.pue = 3.5;
  EXPECT_FALSE(account_run(run_, in, provider()).ok());
}

TEST(ValidatePueTest, AcceptsOneToThreeOnly) {
  for (double ok : {1.0, 1.1, 1.58, 3.0}) EXPECT_TRUE(validate_pue(ok).ok()) << ok;
  for (double bad : {-1.0, 0.0, 0.9, 3.01, std::nan("")})
    EXPECT_FALSE(validate_pue(bad).ok()) << bad;
  EXPECT_NE(validate_pue(0.5).error().message().find("below 1"), std::string::npos);
}

TEST(FunctionalUnitTest, ParsesCountAndUnit) {
  auto u = parse_functional_unit("1000 inferences");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->count, 1000);
  EXPECT_EQ(u->unit, "inferences");
  EXPECT_EQ(u->text(), "1000 inferences");
  u = parse_functional_unit("epoch");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->count, 1);
  EXPECT_EQ(u->text(), "epoch");
  u = parse_functional_unit("1e6 tokens");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->count, 1e6);
  EXPECT_FALSE(parse_functional_unit("0 tokens").ok());
  EXPECT_FALSE(parse_functional_unit("-5 tokens").ok());
  EXPECT_FALSE(parse_functional_unit("1000").ok());
  EXPECT_FALSE(parse_functional_unit("").ok());
}

TEST_F(AccountRunTest, SciDividesOperationalPlusEmbodiedByTheUnitsDone) {
  import(series("DE", Signal::kAverage, {{ utc("2026-03-01T00:00Z"), 1h, 100, false }}));
  auto in = inputs("DE");
  in.embodied.embodied_kg = 1000;
  in.embodied.lifetime_years = 1;
  auto u = parse_functional_unit("1e6 tokens");
  ASSERT_TRUE(u.ok());
  u->work = 4e6;
  in.unit = *u;
  auto acc = account_run(run_, in, provider());
  ASSERT_TRUE(acc.ok()) << acc.error().message();
  // E × I = 3 kWh × 100 = 300 g; M = 1e6 g × 1800 s / (365.25 × 86400 s); R = 4.
  const double m = 1e6 * 1800 / (365.25 * 86400);
  EXPECT_NEAR(acc->embodied.embodied_g, m, 1e-9);
  EXPECT_NEAR(acc->sci_g_per_unit(), (300 + m) / 4, 1e-9);
}

TEST_F(AccountRunTest, WhatIfByZoneAndByStartHour) {
  import(series("DE", Signal::kAverage, {{ utc("2026-03-01T00:00Z"), 1h, 100, false }}));
  auto zones = emissions_by_zone(run_, 1.0, provider());
  ASSERT_GT(zones.size(), 10u);
  bool found_de = false;
  for (size_t i = 0; i < zones.size(); ++i) {
    if (i) {
      EXPECT_LE(zones[i - 1].operational_g, zones[i].operational_g);
    }
    if (zones[i].zone == "DE") {
      found_de = true;
      EXPECT_NEAR(zones[i].operational_g, 300, 1e-6);
      EXPECT_DOUBLE_EQ(zones[i].stored_share, 1.0);
    }
  }
  EXPECT_TRUE(found_de);

  // By start hour: hour 0 uses the stored 100 g/kWh; hour 5 (no stored data) uses the profile.
  auto hours = emissions_by_start_hour(run_, select_zone(std::nullopt, std::string("DE")).value(),
                                       Signal::kAverage, 1.0, provider());
  ASSERT_EQ(hours.size(), 24u);
  EXPECT_NEAR(hours[0], 300, 1e-6);
  EXPECT_NEAR(hours[5], 3 * find_embedded_profile("DE")->at(3, 5), 1e-6);
}

}  // namespace
}  // namespace carbonclock

namespace carbonclock {
namespace {

TEST(ResolveInputsTest, OptionsThenRunJsonThenEnvironmentThenTheDefaultRegion) {
  RunRecord run;
  AccountingChoices c;
  auto in = resolve_inputs(c, &run);
  ASSERT_TRUE(in.ok()) << in.error().message();
  EXPECT_EQ(in->region, std::optional<std::string>(kDefaultRegion));
  EXPECT_NE(in->zone_origin.find("default region us-east-1"), std::string::npos);
  EXPECT_EQ(in->pue, 1.0);
  EXPECT_EQ(in->pue_origin, "default: no PUE given");

  c.defaults.config_region = "eu-west-1";
  c.defaults.config_origin = "/home/u/.config/carbonclock/config";
  in = resolve_inputs(c, &run);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->zone, "IE");
  EXPECT_EQ(in->zone_origin, "region in /home/u/.config/carbonclock/config");

  c.defaults.env_zone = "FR";  // the environment beats the config file
  in = resolve_inputs(c, &run);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->zone, "FR");
  EXPECT_EQ(in->zone_origin, "$CARBONCLOCK_ZONE");

  run.zone = "DE";
  run.pue = 1.3;
  run.per = "epoch";
  in = resolve_inputs(c, &run);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->zone, "DE");
  EXPECT_EQ(in->pue, 1.3);
  EXPECT_EQ(in->pue_origin, "run.json");
  ASSERT_TRUE(in->unit.has_value());
  EXPECT_EQ(in->unit->unit, "epoch");

  c.region = "eu-west-1";
  c.pue = 1.1;
  in = resolve_inputs(c, &run);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->zone, "IE");
  EXPECT_EQ(in->zone_origin, "--region");
  EXPECT_EQ(in->pue, 1.1);

  c.pue = 4;
  EXPECT_FALSE(resolve_inputs(c, &run).ok());
  c.pue.reset();
  c.region = "us-west-9";
  EXPECT_FALSE(resolve_inputs(c, &run).ok());
  c.region.reset();
  c.signal = "median";
  EXPECT_FALSE(resolve_inputs(c, &run).ok());
  c.signal.reset();
  run.per.reset();
  c.work = 10;
  EXPECT_NE(resolve_inputs(c, &run).error().message().find("--work needs --per"),
            std::string::npos);
}

}  // namespace
}  // namespace carbonclock

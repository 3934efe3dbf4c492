// The use cases in process: shift and whatif across zones, plan across zones, and the same
// intensity for the same zone and time whichever name the zone is given through every use case.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "accounting/test_run.h"
#include "app/report.h"
#include "app/schedule.h"
#include "app/shift.h"
#include "app/store_access.h"
#include "app/test_support.h"
#include "common/units.h"
#include "regions/embedded_profile.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const SysTime kT0 = parse_utc("2026-03-02T00:00:00Z").value();

using testing::hourly;

class AppTest : public testing::UseCaseTest {
 protected:
  AppTest() : UseCaseTest("cc_app", kT0) {}
};

ShiftRequest flat_request(std::vector<ZoneSelection> zones, std::vector<Shifting> shiftings,
                          std::optional<Signal> signal = std::nullopt) {
  ShiftRequest r;
  r.title = "test";
  r.zones = std::move(zones);
  r.job = flat_profile("job", 2h, 2, 1h).value();
  r.requested_start_utc = kT0;
  r.shiftings = std::move(shiftings);
  r.signal = signal;
  return r;
}

TEST_F(AppTest, ShiftAcrossZonesPicksTheCleanestZoneAndTheCleanestShiftedPlan) {
  // ZA is dirty throughout; FR is clean but dirtier than ZA at 04:00-06:00? No: FR is clean at
  // the start, ZA gets very clean later, so spatial and spatio-temporal winners differ.
  import({hourly("FR", kT0, {50, 50, 50, 50, 50, 50, 50, 50}),
          hourly("ZA", kT0, {900, 900, 900, 900, 10, 10, 900, 900})});
  auto zones = parse_zone_list(std::nullopt, std::string("ZA"), "FR,za", true);
  ASSERT_TRUE(zones) << zones.error().message();
  ASSERT_EQ(zones->size(), 2u);  // "za" is ZA again
  auto shiftings = parse_shiftings("6h", "");
  ASSERT_TRUE(shiftings);
  AppContext c = ctx();
  auto r = shift_job(flat_request(*zones, *shiftings), c);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_FALSE(r->home_error()) << r->home_error()->message();
  EXPECT_DOUBLE_EQ(r->zones[0].baseline_g, 1800);  // ZA: 1 kWh × 900 × 2
  EXPECT_DOUBLE_EQ(r->zones[1].baseline_g, 100);   // FR
  ASSERT_TRUE(r->best_zone);
  EXPECT_EQ(r->zones[*r->best_zone].zone, "FR");
  ASSERT_TRUE(r->best_shifted[0]);
  EXPECT_EQ(r->zones[*r->best_shifted[0]].zone, "ZA");  // 2 × 10 beats FR's 100
  EXPECT_DOUBLE_EQ(r->zones[0].plans[0]->shifted_g, 20);
  EXPECT_EQ(r->zones[0].used.front().basis, IntensityBasis::kActual);
}

TEST_F(AppTest, WhatifOfAFreshRunFallsBackToTheEmbeddedProfileAndSaysSo) {
  // Regression: whatif failed for any fresh run (no stored data at the run's time).
  RunRecord run = testing::make_run(kT0, 1h, 5min, std::vector<double>(12, 0.1 * kJoulesPerKwh));
  run.zone = "DE";
  fs::create_directories(dir() / "run");
  ASSERT_TRUE(save_run(run, dir() / "run"));
  auto shiftings = parse_shiftings("", "50%");
  ASSERT_TRUE(shiftings);
  auto req = whatif_request((dir() / "run").string(), {}, *shiftings, 5min, {});
  ASSERT_TRUE(req) << req.error().message();
  ASSERT_EQ(req->zones.size(), 1u);
  EXPECT_EQ(req->zones[0].zone, "DE");
  AppContext c = ctx();
  auto r = shift_job(*req, c);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_FALSE(r->home_error()) << r->home_error()->message();
  const ZoneOutcome& de = r->zones[0];
  ASSERT_EQ(de.used.size(), 1u);
  EXPECT_EQ(de.used[0].basis, IntensityBasis::kEmbedded);
  // The embedded profile's March midnight value × 1.2 kWh.
  const double midnight = find_embedded_profile("DE")->at(3, 0);
  EXPECT_NEAR(de.baseline_g, 1.2 * midnight, 1e-3);
}

TEST_F(AppTest, PlanComparesTheOtherZones) {
  import({hourly("FR", kT0, {300, 300, 30, 300, 300, 300}),
          hourly("DE", kT0, {500, 500, 500, 500, 500, 50})});
  PlanRequest p;
  p.zone = "DE";
  p.zones = "FR";
  p.duration = "1h";
  p.energy_kwh = 1;
  p.schedule.flex_start = "5h";
  p.schedule.slot = "1h";
  AppContext c = ctx();
  auto r = plan_job(p, c);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->home.zone, "DE");
  EXPECT_EQ(r->start_utc(), kT0 + 5h);
  EXPECT_DOUBLE_EQ(r->home.expected_g, 50);
  ASSERT_EQ(r->others.size(), 1u);
  EXPECT_EQ(r->others[0].zone, "FR");
  EXPECT_FALSE(r->others[0].error);
  EXPECT_EQ(r->others[0].runs.front().start_utc, kT0 + 2h);
  EXPECT_DOUBLE_EQ(r->others[0].expected_g, 30);
  EXPECT_NEAR(r->others[0].saving_pct(), 90, 1e-9);
}

TEST_F(AppTest, EveryUseCaseGivesTheSameIntensityWhicheverNameTheZoneHas) {
  // Marginal data stored under the WattTime region; the user says us-west-1, US-CAL-CISO or
  // CAISO_NORTH. Regression: plan ignored it and shift said no series was stored.
  std::vector<double> moer{800, 800, 100, 800, 800, 800};
  import({hourly("CAISO_NORTH", kT0, moer, Signal::kMarginal, Factor::kDirect)});
  for (auto [region, zone] :
       std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>{
           {"us-west-1", std::nullopt},
           {std::nullopt, "US-CAL-CISO"},
           {std::nullopt, "us-cal-ciso"}}) {
    SCOPED_TRACE(region.value_or(zone.value_or("")));
    AppContext c = ctx();
    // shift: the oracle baseline at the requested start.
    auto zones = parse_zone_list(region, zone, "", true);
    ASSERT_TRUE(zones);
    auto shifted =
        shift_job(flat_request(*zones, *parse_shiftings("4h", ""), Signal::kMarginal), c);
    ASSERT_TRUE(shifted);
    ASSERT_FALSE(shifted->home_error()) << shifted->home_error()->message();
    EXPECT_DOUBLE_EQ(shifted->zones[0].baseline_g, 1600);
    EXPECT_DOUBLE_EQ(shifted->zones[0].plans[0]->shifted_g, 900);
    // plan: the clean hour is found.
    PlanRequest p;
    p.zone = zone;
    p.region = region;
    p.duration = "1h";
    p.energy_kwh = 1;
    p.schedule.flex_start = "5h";
    p.schedule.slot = "1h";
    p.schedule.signal = "marginal";
    auto plan = plan_job(p, c);
    ASSERT_TRUE(plan) << plan.error().message();
    EXPECT_EQ(plan->start_utc(), kT0 + 2h);
    EXPECT_DOUBLE_EQ(plan->home.expected_g, 100);
    EXPECT_EQ(plan->home.intensity.provenance_of(0).zone, "CAISO_NORTH");
    // report: the marginal headline rests on the same data.
    RunRecord run =
        testing::make_run(kT0 + 2h, 1h, 5min, std::vector<double>(12, kJoulesPerKwh / 12));
    if (region) run.region = *region;
    if (zone) run.zone = *zone;
    fs::remove_all(dir() / "run");
    fs::create_directories(dir() / "run");
    ASSERT_TRUE(save_run(run, dir() / "run"));
    ReportRequest rr;
    rr.run_dir = dir() / "run";
    auto report = build_report(rr, c);
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_EQ(report->account.headline_signal().signal, Signal::kMarginal);
    EXPECT_NEAR(report->account.operational_g(), 100, 1e-9);
  }
}

}  // namespace
}  // namespace carbonclock

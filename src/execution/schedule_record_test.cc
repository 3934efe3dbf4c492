#include "execution/schedule_record.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

const SysTime kT0 = parse_utc("2026-03-02T00:00:00Z").value();

RunRecord scheduled_run() {
  RunRecord run;
  run.id = "test";
  run.start_utc = kT0;
  run.end_utc = kT0 + 2h;
  run.timeline.bucket = 1h;
  run.timeline.devices.push_back(DeviceInfo{});
  // Hour 0: paused (idle energy 0.1 kWh, left out); hour 1: ran, 1 kWh.
  run.timeline.buckets.push_back({kT0, 3600, {0.1 * 3.6e6}});
  run.timeline.buckets.push_back({kT0 + 1h, 3600, {3.6e6}});
  run.schedule = nlohmann::json{
      {"requested_start_utc", format_utc(kT0)},
      {"running", {{{"start_utc", format_utc(kT0 + 1h)}, {"end_utc", format_utc(kT0 + 2h)}}}}};
  return run;
}

TEST(ScheduleRecordTest, SavingsAgainstRunningImmediately) {
  IntensitySeries actual;
  actual.zone = "DE";
  actual.source = "actuals";
  actual.points = {{kT0, 1h, 500, false}, {kT0 + 1h, 1h, 100, false}};
  auto s = schedule_savings(scheduled_run(), actual);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_NEAR(s->emitted_g, 100, 1e-9);    // 1 kWh at 100
  EXPECT_NEAR(s->immediate_g, 500, 1e-9);  // the same kWh at the requested start: 500
  EXPECT_NEAR(s->saved_g, 400, 1e-9);
  EXPECT_NEAR(s->saved_pct, 80, 1e-9);
  EXPECT_NEAR(s->paused_energy_j, 0.1 * 3.6e6, 1e-6);
}

TEST(ScheduleRecordTest, UncoveredIntensityIsAnError) {
  IntensitySeries actual;
  actual.zone = "DE";
  actual.points = {{kT0 + 1h, 1h, 100, false}};
  auto s = schedule_savings(scheduled_run(), actual);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("does not cover 2026-03-02T00:00:00Z"), std::string::npos)
      << s.error().message();
}

TEST(ScheduleRecordTest, RunJsonKeepsTheScheduleAndOldFilesStillLoad) {
  RunRecord run = scheduled_run();
  auto back = run_from_json(run_to_json(run), "x");
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(back->schedule);
  EXPECT_EQ(back->schedule->at("requested_start_utc"), format_utc(kT0));
  run.schedule.reset();
  auto old = run_from_json(run_to_json(run), "x");
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->schedule);
  EXPECT_FALSE(scheduled_running(*old));
}

}  // namespace
}  // namespace carbonclock

#include "shifting/slots.h"

#include <gtest/gtest.h>

#include "shifting/test_support.h"

namespace carbonclock {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

TEST(Slots, HourlyPointsUpsampleToTwelveEqualFiveMinuteSlots) {
  auto s = testing::slotted({300.5, 100.25}, hours(1));
  auto five =
      slot_series(series_from_values("Z", testing::t0(), hours(1), {300.5, 100.25}), minutes(5));
  ASSERT_TRUE(five.ok());
  ASSERT_EQ(five->size(), 24u);
  EXPECT_EQ(five->ug_per_kwh[0], 300'500'000);
  EXPECT_EQ(five->ug_per_kwh[11], 300'500'000);
  EXPECT_EQ(five->ug_per_kwh[12], 100'250'000);
  EXPECT_TRUE(five->window_covered(0, 24));
  EXPECT_EQ(s.size(), 2u);
}

TEST(Slots, SlotSpanningTwoPointsIsTheTimeWeightedMean) {
  // 5-minute points, 15-minute slots: (100 + 200 + 600) / 3 = 300.
  auto s =
      slot_series(series_from_values("Z", testing::t0(), minutes(5), {100, 200, 600}), minutes(15));
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ(s->ug_per_kwh[0], 300'000'000);
}

TEST(Slots, PartlyCoveredSlotIsUncoveredNeverZero) {
  auto s =
      slot_series(series_from_values("Z", testing::t0(), minutes(5), {100, NAN, 600}), minutes(15));
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->covered[0]);
  EXPECT_FALSE(s->window_covered(0, 1));
  auto fine = testing::slotted({100, NAN, 600});
  EXPECT_TRUE(fine.window_covered(0, 1));
  EXPECT_FALSE(fine.window_covered(0, 2));
  EXPECT_TRUE(fine.window_covered(2, 3));
  EXPECT_FALSE(fine.window_covered(2, 4));  // past the end
}

TEST(Slots, JobDurationRoundsToNearestSlotAtLeastOne) {
  EXPECT_EQ(job_slots(minutes(18), minutes(5)), 4u);  // 3.6 → 4 (DenseNet 121, 0.3 h)
  EXPECT_EQ(job_slots(minutes(12), minutes(5)), 2u);  // 2.4 → 2
  EXPECT_EQ(job_slots(std::chrono::seconds(150), minutes(5)), 1u);  // 0.5 → 1 (halves up)
  EXPECT_EQ(job_slots(std::chrono::seconds(10), minutes(5)), 1u);   // at least one
  EXPECT_EQ(job_slots(hours(6), minutes(5)), 72u);
}

TEST(Slots, FlatProfileSpreadsEnergyEvenly) {
  auto p = flat_profile("BERT finetune", hours(6), 3.1, minutes(5));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->slots(), 72u);
  EXPECT_DOUBLE_EQ(p->energy_kwh[0], 3.1 / 72);
  EXPECT_NEAR(p->total_kwh(), 3.1, 1e-12);
  EXPECT_TRUE(p->flat);
  EXPECT_FALSE(flat_profile("x", Nanos(0), 1, minutes(5)).ok());
  EXPECT_FALSE(flat_profile("x", hours(1), -1, minutes(5)).ok());
}

TEST(Slots, MeasuredProfileRebinsBucketsToJobRelativeSlots) {
  // A 10-minute run starting 2.5 minutes into a 5-minute bucket; 1-minute buckets would be
  // more usual, 5-minute ones make the split visible.
  EnergyTimeline tl;
  tl.bucket = minutes(5);
  tl.devices.push_back(DeviceInfo{"gpu0", DeviceKind::kGpu, "gpu", Method::kCounter, "", ""});
  SysTime start = testing::t0() + std::chrono::seconds(150);
  SysTime end = start + minutes(10);
  tl.buckets.push_back({testing::t0(), 150, {3.6e6 * 1.0}});                // 1 kWh in 2.5 min
  tl.buckets.push_back({testing::t0() + minutes(5), 300, {3.6e6 * 2.0}});   // 2 kWh
  tl.buckets.push_back({testing::t0() + minutes(10), 150, {3.6e6 * 4.0}});  // 4 kWh
  auto p = measured_profile("run", tl, start, end, minutes(5));
  ASSERT_TRUE(p.ok()) << p.error().message();
  ASSERT_EQ(p->slots(), 2u);
  // Job slot 0 = [start, start+5m): all of bucket 0 and the first half of bucket 1.
  EXPECT_NEAR(p->energy_kwh[0], 1.0 + 1.0, 1e-12);
  EXPECT_NEAR(p->energy_kwh[1], 1.0 + 4.0, 1e-12);
  EXPECT_FALSE(p->flat);
}

TEST(Slots, MeasuredProfileWithoutTimelineIsAnError) {
  EnergyTimeline empty;
  auto p = measured_profile("r1", empty, testing::t0(), testing::t0() + hours(1), minutes(5));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message().find("empty"), std::string::npos);
}

TEST(Slots, WindowsAreAbsoluteOrRelative) {
  auto w = parse_windows("6h,25%,100%,1h30m");
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 4u);
  EXPECT_EQ(window_slots((*w)[0], 4, minutes(5)), 72u);
  EXPECT_EQ(window_slots((*w)[1], 4, minutes(5)), 1u);
  EXPECT_EQ(window_slots((*w)[1], 6, minutes(5)), 2u);  // 1.5 → 2
  EXPECT_EQ(window_slots((*w)[2], 72, minutes(5)), 72u);
  EXPECT_EQ(window_slots((*w)[3], 1, minutes(5)), 18u);
  EXPECT_EQ((*w)[1].label, "25%");
  EXPECT_FALSE(parse_window("-5%").ok());
  EXPECT_FALSE(parse_window("abc").ok());
  EXPECT_FALSE(parse_windows("6h,,12h").ok());
}

}  // namespace
}  // namespace carbonclock

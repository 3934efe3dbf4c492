#include "forecasting/history.h"

#include <gtest/gtest.h>

#include "forecasting/test_series.h"

namespace carbonclock {
namespace {

using testing::monday;

IntensitySeries series_of(const std::vector<std::pair<int, int>>& start_and_minutes) {
  IntensitySeries s;
  s.zone = "Z";
  for (auto [start_min, minutes] : start_and_minutes) {
    s.points.push_back({monday() + std::chrono::minutes(start_min), std::chrono::minutes(minutes),
                        100.0 + start_min, false});
  }
  return s;
}

TEST(NativeSlot, IsTheMostCommonPointDuration) {
  auto slot = native_slot(series_of({{0, 30}, {30, 30}, {60, 15}, {75, 15}, {90, 30}}));
  ASSERT_TRUE(slot.ok()) << slot.error().message();
  EXPECT_EQ(*slot, std::chrono::minutes(30));
  // A tie goes to the shorter duration.
  auto tie = native_slot(series_of({{0, 30}, {30, 15}}));
  ASSERT_TRUE(tie.ok());
  EXPECT_EQ(*tie, std::chrono::minutes(15));
}

TEST(NativeSlot, MustDivideADay) {
  auto slot = native_slot(series_of({{0, 7}, {7, 7}}));
  ASSERT_FALSE(slot.ok());
  EXPECT_NE(slot.error().message().find("does not divide one day"), std::string::npos)
      << slot.error().message();
  EXPECT_FALSE(native_slot(IntensitySeries{}).ok());
}

TEST(HistoryFromSeries, KeepsTheNativeSlotAndMarksGapsAsNaN) {
  // Hours 0, 1 and 3: hour 2 is a gap.
  auto h = history_from_series(series_of({{0, 60}, {60, 60}, {180, 60}}));
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_EQ(h->slot, std::chrono::hours(1));
  ASSERT_EQ(h->size(), 4u);
  EXPECT_DOUBLE_EQ(h->g_per_kwh[0], 100.0);
  EXPECT_DOUBLE_EQ(h->g_per_kwh[1], 160.0);
  EXPECT_TRUE(std::isnan(h->g_per_kwh[2]));
  EXPECT_FALSE(h->observed(2));
  EXPECT_DOUBLE_EQ(h->g_per_kwh[3], 280.0);
  EXPECT_EQ(h->end_utc(), monday() + std::chrono::hours(4));
}

TEST(HistoryFromSeries, AveragesFinerPointsIntoALongerSlot) {
  auto h = history_from_series(series_of({{0, 30}, {30, 30}}), std::chrono::hours(1));
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_DOUBLE_EQ(h->g_per_kwh[0], 115.0);  // (100 + 130) / 2
  EXPECT_FALSE(history_from_series(series_of({{0, 30}}), std::chrono::minutes(7)).ok());
}

}  // namespace
}  // namespace carbonclock

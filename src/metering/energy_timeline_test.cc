#include "metering/energy_timeline.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

std::vector<DeviceInfo> two_devices() {
  return {{"a", DeviceKind::kGpu, "", Method::kCounter, "", ""},
          {"b", DeviceKind::kCpu, "", Method::kEstimate, "", ""}};
}

TEST(TimelineBuilder, SplitsEnergyAcrossBucketBoundaryInProportionToTime) {
  // Start 00:04:00, one reading at 00:06:00 with 120 J on device a: 60 s in each bucket.
  TimelineBuilder b(parse_utc("2024-01-01T00:04:00Z").value(), 5min, two_devices());
  b.add(0s, std::vector<double>{0, 0});
  b.add(120s, std::vector<double>{120, 30});
  const auto& t = b.timeline();
  ASSERT_EQ(t.buckets.size(), 2u);
  EXPECT_EQ(format_utc(t.buckets[0].start_utc), "2024-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(t.buckets[1].start_utc), "2024-01-01T00:05:00Z");
  EXPECT_DOUBLE_EQ(t.buckets[0].energy_j[0], 60);
  EXPECT_DOUBLE_EQ(t.buckets[1].energy_j[0], 60);
  EXPECT_DOUBLE_EQ(t.buckets[0].energy_j[1], 15);
  EXPECT_DOUBLE_EQ(t.buckets[0].active_s, 60);
  EXPECT_DOUBLE_EQ(t.total_j(), 150);
}

TEST(TimelineBuilder, LongGapSpansManyBucketsAndNothingIsLost) {
  TimelineBuilder b(parse_utc("2024-01-01T00:02:30Z").value(), 5min, two_devices());
  b.add(0s, std::vector<double>{0, 0});
  b.add(3600s, std::vector<double>{3600, 0});
  const auto& t = b.timeline();
  ASSERT_EQ(t.buckets.size(), 13u);
  EXPECT_DOUBLE_EQ(t.buckets[0].energy_j[0], 150);
  EXPECT_DOUBLE_EQ(t.buckets[1].energy_j[0], 300);
  EXPECT_DOUBLE_EQ(t.buckets[12].energy_j[0], 150);
  EXPECT_NEAR(t.total_j(), 3600, 1e-9);
}

TEST(TimelineBuilder, DecreasingCounterNeverAddsNegativeEnergy) {
  TimelineBuilder b(parse_utc("2024-01-01T00:00:00Z").value(), 5min, two_devices());
  b.add(0s, std::vector<double>{0, 0});
  b.add(10s, std::vector<double>{50, 0});
  b.add(20s, std::vector<double>{40, 0});
  b.add(30s, std::vector<double>{60, 0});
  EXPECT_DOUBLE_EQ(b.timeline().total_j(), 60);
}

TEST(EnergyTimeline, DropDeviceRemovesItsColumn) {
  TimelineBuilder b(parse_utc("2024-01-01T00:00:00Z").value(), 5min, two_devices());
  b.add(0s, std::vector<double>{0, 0});
  b.add(10s, std::vector<double>{5, 7});
  auto t = b.timeline();
  t.drop_device(0);
  ASSERT_EQ(t.devices.size(), 1u);
  EXPECT_EQ(t.devices[0].id, "b");
  EXPECT_DOUBLE_EQ(t.total_j(), 7);
}

}  // namespace
}  // namespace carbonclock

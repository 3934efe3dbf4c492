// The energy timeline: per device, joules per UTC-aligned bucket. Built by the meter (or
// replayed from a journal), read by accounting, shifting and reports.
#pragma once

#include <span>
#include <vector>

#include "common/time.h"
#include "sensors/sensor.h"

namespace carbonclock {

struct TimelineBucket {
  SysTime start_utc;             ///< aligned to a multiple of the bucket length since the epoch
  double active_s = 0;           ///< seconds of the run inside this bucket (< bucket at the ends)
  std::vector<double> energy_j;  ///< one entry per device, same order as EnergyTimeline::devices
};

struct EnergyTimeline {
  Nanos bucket{std::chrono::minutes(5)};
  std::vector<DeviceInfo> devices;
  std::vector<TimelineBucket> buckets;  ///< consecutive, no holes

  /// Total energy per device over all buckets.
  std::vector<double> device_totals_j() const;
  /// Total energy over all devices and buckets.
  double total_j() const;
  /// Removes device `index` from devices and from every bucket.
  void drop_device(size_t index);
};

/// Builds a timeline from cumulative readings. Energy measured between two readings is
/// spread evenly over the wall-clock time between them and split across bucket boundaries in
/// proportion to time. Offsets are monotonic durations since the run's start; the start's
/// wall-clock time only labels buckets.
class TimelineBuilder {
 public:
  TimelineBuilder(SysTime start_utc, Nanos bucket, std::vector<DeviceInfo> devices);

  /// Adds a reading taken `offset` after the start: cumulative joules per device since the
  /// start. Readings must come in increasing offset order; an older one is ignored. A
  /// cumulative value lower than the previous one is treated as no energy (never negative).
  void add(Nanos offset, std::span<const double> cumulative_j);

  /// Offset of the last reading.
  Nanos last_offset() const { return last_offset_; }
  /// The cumulative values of the last reading.
  const std::vector<double>& last_cumulative_j() const { return last_; }
  /// The timeline so far.
  const EnergyTimeline& timeline() const { return timeline_; }

 private:
  TimelineBucket& bucket_at(int64_t index);

  SysTime start_utc_;
  EnergyTimeline timeline_;
  int64_t first_index_ = 0;
  Nanos last_offset_{0};
  std::vector<double> last_;
  std::vector<double> delta_;
  bool any_ = false;
};

}  // namespace carbonclock

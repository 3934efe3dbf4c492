#include "metering/energy_timeline.h"

#include <algorithm>
#include <numeric>

namespace carbonclock {

std::vector<double> EnergyTimeline::device_totals_j() const {
  std::vector<double> totals(devices.size(), 0.0);
  for (const auto& b : buckets) {
    for (size_t i = 0; i < totals.size() && i < b.energy_j.size(); ++i) totals[i] += b.energy_j[i];
  }
  return totals;
}

double EnergyTimeline::total_j() const {
  auto totals = device_totals_j();
  return std::accumulate(totals.begin(), totals.end(), 0.0);
}

void EnergyTimeline::drop_device(size_t index) {
  if (index >= devices.size()) return;
  devices.erase(devices.begin() + static_cast<ptrdiff_t>(index));
  for (auto& b : buckets) {
    if (index < b.energy_j.size())
      b.energy_j.erase(b.energy_j.begin() + static_cast<ptrdiff_t>(index));
  }
}

TimelineBuilder::TimelineBuilder(SysTime start_utc, Nanos bucket, std::vector<DeviceInfo> devices)
    : start_utc_(start_utc), last_(devices.size(), 0.0), delta_(devices.size(), 0.0) {
  timeline_.bucket = bucket;
  timeline_.devices = std::move(devices);
  first_index_ = floor_to(start_utc_, bucket).time_since_epoch() / bucket;
}

TimelineBucket& TimelineBuilder::bucket_at(int64_t index) {
  auto& buckets = timeline_.buckets;
  while (first_index_ + static_cast<int64_t>(buckets.size()) <= index) {
    TimelineBucket b;
    b.start_utc = SysTime{(first_index_ + static_cast<int64_t>(buckets.size())) * timeline_.bucket};
    b.energy_j.assign(timeline_.devices.size(), 0.0);
    buckets.push_back(std::move(b));
  }
  return buckets[static_cast<size_t>(index - first_index_)];
}

void TimelineBuilder::add(Nanos offset, std::span<const double> cumulative_j) {
  const size_t n = timeline_.devices.size();
  if (!any_) {
    bucket_at(first_index_);  // the run's first bucket exists even if nothing is measured
    any_ = true;
  }
  if (offset <= last_offset_) {
    // Same instant: only a raise of the cumulative values matters; attribute it to the instant.
    if (offset < last_offset_) return;
  }
  for (size_t i = 0; i < n; ++i) {
    delta_[i] = std::max(0.0, cumulative_j[i] - last_[i]);
    last_[i] = std::max(last_[i], cumulative_j[i]);
  }
  const SysTime from = start_utc_ + last_offset_;
  const SysTime to = start_utc_ + offset;
  const Nanos bucket = timeline_.bucket;
  if (to == from) {
    auto& b = bucket_at(floor_to(from, bucket).time_since_epoch() / bucket);
    for (size_t i = 0; i < n; ++i) b.energy_j[i] += delta_[i];
    return;
  }
  const double span_s = to_seconds(to - from);
  SysTime cursor = from;
  while (cursor < to) {
    SysTime bstart = floor_to(cursor, bucket);
    SysTime bend = std::min(bstart + bucket, to);
    double share_s = to_seconds(bend - cursor);
    auto& b = bucket_at(bstart.time_since_epoch() / bucket);
    b.active_s += share_s;
    double fraction = share_s / span_s;
    for (size_t i = 0; i < n; ++i) b.energy_j[i] += delta_[i] * fraction;
    cursor = bend;
  }
  last_offset_ = offset;
}

}  // namespace carbonclock

#include "forecasting/history.h"

#include <algorithm>
#include <limits>
#include <map>

namespace carbonclock {

Status check_forecast_slot(Nanos slot) {
  constexpr Nanos kDay = std::chrono::hours(24);
  if (slot <= Nanos(0) || slot > kDay || kDay.count() % slot.count() != 0) {
    return make_error("a forecast slot of {} does not divide one day", format_duration(slot));
  }
  return Status::ok_status();
}

Result<Nanos> native_slot(const IntensitySeries& series) {
  if (series.points.empty()) {
    return make_error("zone {} {}/{}: no intensity points", series.zone, to_string(series.signal),
                      to_string(series.factor));
  }
  std::map<int64_t, size_t> counts;
  for (const IntensityPoint& p : series.points) ++counts[p.duration.count()];
  auto best = counts.begin();
  for (auto it = counts.begin(); it != counts.end(); ++it) {
    if (it->second > best->second) best = it;  // map order: the shorter duration wins ties
  }
  Nanos slot{best->first};
  if (Status s = check_forecast_slot(slot); !s) {
    return s.error().with_context(fmt::format("zone {}: the series' own granularity", series.zone));
  }
  return slot;
}

Result<SlotHistory> history_from_series(const IntensitySeries& series, std::optional<Nanos> slot) {
  Nanos length{};
  if (slot) {
    if (Status s = check_forecast_slot(*slot); !s) return s.error();
    length = *slot;
  } else {
    auto native = native_slot(series);
    if (!native) return native.error();
    length = *native;
  }
  auto slotted = slot_series(series, length);
  if (!slotted) return slotted.error();
  return history_from_slotted(*slotted);
}

SlotHistory history_from_slotted(const SlottedIntensity& slotted) {
  SlotHistory h;
  h.info = {slotted.zone, slotted.signal, slotted.factor, slotted.source};
  h.first_slot_utc = slotted.first_slot_utc;
  h.slot = slotted.slot;
  h.g_per_kwh.resize(slotted.size());
  for (size_t i = 0; i < slotted.size(); ++i) {
    h.g_per_kwh[i] =
        slotted.covered[i] ? slotted.g_per_kwh(i) : std::numeric_limits<double>::quiet_NaN();
  }
  return h;
}

}  // namespace carbonclock

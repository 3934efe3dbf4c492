// A zone's intensity history at the series' own granularity: consecutive slots of one length,
// NaN where the data has a gap. The forecasting models read nothing else.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "grid/series.h"
#include "shifting/slots.h"

namespace carbonclock {

/// What a forecast is about: the zone and series its history came from.
struct SeriesInfo {
  std::string zone;
  Signal signal = Signal::kAverage;
  Factor factor = Factor::kLifecycle;
  std::string source;
};

struct SlotHistory {
  SeriesInfo info;
  SysTime first_slot_utc;
  Nanos slot = std::chrono::hours(1);
  std::vector<double> g_per_kwh;  ///< per slot; NaN where the slot is not fully covered

  size_t size() const { return g_per_kwh.size(); }
  SysTime slot_start(size_t i) const { return first_slot_utc + slot * static_cast<int64_t>(i); }
  SysTime end_utc() const { return slot_start(size()); }
  bool observed(size_t i) const { return !std::isnan(g_per_kwh[i]); }
};

/// The series' own granularity: the most common point duration (the shorter one on ties). Error
/// for an empty series, or when that duration does not divide one day (the models need whole
/// slots per day and per week).
Result<Nanos> native_slot(const IntensitySeries& series);

/// Error unless `slot` is positive and divides one day.
Status check_forecast_slot(Nanos slot);

/// The series cut into slots of `slot` (default: native_slot), each the time-weighted mean of the
/// points over it (shifting/slots.h's rule); slots not fully covered are gaps (NaN).
Result<SlotHistory> history_from_series(const IntensitySeries& series,
                                        std::optional<Nanos> slot = std::nullopt);

/// A slotted series as a history (µg/kWh back to g/kWh; uncovered slots become NaN).
SlotHistory history_from_slotted(const SlottedIntensity& slotted);

}  // namespace carbonclock

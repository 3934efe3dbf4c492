// The grid's data model: carbon-intensity series as step functions. Shared contract of the
// grid domain (store, importers, live sources, embedded profile, query API).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/time.h"

namespace carbonclock {

/// Marginal (consequential, e.g. WattTime MOER) or average (attributional, e.g. Electricity
/// Maps). Never mixed silently.
enum class Signal { kMarginal, kAverage };
/// Lifecycle (LCA, includes upstream emissions) or direct (combustion only).
enum class Factor { kLifecycle, kDirect };

const char* to_string(Signal s);
const char* to_string(Factor f);
Result<Signal> parse_signal(std::string_view text);  ///< "marginal" | "average"
Result<Factor> parse_factor(std::string_view text);  ///< "lifecycle" | "direct"

/// One step: the value holds on [start, start + duration).
struct IntensityPoint {
  SysTime start;
  Nanos duration{};
  double g_per_kwh = 0;
  bool estimated = false;
  SysTime end() const { return start + duration; }
};

/// A zone's series for one signal and factor from one source. Points are sorted by start and
/// do not overlap; they may be irregular and may have gaps.
struct IntensitySeries {
  std::string zone;  ///< grid zone id: "US-CAL-CISO", "DE", "CAISO_NORTH"
  Signal signal = Signal::kAverage;
  Factor factor = Factor::kLifecycle;
  std::string source;  ///< where it came from: "electricitymaps-csv", "watttime-api", ...
  std::optional<SysTime> issued_at;  ///< set for forecasts: when the forecast was made
  std::vector<IntensityPoint> points;
};

}  // namespace carbonclock

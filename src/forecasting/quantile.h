// Which value of a forecast slot a planner plans on: the point forecast or a quantile of its
// prediction interval. Its own header so that the planning chain's options need no models.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/error.h"

namespace carbonclock {

/// Which value of a forecast slot a planner plans on.
enum class ForecastQuantile : uint8_t { kPoint, kP10, kP50, kP90 };
const char* to_string(ForecastQuantile q);  ///< "point" | "p10" | "p50" | "p90"
/// "point" (also "mean", "none"), "p10", "p50", "p90".
Result<ForecastQuantile> parse_forecast_quantile(std::string_view text);

}  // namespace carbonclock

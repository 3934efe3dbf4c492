// Decision quality: a shifting plan chosen on a forecast and priced on the actuals, against the
// oracle that chose on the actuals. captured_pct is the share of the oracle's saving a real
// scheduler, knowing only the forecast, would have kept.
#pragma once

#include <optional>
#include <vector>

#include "common/error.h"
#include "forecasting/forecaster.h"
#include "shifting/plan.h"
#include "shifting/slots.h"

namespace carbonclock {

/// 100 × (baseline − realised) / (baseline − oracle); nullopt when baseline == oracle (nothing to
/// capture).
std::optional<double> captured_pct(double baseline_g, double realised_g, double oracle_g);

/// The forecast's `q` values as a slotted intensity for the shifting planners: `count` slots of
/// `slot` from `from`, each the time-weighted mean of the forecast slots over it (slots.h's rule).
/// Error when [from, from + count × slot) is not inside the forecast.
Result<SlottedIntensity> planning_intensity(const Forecast& forecast, ForecastQuantile q,
                                            SysTime from, size_t count, Nanos slot);

struct ForecastPlanOutcome {
  double baseline_g = 0;      ///< the job at the requested start, on actuals
  double realised_g = 0;      ///< the slots chosen on the forecast, on actuals
  double oracle_g = 0;        ///< the slots chosen on the actuals
  size_t pauses = 0;          ///< of the plan chosen on the forecast
  std::vector<size_t> slots;  ///< chosen on the forecast, as indices into the actuals

  std::optional<double> captured_pct() const {
    return carbonclock::captured_pct(baseline_g, realised_g, oracle_g);
  }
};

/// Runs `oracle.algorithm` for `job` over `planning` (its slot 0 is actual slot oracle.start_slot;
/// it holds at least K + N slots) and prices the chosen slots on `actual`. `oracle` is the same
/// plan made on `actual` (make_plan). Errors as make_plan on `planning`.
Result<ForecastPlanOutcome> plan_on_forecast(const JobProfile& job, const SlottedIntensity& actual,
                                             const Plan& oracle, const SlottedIntensity& planning);

}  // namespace carbonclock

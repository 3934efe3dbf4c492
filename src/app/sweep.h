// Use case: `sweep`, the paper's evaluation grid (jobs × zones × requested starts × windows ×
// both algorithms) on the stored series (an oracle: the stored series is the future). The
// series come from the intensity provider (stored actuals only, under any name of each zone).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/context.h"
#include "shifting/sweep.h"
#include "shifting/sweep_summary.h"

namespace carbonclock {

struct SweepRequest {
  std::string jobs = "paper";  ///< "paper" or a CSV file name,duration_h,energy_kwh
  std::string zones;           ///< comma-separated, or "all" (every zone with stored actuals)
  std::string windows = "6h,12h,18h,24h,25%,50%,75%,100%";
  std::string starts_file;  ///< one UTC time a line
  std::string every;        ///< a start every STEP
  std::optional<int> starts_per_month;
  std::string from, to;  ///< bounds of the data used
  std::optional<Signal> signal;
  std::optional<Factor> factor;
  Nanos slot = kDefaultSlot;
  std::string db;
};

/// Everything a sweep runs on, loaded and checked.
struct SweepInputs {
  std::vector<SweepJob> jobs;
  std::vector<SweepZone> zones;
  std::vector<ShiftWindow> windows;
  SweepLabels labels;
};

/// Parses the request and loads each zone's series. Errors: bad options or files, an unknown
/// zone, a zone without stored data.
Result<SweepInputs> prepare_sweep(const SweepRequest& request, AppContext& ctx);

/// Runs the grid on both cores, handing the results to `sink` in blocks in `order` (memory stays
/// bounded whatever the output's size). Progress goes to ctx.observer.
Status run_sweep_streaming(const SweepInputs& inputs, Nanos slot, SweepOrder order, AppContext& ctx,
                           SweepSink& sink);

}  // namespace carbonclock

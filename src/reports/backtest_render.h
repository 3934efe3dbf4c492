// `backtest` outputs: CSV rows (the columns issue 14 fixes), the Markdown tables in the paper's
// layout (Tables 4 and 5) with realised and oracle reductions side by side and the captured
// share, and a JSON summary.
#pragma once

#include <string>
#include <vector>

#include "app/backtest.h"

namespace carbonclock {

/// job,zone,start_utc,window,algorithm,forecast,baseline_g,realised_g,oracle_g,captured_pct,pauses
std::string backtest_csv_header();

/// Appends one CSV line per row (captured_pct empty when baseline == oracle).
void append_backtest_csv(const BacktestRun& run, const std::vector<BacktestRow>& rows,
                         std::string& out);

/// Per algorithm a table of jobs × windows: "realised / oracle (captured %)" reductions, the
/// mean captured share per job and overall, then per zone what served the forecasts.
std::string backtest_markdown(const BacktestRun& run);

/// The same means as one JSON document.
std::string backtest_json(const BacktestRun& run);

}  // namespace carbonclock

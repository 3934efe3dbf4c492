// Use case: the carbon account of a measured run (rebuilt from its journal if carbonclock
// died), with what the HTML report needs beyond it, and the savings of a scheduled run
// recomputed from stored actuals once they exist.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "accounting/accounting.h"
#include "app/context.h"
#include "metering/run_record.h"

namespace carbonclock {

struct ReportRequest {
  std::filesystem::path run_dir;
  AccountingChoices choices;  ///< zone, PUE, signal, functional unit, embodied (defaults loaded)
  std::string db;             ///< --db; empty: the default store when it exists
  bool charts = false;        ///< also compute the per-zone and per-start-hour comparisons
};

struct ReportData {
  RunRecord run;
  CarbonAccount account;
  std::filesystem::path run_dir;
  std::vector<ZoneEmissions> by_zone;  ///< with charts: the job in every catalogued zone
  std::vector<double> by_hour;         ///< with charts: started at each UTC hour of its day
};

/// Loads the run (or recovers it from its journal), resolves the zone and accounting inputs,
/// prices it through the intensity provider, and refreshes a scheduled run's savings from
/// stored actuals. A run recovered from its journal is recorded in the history the first time
/// it is reported. Errors: no run there, bad options, no intensity at all for the zone.
Result<ReportData> build_report(const ReportRequest& request, AppContext& ctx);

}  // namespace carbonclock

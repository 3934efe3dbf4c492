// The run history the grid store keeps beside the grid series: one row per measured run with
// its energy and emissions (headline signal), listed by `carbonclock history`. Pure data; the
// store (grid/store.h) reads and writes it, accounting/history.h builds entries from runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/time.h"

namespace carbonclock {

struct HistoryEntry {
  std::string run_id;
  SysTime start_utc;
  double duration_s = 0;
  double energy_kwh = 0;     ///< IT energy
  double operational_g = 0;  ///< headline signal, PUE applied
  double embodied_g = 0;
  std::string signal;  ///< "marginal" | "average"
  std::string factor;  ///< "lifecycle" | "direct" | "mixed"
  std::string zone;
  double pue = 1;
  double stored_share = 0;  ///< share of energy priced by imported/fetched data
  std::vector<std::string> tags;
  std::string run_dir;  ///< absolute path of the run directory
  std::string command;
  std::optional<int> exit_code;  ///< the job's; unset when unknown (killed mid-run)
  bool recovered = false;        ///< rebuilt from the journal after carbonclock died
};

/// Which runs to list: started in [since, until) (unbounded where unset), carrying `tag`.
struct HistoryFilter {
  std::optional<SysTime> since;
  std::optional<SysTime> until;
  std::optional<std::string> tag;
};

}  // namespace carbonclock

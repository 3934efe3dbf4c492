// Run history: every run's energy and emissions in the grid store's SQLite database, in tables
// of its own (run_history, run_history_tags; created if missing), listed by `carbonclock
// history` with totals per month and per tag.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/time.h"

namespace carbonclock {

class GridStore;
struct CarbonAccount;
struct RunRecord;

struct HistoryEntry {
  std::string run_id;
  SysTime start_utc;
  double duration_s = 0;
  double energy_kwh = 0;     ///< IT energy
  double operational_g = 0;  ///< headline signal, PUE applied
  double embodied_g = 0;
  std::string signal;  ///< "marginal" | "average"
  std::string zone;
  double pue = 1;
  double stored_share = 0;  ///< share of energy priced by imported/fetched data
  std::vector<std::string> tags;
  std::string run_dir;
  std::string command;
};

/// The entry for a run and its account.
HistoryEntry history_entry(const RunRecord& run, const CarbonAccount& account,
                           const std::string& run_dir);

/// Inserts or replaces the run (by run_id) and its tags, in one transaction.
Status record_run(GridStore& store, const HistoryEntry& entry);

/// Runs started at or after `since` (all when unset) carrying `tag` (all when unset), oldest
/// first.
Result<std::vector<HistoryEntry>> list_runs(GridStore& store, std::optional<SysTime> since,
                                            std::optional<std::string> tag);

struct HistoryTotals {
  int runs = 0;
  double energy_kwh = 0;
  double operational_g = 0;
  double embodied_g = 0;
};

/// Totals keyed by the UTC month of each run's start ("2026-03").
std::map<std::string, HistoryTotals> totals_by_month(const std::vector<HistoryEntry>& entries);
/// Totals keyed by tag (a run with two tags counts in both; untagged runs under "(untagged)").
std::map<std::string, HistoryTotals> totals_by_tag(const std::vector<HistoryEntry>& entries);

}  // namespace carbonclock

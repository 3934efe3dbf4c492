// Run history entries: what the store's run history (grid/run_history.h) keeps of a run and
// its account, and totals per month and per tag. Totals are kept apart per signal (marginal
// and average grams are never added together).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "grid/run_history.h"

namespace carbonclock {

struct CarbonAccount;
struct RunRecord;

/// The entry for a run and its account. `run_dir` is made absolute.
HistoryEntry history_entry(const RunRecord& run, const CarbonAccount& account,
                           const std::string& run_dir);

/// Signal of a history entry whose run could not be priced (its zone has no intensity for its
/// time): measured energy, no grams. Totals keep it apart like any signal.
inline constexpr const char* kUnpricedSignal = "unpriced";

/// The entry for a run that could not be priced: its energy, zone, tags and exit code; signal
/// kUnpricedSignal and zero grams (renderers print "not priced", never 0 g).
HistoryEntry unpriced_history_entry(const RunRecord& run, const std::string& zone,
                                    const std::string& run_dir);

struct HistoryTotals {
  int runs = 0;
  double energy_kwh = 0;
  double operational_g = 0;
  double embodied_g = 0;
};

/// Totals per key, then per signal ("marginal" | "average").
using TotalsBySignal = std::map<std::string, std::map<std::string, HistoryTotals>>;

/// Totals keyed by the UTC month of each run's start ("2026-03").
TotalsBySignal totals_by_month(const std::vector<HistoryEntry>& entries);
/// Totals keyed by tag (a run with two tags counts in both; untagged runs under "(untagged)").
TotalsBySignal totals_by_tag(const std::vector<HistoryEntry>& entries);

}  // namespace carbonclock

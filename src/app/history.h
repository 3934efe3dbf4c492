// Use case: the runs recorded in the store, with totals per month and per tag (per signal).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "accounting/history.h"
#include "app/context.h"

namespace carbonclock {

struct HistoryRequest {
  std::string since, until, tag, db;  ///< as typed; empty: unbounded / any
};

struct HistoryResult {
  std::vector<HistoryEntry> runs;
  TotalsBySignal by_month;
  TotalsBySignal by_tag;
  std::string note;  ///< why there is nothing ("no grid store at ...")
};

/// Lists the recorded runs in [since, until) carrying `tag`. Errors: a malformed time, an
/// unreadable store.
Result<HistoryResult> list_history(const HistoryRequest& request, AppContext& ctx);

}  // namespace carbonclock

// `history` outputs: text, CSV (one row per run) and JSON (schemas/history.schema.json).
#pragma once

#include <string>

#include "app/history.h"
#include "reports/format.h"

namespace carbonclock {

/// Format kText, kCsv or kJson. Totals are kept per signal.
std::string render_history(const HistoryResult& history, Format format);

}  // namespace carbonclock

// Sweep outputs: CSV rows (one per job × zone × start × window × algorithm), the paper's
// tables in Markdown (mean reduction per job and window, averaged over zones), and JSON rows.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shifting/sweep.h"
#include "shifting/sweep_summary.h"

namespace carbonclock {

/// The CSV header line (with newline).
std::string sweep_csv_header();

/// Appends the cell's rows: for each start (zone order), window, algorithm
/// (flexible-start, then pause-resume); skipped starts have no row. Pauses are 0 for
/// flexible-start.
void append_sweep_csv(const SweepCell& cell, const SweepLabels& labels, std::string& out);

/// The cell's rows as JSON objects (same fields as the CSV, plus the chosen FS start).
void append_sweep_json(const SweepCell& cell, const SweepLabels& labels,
                       nlohmann::ordered_json& rows);

/// The JSON document (schemas/sweep.schema.json): the series each zone used, the slot, the
/// skipped counts and every cell's rows (cells in job × zone order; unset cells are skipped).
std::string sweep_json(std::span<const SweepZone> zones, Nanos slot, const SweepSummary& summary,
                       std::span<const std::optional<SweepCell>> cells, const SweepLabels& labels);

/// The paper's layout: one table per window, a row per job with the mean Flexible Start and
/// Pause and Resume reductions and P&R pauses per hour; with `by_zone`, a table per window
/// with a row per job and zone as well. Starts with a header naming the series used, the
/// starts and the skipped counts.
std::string sweep_markdown(const SweepSummary& summary, const SweepLabels& labels, bool by_zone);

}  // namespace carbonclock

// Sweep outputs: CSV rows (one per job × zone × start × window × algorithm), the paper's
// tables in Markdown (mean reduction per job and window, averaged over zones), and JSON rows.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <functional>

#include "reports/format.h"
#include "reports/sweep_rows.h"
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

/// Streams a sweep's output as run_sweep_blocks produces it, with bounded memory whatever the
/// output's size: CSV and JSON rows are rendered on the worker threads and written in order
/// through `write` in the order the sweep hands blocks over (the CLI runs zone by zone,
/// SweepOrder::kZoneMajor, which holds one zone's index at a time); Markdown keeps only the
/// per-(job, zone, window) means and is written by finish().
class SweepStreamWriter final : public SweepSink {
 public:
  using Write = std::function<Status(std::string_view)>;
  /// `format`: kCsv, kJson or kMarkdown. `zones` describe the series for the JSON header.
  SweepStreamWriter(Format format, const SweepLabels& labels,
                    std::vector<nlohmann::ordered_json> zones, size_t jobs, bool by_zone,
                    Write write);

  /// Writes the header (CSV header line, JSON opening). Call before the sweep.
  Status begin();
  bool wants_rows() const override { return format_ != Format::kMarkdown; }
  void render(const SweepBlock& block, std::string& out) override;
  Status consume(const SweepBlock& block, std::string_view rendered) override;
  /// Writes what comes after the rows (JSON skip counts, the Markdown tables).
  Status finish();
  const SweepSummary& summary() const { return summary_; }

 private:
  void append_json_rows(const SweepBlock& block, std::string& out) const;

  Format format_;
  const SweepLabels& labels_;
  std::vector<nlohmann::ordered_json> zones_;
  bool by_zone_;
  Write write_;
  SweepSummary summary_;
  SweepCsvRows csv_;
  std::vector<std::string> json_jobs_, json_zones_, json_windows_;  ///< quoted JSON strings
  bool first_row_ = true;
};

/// The paper's layout: one table per window, a row per job with the mean Flexible Start and
/// Pause and Resume reductions and P&R pauses per hour; with `by_zone`, a table per window
/// with a row per job and zone as well. Starts with a header naming the series used, the
/// starts and the skipped counts.
std::string sweep_markdown(const SweepSummary& summary, const SweepLabels& labels, bool by_zone);

}  // namespace carbonclock

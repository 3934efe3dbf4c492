// Sweep rows as text, fast enough to stream a whole sweep (hundreds of MB/s per core): CSV rows
// of SweepBlocks, byte for byte as append_sweep_csv (sweep_output.h) writes them for a cell.
// Meant to run in SweepSink::render, on the worker threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "shifting/sweep.h"

namespace carbonclock {

/// Appends `value` with exactly `decimals` (0–9) digits after the point, rounded half to even
/// on the exact binary value: the text fmt's "{:.Nf}" and printf's "%.Nf" give, except that a
/// negative value that rounds to zero has no sign ("0.0000", never "-0.0000"), as fixed()
/// (reports/format.h) writes it.
void append_fixed(std::string& out, double value, int decimals);

/// Appends `t` as format_utc_minutes writes it (YYYY-MM-DDTHH:MMZ, seconds dropped).
void append_utc_minutes(std::string& out, SysTime t);

/// CSV rows of sweep blocks: the columns of sweep_csv_header(),
/// job,zone,start_utc,window,algorithm,baseline_g,shifted_g,reduction_pct,pauses.
class SweepCsvRows {
 public:
  /// Names as given to the sweep (indexed like its jobs, zones and windows); quoted here where
  /// CSV needs it.
  SweepCsvRows(const std::vector<std::string>& jobs, const std::vector<std::string>& zones,
               const std::vector<std::string>& windows);

  /// Appends the block's rows: per start (ascending time), window, algorithm (flexible-start,
  /// then pause-resume); skipped starts have no row; pauses are 0 for flexible-start. The block
  /// must carry results (a sink that wants rows). Thread-safe (const).
  void append(const SweepBlock& block, std::string& out) const;

 private:
  std::vector<std::string> jobs_, zones_;
  std::vector<std::string> flexible_start_, pause_resume_;  ///< per window: ",6h,<algorithm>,"
};

}  // namespace carbonclock

// CodeCarbon's emissions.csv: the current layout (CodeCarbon 3.2.1 to 3.3.0, 38 columns) for
// new files, and appending to a file in any layout CodeCarbon has written since 2.0 under that
// file's own header. One row per run: appending a run already in the file replaces its row
// (CodeCarbon's "update" mode), so a report written twice never duplicates a run.
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "accounting/accounting.h"
#include "common/error.h"
#include "metering/run_record.h"

namespace carbonclock {

/// One emissions.csv layout: the CodeCarbon version that introduced it and its columns in order
/// (codecarbon/output_methods/emissions_data.py, EmissionsData's fields).
struct CodeCarbonLayout {
  const char* since;  ///< "2.0.0", "2.2.0", "2.2.3", "2.7.0", "3.0.8", "3.2.1"
  std::span<const char* const> columns;
};

/// Every layout since 2.0, oldest first; the last is the current one.
std::span<const CodeCarbonLayout> codecarbon_layouts();

/// The current header line (38 columns), with a trailing newline.
std::string codecarbon_csv_header();

/// The run's value for every column any layout has, as written in the CSV (fields quoted per
/// RFC 4180 where needed). Units as CodeCarbon's: kg, kg/s, W, kWh (every energy × PUE, as
/// CodeCarbon applies PUE to energies), s, L. Columns carbonclock does not measure
/// (utilisation, ram_used_gb) are empty.
std::map<std::string, std::string> codecarbon_fields(const RunRecord& run,
                                                     const CarbonAccount& account);

/// The run's row for `columns` (the current layout by default), with a newline.
std::string codecarbon_csv_row(const RunRecord& run, const CarbonAccount& account);
std::string codecarbon_csv_row(const RunRecord& run, const CarbonAccount& account,
                               std::span<const std::string> columns);

/// Appends the run's row to `path` atomically: a new or empty file gets the current header; an
/// existing file keeps its header (any CodeCarbon layout since 2.0, columns in any order, as
/// CodeCarbon accepts them) and its line endings, and a row with the same run_id is replaced
/// instead of duplicated. Refuses (Error naming the file and the layouts) any other header.
Status append_codecarbon_csv(const std::filesystem::path& path, const RunRecord& run,
                             const CarbonAccount& account);

}  // namespace carbonclock

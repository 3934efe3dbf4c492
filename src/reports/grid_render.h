// `grid import | list | show` outputs.
#pragma once

#include <string>
#include <vector>

#include "app/grid_data.h"
#include "reports/format.h"

namespace carbonclock {

/// One line per imported series: points new and already stored, range, source, gaps.
std::string render_import(const std::vector<ImportedSeries>& imported);

/// The same as JSON: {"series": [{file, zone, signal, factor, source, issued_at_utc, points,
/// points_added, points_already_stored, first_start_utc, last_end_utc, gaps[{start_utc,
/// duration_s}]}]} (the Python API's grid.import_file).
std::string render_import_json(const std::vector<ImportedSeries>& imported);

/// The stored series: kCsv (RFC 4180) or kJson (schemas/grid-list.schema.json).
std::string render_series_list(const std::vector<StoredSeriesInfo>& list, Format format);

/// One series: kCsv (start_utc,duration_s,g_per_kwh,signal,factor,estimated) or kJson
/// (schemas/grid-series.schema.json).
std::string render_series(const IntensitySeries& series, Format format);

/// "DE average/lifecycle" or "DE average/lifecycle (forecast issued ...)".
std::string describe_series(const std::string& zone, Signal signal, Factor factor,
                            std::optional<SysTime> issued_at);

/// What `grid fetch` did, in one line.
std::string render_fetch(const FetchResult& fetched);

}  // namespace carbonclock

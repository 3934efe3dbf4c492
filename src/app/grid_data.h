// Use cases on grid data: import files, list the stored series, show one series (found under
// any name of its zone), fetch from a live provider.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/context.h"
#include "grid/importers.h"
#include "grid/live_source.h"
#include "grid/store.h"

namespace carbonclock {

/// One series of an import, as parsed and as stored.
struct ImportedSeries {
  std::string origin;  ///< the file
  IntensitySeries series;
  SeriesImportResult result;
  std::vector<Gap> gaps;
};

/// The options of `grid import` as typed (shared by the CLI and Python front ends).
struct ImportArgs {
  std::vector<std::string> files;
  std::string format = "auto", zone, signal, factor, source, tz, time_column, value_column, unit,
              duration_column, duration_unit, zone_column, step, index_origin, db;
  bool replace = false;  ///< --replace: overlapped stored points are replaced (ImportMode)
};

/// Parses the options of `grid import` (not the files). Errors name the option.
Result<ImportOptions> import_options(const ImportArgs& args);

/// Parses every file first (a bad file anywhere means nothing is stored), then stores them all
/// in one transaction. Errors name the file and line, or the conflict.
/// With ImportMode::kReplace, stored points the new ones overlap are replaced (same transaction).
Result<std::vector<ImportedSeries>> import_files(const std::vector<std::string>& files,
                                                 const ImportOptions& options,
                                                 const std::string& db, AppContext& ctx,
                                                 ImportMode mode = ImportMode::kRefuseConflicts);

/// Every stored series.
Result<std::vector<StoredSeriesInfo>> list_series(const std::string& db, AppContext& ctx);

struct ShowRequest {
  std::string zone;  ///< any name of the zone: catalogue id, alias, cloud region id
  std::optional<Signal> signal;
  std::optional<Factor> factor;
  std::optional<SysTime> from, to;        ///< unbounded when unset
  std::optional<SysTime> forecast_as_of;  ///< show the latest forecast issued by then instead
  std::string db;
};

/// The stored series of the zone (the first id of the zone holding the signal, lifecycle
/// preferred unless a factor is given), at native granularity. Errors: nothing stored for any
/// name of the zone (listing what is stored), no forecast issued by the time asked.
Result<IntensitySeries> show_series(const ShowRequest& request, AppContext& ctx);

/// The options of `grid fetch` as typed (the HTTP timeout belongs to the transport the front
/// end builds).
struct FetchArgs {
  std::string source, zone, region, from, to, db, base_url, config, factor = "lifecycle";
  bool forecast = false;
};

struct FetchResult {
  FetchRequest request;
  FetchReport report;
};

/// Fetches from the provider through ctx.http into the store. Errors: bad options, a zone the
/// provider cannot serve, credentials, HTTP failures (never containing a credential).
Result<FetchResult> fetch_series(const FetchArgs& args, AppContext& ctx);

}  // namespace carbonclock

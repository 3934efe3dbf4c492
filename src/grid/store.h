// The store: intensity series (actuals and forecasts) and the run history in one SQLite
// database. It owns every table and migration (schema versioned by PRAGMA user_version); no
// other code touches SQL. Imports are one transaction each: all or nothing.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "grid/query.h"
#include "grid/run_history.h"
#include "grid/series.h"

namespace carbonclock {

/// Which series a query wants. Unset signal → average. Unset factor → lifecycle when the store
/// holds it for that zone and signal, otherwise the only factor it holds (the result's
/// IntensitySeries says which was used). Set fields are never substituted.
struct SeriesQuery {
  std::string zone;
  std::optional<Signal> signal;
  std::optional<Factor> factor;
};

/// The query the paper's method asks for: marginal signal, factor as stored.
SeriesQuery paper_method_query(std::string zone);

/// One stored series, as listed by GridStore::list.
struct StoredSeriesInfo {
  std::string zone;
  Signal signal = Signal::kAverage;
  Factor factor = Factor::kLifecycle;
  /// Comma-separated when several sources fed it; each listed once (a source label holding
  /// commas counts as several sources).
  std::string source;
  std::optional<SysTime> issued_at;  ///< forecasts only
  int64_t point_count = 0;
  SysTime first_start;
  SysTime last_end;
};

/// What one import did, per series given.
struct SeriesImportResult {
  std::string zone;
  Signal signal = Signal::kAverage;
  Factor factor = Factor::kLifecycle;
  std::optional<SysTime> issued_at;
  int64_t points_added = 0;
  int64_t points_already_stored = 0;  ///< identical points present before (re-import)
};

/// Series parsed from one file or response, with the name used in messages.
struct ImportBatch {
  std::string origin;
  std::vector<IntensitySeries> series;
};

/// Times are stored as integer seconds since the Unix epoch (sub-second parts are truncated).
class GridStore {
 public:
  /// Opens (creating the file and its folder if needed) and migrates to the current schema.
  /// Error names the path and SQLite's message; a database newer than this build is an error.
  static Result<GridStore> open(const std::filesystem::path& path);

  /// The schema version this build writes (PRAGMA user_version after open).
  static int schema_version();

  GridStore(GridStore&&) noexcept;
  GridStore& operator=(GridStore&&) noexcept;
  ~GridStore();

  /// Stores every series in one transaction. Identical points already stored are skipped (no
  /// duplicates). A point with the same zone, signal, factor (and issued_at for forecasts) and
  /// start but a different value or duration, or one overlapping a stored point, is a conflict:
  /// Error "ORIGIN: conflict for ZONE SIGNAL/FACTOR at TIME: stored X g/kWh (D s), new Y g/kWh
  /// (D s)" and nothing at all is stored. Series must satisfy validate_series.
  Result<std::vector<SeriesImportResult>> import(const std::vector<IntensitySeries>& series,
                                                 std::string_view origin);

  /// Like import, for several files at once: one transaction for all of them, so a conflict in
  /// the last file leaves the store as it was. Results are in batch, then series order.
  Result<std::vector<SeriesImportResult>> import(const std::vector<ImportBatch>& batches);

  /// Resolves a query to the concrete zone/signal/factor stored (see SeriesQuery). Error when
  /// nothing matches, listing what the zone has.
  Result<SeriesQuery> resolve(const SeriesQuery& query);

  /// Actual (non-forecast) points overlapping [from, to), at native granularity, unclipped.
  /// Resolves the query first; the result's zone/signal/factor/source say what was used.
  /// An empty points vector when the series exists but has nothing in the interval.
  Result<IntensitySeries> read(const SeriesQuery& query, SysTime from, SysTime to);

  /// The latest forecast issued at or before `as_of` for the query, restricted to points
  /// overlapping [from, to); nullopt when no forecast was issued by then.
  Result<std::optional<IntensitySeries>> latest_forecast(const SeriesQuery& query, SysTime as_of,
                                                         SysTime from, SysTime to);

  /// Coverage of [from, to) by the stored actuals of the resolved query.
  Result<Coverage> coverage(const SeriesQuery& query, SysTime from, SysTime to);

  /// Every stored series (actuals and forecasts), ordered by zone, signal, factor, issued_at.
  Result<std::vector<StoredSeriesInfo>> list();

  /// Inserts or replaces the run (by run_id) and its tags, in one transaction.
  Status record_run(const HistoryEntry& entry);

  /// The recorded runs matching `filter`, oldest first.
  Result<std::vector<HistoryEntry>> list_runs(const HistoryFilter& filter);

  /// The database file.
  const std::filesystem::path& path() const;

 private:
  struct Impl;
  explicit GridStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carbonclock

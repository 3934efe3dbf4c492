#include "grid/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <system_error>

#include "grid/importers.h"

namespace carbonclock {
namespace {

// Schema migrations, applied in order; PRAGMA user_version counts how many ran. Append new
// ones; never edit a released one.
constexpr const char* kMigrations[] = {
    // 1: grid series and their points. Points are packed into one row per series and UTC day
    // (a "block"): a zone-year of 5-minute data is 366 rows, so imports and reads cost a few
    // thousand SQLite row operations instead of a hundred thousand (see bench/).
    R"sql(
CREATE TABLE grid_series (
  id INTEGER PRIMARY KEY,
  zone TEXT NOT NULL,
  signal TEXT NOT NULL CHECK (signal IN ('marginal', 'average')),
  factor TEXT NOT NULL CHECK (factor IN ('lifecycle', 'direct')),
  is_forecast INTEGER NOT NULL CHECK (is_forecast IN (0, 1)),
  issued_at_s INTEGER NOT NULL DEFAULT 0,  -- forecasts: when issued (Unix seconds); else 0
  source TEXT NOT NULL,                    -- comma-separated when several sources fed it
  max_duration_s INTEGER NOT NULL DEFAULT 0,  -- longest point, bounds overlap queries
  UNIQUE (zone, signal, factor, is_forecast, issued_at_s)
);
-- The points starting in [block_start_s, block_start_s + 86400), sorted, as `point_count`
-- records of 17 bytes, little-endian: start offset from block_start_s (u32, seconds),
-- duration (u32, seconds), g_per_kwh (IEEE-754 f64), estimated (u8 0/1).
CREATE TABLE grid_blocks (
  series_id INTEGER NOT NULL REFERENCES grid_series(id),
  block_start_s INTEGER NOT NULL,
  first_start_s INTEGER NOT NULL,
  last_end_s INTEGER NOT NULL,
  point_count INTEGER NOT NULL,
  points BLOB NOT NULL,
  PRIMARY KEY (series_id, block_start_s)
);
)sql",
    // 2: the run history. Earlier builds created these tables on first use, outside the
    // migrations, hence IF NOT EXISTS.
    R"sql(
CREATE TABLE IF NOT EXISTS run_history (
  run_id TEXT PRIMARY KEY,
  start_unix_s INTEGER NOT NULL,
  duration_s REAL NOT NULL,
  energy_kwh REAL NOT NULL,
  operational_g REAL NOT NULL,
  embodied_g REAL NOT NULL,
  signal TEXT NOT NULL,
  zone TEXT NOT NULL,
  pue REAL NOT NULL,
  stored_share REAL NOT NULL,
  run_dir TEXT NOT NULL,
  command TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_history_tags (
  run_id TEXT NOT NULL REFERENCES run_history(run_id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
);
)sql",
    // 3: the job's exit code, the factor of the headline, and whether the run was recovered.
    R"sql(
ALTER TABLE run_history ADD COLUMN exit_code INTEGER;
ALTER TABLE run_history ADD COLUMN factor TEXT NOT NULL DEFAULT '';
ALTER TABLE run_history ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS run_history_start ON run_history(start_unix_s);
)sql",
};

constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

constexpr int64_t kBlockSpanS = 86400;
constexpr size_t kRecordBytes = 17;
// Durations are stored in 32 bits; import() also refuses points longer than kMaxDuration.
constexpr int64_t kMaxDurationS =
    std::min<int64_t>(0xFFFFFFFFLL, std::chrono::duration_cast<Seconds>(kMaxDuration).count());

int64_t block_of(int64_t start_s) {
  int64_t r = start_s % kBlockSpanS;
  return start_s - (r < 0 ? r + kBlockSpanS : r);
}

struct PointRow {
  int64_t start_s;
  int64_t duration_s;
  double g_per_kwh;
  bool estimated;
  int64_t end_s() const { return start_s + duration_s; }
};

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

// A prepared statement, reset on each use.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }

  Status prepared() const {
    if (rc_ == SQLITE_OK) return {};
    return make_error("sqlite: {}", sqlite3_errmsg(db_));
  }
  Stmt& reset() {
    sqlite3_reset(s_);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW → true, SQLITE_DONE → false, else an Error.
  Result<bool> step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return make_error("sqlite: {}", sqlite3_errmsg(db_));
  }
  Status run() {
    auto r = step();
    if (!r) return r.error();
    return {};
  }
  Stmt& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  // Appends the points of a block stored in column `col` (see grid_blocks in the schema).
  Status decode_block(int64_t block, int64_t count, int col, std::vector<PointRow>& out) const;
  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  double real(int col) const { return sqlite3_column_double(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_MISUSE;
};

Status exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return make_error("sqlite: {}", msg);
  }
  return {};
}

// Rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  Status begin() { return exec(db_, "BEGIN IMMEDIATE"); }
  Status commit() {
    auto st = exec(db_, "COMMIT");
    if (st) done_ = true;
    return st;
  }
  ~Transaction() {
    if (!done_) (void)exec(db_, "ROLLBACK");
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

int64_t to_unix_s(SysTime t) { return std::chrono::floor<Seconds>(t).time_since_epoch().count(); }
int64_t ceil_unix_s(SysTime t) { return std::chrono::ceil<Seconds>(t).time_since_epoch().count(); }
SysTime from_unix_s(int64_t s) { return SysTime(Seconds(s)); }

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint64_t get_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

void encode_point(const PointRow& p, int64_t block, std::string& out) {
  put_le(out, static_cast<uint64_t>(p.start_s - block), 4);
  put_le(out, static_cast<uint64_t>(p.duration_s), 4);
  put_le(out, std::bit_cast<uint64_t>(p.g_per_kwh), 8);
  out.push_back(p.estimated ? 1 : 0);
}

struct SeriesRow {
  int64_t id = 0;
  int64_t max_duration_s = 0;
  std::string source;
};

Status Stmt::decode_block(int64_t block, int64_t count, int col, std::vector<PointRow>& out) const {
  const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(s_, col));
  auto bytes = static_cast<size_t>(sqlite3_column_bytes(s_, col));
  // A damaged or tampered file must give an error, not times that wrap when converted to
  // nanoseconds: every field is checked against what import() can have written.
  const int64_t min_s = to_unix_s(kMinTime), max_s = to_unix_s(kMaxTime);
  const auto corrupt = [&](std::string_view why) {
    std::string at = block >= min_s && block < max_s ? format_utc(from_unix_s(block))
                                                     : fmt::format("block {}", block);
    return make_error("corrupt point block at {} ({})", at, why);
  };
  if (count < 0 || bytes != static_cast<size_t>(count) * kRecordBytes) {
    return corrupt(fmt::format("{} bytes for {} points", bytes, count));
  }
  if (block < min_s || block >= max_s || block_of(block) != block) {
    return corrupt("block start outside the supported range");
  }
  for (size_t i = 0; i < static_cast<size_t>(count); ++i) {
    const unsigned char* r = data + i * kRecordBytes;
    PointRow p{block + static_cast<int64_t>(get_le(r, 4)), static_cast<int64_t>(get_le(r + 4, 4)),
               std::bit_cast<double>(get_le(r + 8, 8)), r[16] != 0};
    if (p.start_s - block >= kBlockSpanS || p.duration_s <= 0 || p.duration_s > kMaxDurationS ||
        !std::isfinite(p.g_per_kwh) || p.g_per_kwh < 0) {
      return corrupt(fmt::format("point {} is damaged", i));
    }
    out.push_back(p);
  }
  return {};
}

// The stored comma-separated list of sources with those in `incoming` (itself possibly a
// comma-separated list) added once each, trimmed, in order of first appearance.
std::string merge_sources(std::string_view stored, std::string_view incoming) {
  std::vector<std::string> list;
  for (std::string_view text : {stored, incoming}) {
    while (!text.empty()) {
      size_t comma = std::min(text.find(','), text.size());
      std::string_view part = text.substr(0, comma);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
      if (!part.empty() && std::find(list.begin(), list.end(), part) == list.end()) {
        list.emplace_back(part);
      }
      text.remove_prefix(std::min(comma + 1, text.size()));
    }
  }
  std::string out;
  for (const auto& p : list) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::string describe(const std::string& zone, Signal s, Factor f) {
  return fmt::format("{} {}/{}", zone, to_string(s), to_string(f));
}

}  // namespace

SeriesQuery paper_method_query(std::string zone) {
  return SeriesQuery{std::move(zone), Signal::kMarginal, std::nullopt};
}

struct GridStore::Impl {
  DbPtr db;
  std::filesystem::path path;

  Result<std::optional<SeriesRow>> find_series(const std::string& zone, Signal signal,
                                               Factor factor, std::optional<SysTime> issued_at) {
    Stmt q(db.get(),
           "SELECT id, max_duration_s, source FROM grid_series WHERE zone = ?1 AND signal = ?2 "
           "AND factor = ?3 AND is_forecast = ?4 AND issued_at_s = ?5");
    if (auto st = q.prepared(); !st) return st.error();
    q.bind(1, zone)
        .bind(2, std::string_view(to_string(signal)))
        .bind(3, std::string_view(to_string(factor)))
        .bind(4, int64_t{issued_at ? 1 : 0})
        .bind(5, issued_at ? to_unix_s(*issued_at) : int64_t{0});
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) return std::optional<SeriesRow>();
    return std::optional<SeriesRow>(SeriesRow{q.int64(0), q.int64(1), q.text(2)});
  }

  // Every stored point of the blocks that can hold points overlapping [from_s, to_s), sorted.
  Result<std::vector<PointRow>> points(int64_t series_id, int64_t max_duration_s, int64_t from_s,
                                       int64_t to_s) {
    Stmt q(db.get(),
           "SELECT block_start_s, point_count, points FROM grid_blocks WHERE series_id = ?1 "
           "AND block_start_s >= ?2 AND block_start_s < ?3 ORDER BY block_start_s");
    if (auto st = q.prepared(); !st) return st.error();
    q.bind(1, series_id).bind(2, block_of(from_s - max_duration_s)).bind(3, to_s);
    std::vector<PointRow> out;
    while (true) {
      auto row = q.step();
      if (!row) return row.error();
      if (!*row) break;
      if (auto st = q.decode_block(q.int64(0), q.int64(1), 2, out); !st) {
        return st.error().with_context(path.string());
      }
    }
    return out;
  }

  Status write_blocks(int64_t series_id, const std::vector<PointRow>& sorted, Stmt& put) {
    std::string blob;
    for (size_t i = 0; i < sorted.size();) {
      int64_t block = block_of(sorted[i].start_s);
      size_t j = i;
      blob.clear();
      int64_t last_end = std::numeric_limits<int64_t>::min();  // times before 1970 are < 0
      while (j < sorted.size() && block_of(sorted[j].start_s) == block) {
        encode_point(sorted[j], block, blob);
        last_end = std::max(last_end, sorted[j].end_s());
        ++j;
      }
      put.reset()
          .bind(1, series_id)
          .bind(2, block)
          .bind(3, sorted[i].start_s)
          .bind(4, last_end)
          .bind(5, static_cast<int64_t>(j - i))
          .bind_blob(6, blob);
      if (auto st = put.run(); !st) return st;
      i = j;
    }
    return {};
  }

  Result<SeriesImportResult> import_one(const IntensitySeries& s, const std::string& origin,
                                        Stmt& put_block) {
    if (auto st = validate_series(s, origin); !st) return st.error();
    SeriesImportResult result{s.zone, s.signal, s.factor, s.issued_at, 0, 0};
    if (s.points.empty()) return result;
    // Whole seconds, as stored.
    std::vector<PointRow> fresh;
    fresh.reserve(s.points.size());
    int64_t max_d = 0;
    for (const IntensityPoint& p : s.points) {
      int64_t start_s = to_unix_s(p.start);
      int64_t d = to_unix_s(p.end()) - start_s;
      if (d <= 0 || d > kMaxDurationS) {
        return make_error("{}: zone {}: point at {} has a duration the store cannot hold ({})",
                          origin, s.zone, format_utc(p.start), format_duration(p.duration));
      }
      fresh.push_back({start_s, d, p.g_per_kwh, p.estimated});
      max_d = std::max(max_d, d);
    }
    auto found = find_series(s.zone, s.signal, s.factor, s.issued_at);
    if (!found) return found.error();
    SeriesRow row;
    if (*found) {
      row = **found;
    } else {
      Stmt ins(db.get(),
               "INSERT INTO grid_series (zone, signal, factor, is_forecast, issued_at_s, source) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      if (auto st = ins.prepared(); !st) return st.error();
      ins.bind(1, s.zone)
          .bind(2, std::string_view(to_string(s.signal)))
          .bind(3, std::string_view(to_string(s.factor)))
          .bind(4, int64_t{s.issued_at ? 1 : 0})
          .bind(5, s.issued_at ? to_unix_s(*s.issued_at) : int64_t{0})
          .bind(6, merge_sources("", s.source));
      if (auto st = ins.run(); !st) return st.error();
      row.id = sqlite3_last_insert_rowid(db.get());
      row.source = merge_sources("", s.source);
    }
    // Whole blocks around the new points: conflicts are checked against them, and blocks that
    // gain points are rewritten with old and new points merged. The blocks reach back by the
    // longest stored point and forward to the end of the longest new one (a 30-day point
    // overlaps points stored up to 30 days after its start).
    int64_t fresh_end = fresh.back().end_s();
    for (const PointRow& p : fresh) fresh_end = std::max(fresh_end, p.end_s());
    auto stored = points(row.id, row.max_duration_s, fresh.front().start_s, fresh_end);
    if (!stored) return stored.error();
    std::vector<PointRow> added;
    added.reserve(fresh.size());
    size_t j = 0;
    for (const PointRow& p : fresh) {
      while (j < stored->size() && (*stored)[j].end_s() <= p.start_s) ++j;
      if (j < stored->size() && (*stored)[j].start_s < p.end_s()) {
        const PointRow& old = (*stored)[j];
        if (old.start_s == p.start_s && old.duration_s == p.duration_s &&
            old.g_per_kwh == p.g_per_kwh) {
          ++result.points_already_stored;
          continue;
        }
        if (old.start_s == p.start_s) {
          return make_error(
              "{}: conflict for {} at {}: stored {} g/kWh ({} s), new {} g/kWh ({} s)", origin,
              describe(s.zone, s.signal, s.factor), format_utc(from_unix_s(p.start_s)),
              old.g_per_kwh, old.duration_s, p.g_per_kwh, p.duration_s);
        }
        return make_error(
            "{}: conflict for {}: new point at {} ({} g/kWh, {} s) overlaps stored point at {} "
            "({} g/kWh, {} s)",
            origin, describe(s.zone, s.signal, s.factor), format_utc(from_unix_s(p.start_s)),
            p.g_per_kwh, p.duration_s, format_utc(from_unix_s(old.start_s)), old.g_per_kwh,
            old.duration_s);
      }
      added.push_back(p);
    }
    result.points_added = static_cast<int64_t>(added.size());
    if (!added.empty()) {
      // Merge the stored points of the blocks that gain points, then rewrite those blocks.
      std::vector<PointRow> merged;
      if (stored->empty()) {
        merged = std::move(added);
      } else {
        std::vector<int64_t> touched;
        for (const PointRow& p : added) {
          if (touched.empty() || touched.back() != block_of(p.start_s)) {
            touched.push_back(block_of(p.start_s));
          }
        }
        for (const PointRow& p : *stored) {
          if (std::binary_search(touched.begin(), touched.end(), block_of(p.start_s))) {
            merged.push_back(p);
          }
        }
        merged.insert(merged.end(), added.begin(), added.end());
        std::sort(merged.begin(), merged.end(),
                  [](const PointRow& a, const PointRow& b) { return a.start_s < b.start_s; });
      }
      if (auto st = write_blocks(row.id, merged, put_block); !st) {
        return st.error().with_context(origin);
      }
    }
    // Keep the overlap bound and the list of sources up to date.
    std::string source = merge_sources(row.source, s.source);
    if (max_d > row.max_duration_s || source != row.source) {
      Stmt upd(db.get(), "UPDATE grid_series SET max_duration_s = ?1, source = ?2 WHERE id = ?3");
      if (auto st = upd.prepared(); !st) return st.error();
      upd.bind(1, std::max(max_d, row.max_duration_s)).bind(2, source).bind(3, row.id);
      if (auto st = upd.run(); !st) return st.error();
    }
    return result;
  }

  Result<IntensitySeries> load(const SeriesQuery& resolved, const SeriesRow& row,
                               std::optional<SysTime> issued_at, SysTime from, SysTime to) {
    IntensitySeries s;
    s.zone = resolved.zone;
    s.signal = *resolved.signal;
    s.factor = *resolved.factor;
    s.source = row.source;
    s.issued_at = issued_at;
    auto rows = points(row.id, row.max_duration_s, to_unix_s(from), ceil_unix_s(to));
    if (!rows) return rows.error();
    s.points.reserve(rows->size());
    int64_t from_s = to_unix_s(from), to_s = ceil_unix_s(to);
    for (const PointRow& p : *rows) {
      if (p.end_s() <= from_s || p.start_s >= to_s) continue;
      s.points.push_back({from_unix_s(p.start_s), Seconds(p.duration_s), p.g_per_kwh, p.estimated});
    }
    return s;
  }
};

GridStore::GridStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GridStore::GridStore(GridStore&&) noexcept = default;
GridStore& GridStore::operator=(GridStore&&) noexcept = default;
GridStore::~GridStore() = default;

int GridStore::schema_version() { return kSchemaVersion; }

const std::filesystem::path& GridStore::path() const { return impl_->path; }

Result<GridStore> GridStore::open(const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    return make_error("{}: cannot create folder: {}", path.parent_path().string(), ec.message());
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return make_error("{}: cannot open database: {}", path.string(),
                      raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(db.get(), 5000);
  // WAL + NORMAL: durable at checkpoints, fast bulk imports; a big page cache for year reads.
  if (auto st = exec(db.get(),
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                     "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;");
      !st) {
    return st.error().with_context(path.string());
  }
  Stmt version(db.get(), "PRAGMA user_version");
  if (auto st = version.prepared(); !st) return st.error().with_context(path.string());
  auto row = version.step();
  if (!row) return row.error().with_context(path.string());
  int current = static_cast<int>(version.int64(0));
  if (current > kSchemaVersion) {
    return make_error("{}: database schema version {} is newer than this build supports ({})",
                      path.string(), current, kSchemaVersion);
  }
  if (current < kSchemaVersion) {
    Transaction tx(db.get());
    if (auto st = tx.begin(); !st) return st.error().with_context(path.string());
    for (int v = current; v < kSchemaVersion; ++v) {
      if (auto st = exec(db.get(), kMigrations[v]); !st) {
        return st.error().with_context(fmt::format("{}: migration {}", path.string(), v + 1));
      }
    }
    if (auto st = exec(db.get(), fmt::format("PRAGMA user_version = {}", kSchemaVersion).c_str());
        !st) {
      return st.error().with_context(path.string());
    }
    if (auto st = tx.commit(); !st) return st.error().with_context(path.string());
  }
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(db);
  impl->path = path;
  return GridStore(std::move(impl));
}

Result<std::vector<SeriesImportResult>> GridStore::import(
    const std::vector<IntensitySeries>& series, std::string_view origin) {
  return import(std::vector<ImportBatch>{{std::string(origin), series}});
}

Result<std::vector<SeriesImportResult>> GridStore::import(const std::vector<ImportBatch>& batches) {
  sqlite3* db = impl_->db.get();
  Transaction tx(db);
  if (auto st = tx.begin(); !st) return st.error().with_context(impl_->path.string());
  Stmt put_block(db,
                 "INSERT OR REPLACE INTO grid_blocks (series_id, block_start_s, first_start_s, "
                 "last_end_s, point_count, points) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (auto st = put_block.prepared(); !st) return st.error();
  std::vector<SeriesImportResult> results;
  for (const ImportBatch& batch : batches) {
    for (const IntensitySeries& s : batch.series) {
      auto r = impl_->import_one(s, batch.origin, put_block);
      if (!r) return r.error();
      results.push_back(*r);
    }
  }
  if (auto st = tx.commit(); !st) return st.error().with_context(impl_->path.string());
  return results;
}

Result<SeriesQuery> GridStore::resolve(const SeriesQuery& query) {
  Stmt q(impl_->db.get(),
         "SELECT DISTINCT signal, factor FROM grid_series WHERE zone = ?1 ORDER BY signal, factor");
  if (auto st = q.prepared(); !st) return st.error();
  q.bind(1, query.zone);
  std::vector<std::pair<Signal, Factor>> held;
  while (true) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    auto s = parse_signal(q.text(0));
    auto f = parse_factor(q.text(1));
    if (s && f) held.emplace_back(*s, *f);
  }
  if (held.empty()) return make_error("no series stored for zone '{}'", query.zone);
  Signal signal = query.signal.value_or(Signal::kAverage);
  auto has = [&](Factor f) {
    return std::find(held.begin(), held.end(), std::pair{signal, f}) != held.end();
  };
  std::optional<Factor> factor = query.factor;
  if (!factor) {
    if (has(Factor::kLifecycle)) {
      factor = Factor::kLifecycle;
    } else if (has(Factor::kDirect)) {
      factor = Factor::kDirect;
    }
  }
  if (!factor || !has(*factor)) {
    std::string list;
    for (auto [s, f] : held)
      list += fmt::format("{}{}/{}", list.empty() ? "" : ", ", to_string(s), to_string(f));
    return make_error("no {}/{} series stored for zone '{}' (stored: {})", to_string(signal),
                      factor ? to_string(*factor) : "any", query.zone, list);
  }
  return SeriesQuery{query.zone, signal, factor};
}

Result<IntensitySeries> GridStore::read(const SeriesQuery& query, SysTime from, SysTime to) {
  auto resolved = resolve(query);
  if (!resolved) return resolved.error();
  auto row = impl_->find_series(resolved->zone, *resolved->signal, *resolved->factor, std::nullopt);
  if (!row) return row.error();
  if (!*row) {
    return make_error("only forecasts are stored for {}",
                      describe(resolved->zone, *resolved->signal, *resolved->factor));
  }
  return impl_->load(*resolved, **row, std::nullopt, from, to);
}

Result<std::optional<IntensitySeries>> GridStore::latest_forecast(const SeriesQuery& query,
                                                                  SysTime as_of, SysTime from,
                                                                  SysTime to) {
  auto resolved = resolve(query);
  if (!resolved) return resolved.error();
  Stmt q(impl_->db.get(),
         "SELECT id, max_duration_s, source, issued_at_s FROM grid_series WHERE zone = ?1 AND "
         "signal = ?2 AND factor = ?3 AND is_forecast = 1 AND issued_at_s <= ?4 "
         "ORDER BY issued_at_s DESC LIMIT 1");
  if (auto st = q.prepared(); !st) return st.error();
  q.bind(1, resolved->zone)
      .bind(2, std::string_view(to_string(*resolved->signal)))
      .bind(3, std::string_view(to_string(*resolved->factor)))
      .bind(4, to_unix_s(as_of));
  auto found = q.step();
  if (!found) return found.error();
  if (!*found) return std::optional<IntensitySeries>();
  SeriesRow row{q.int64(0), q.int64(1), q.text(2)};
  SysTime issued = from_unix_s(q.int64(3));
  auto s = impl_->load(*resolved, row, issued, from, to);
  if (!s) return s.error();
  return std::optional<IntensitySeries>(std::move(*s));
}

Result<Coverage> GridStore::coverage(const SeriesQuery& query, SysTime from, SysTime to) {
  auto s = read(query, from, to);
  if (!s) return s.error();
  return carbonclock::coverage(*s, from, to);
}

Result<std::vector<StoredSeriesInfo>> GridStore::list() {
  Stmt q(impl_->db.get(),
         "SELECT s.zone, s.signal, s.factor, s.source, s.is_forecast, s.issued_at_s, "
         "SUM(b.point_count), MIN(b.first_start_s), MAX(b.last_end_s) "
         "FROM grid_series s JOIN grid_blocks b ON b.series_id = s.id GROUP BY s.id "
         "ORDER BY s.zone, s.signal, s.factor, s.is_forecast, s.issued_at_s");
  if (auto st = q.prepared(); !st) return st.error();
  std::vector<StoredSeriesInfo> out;
  while (true) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    StoredSeriesInfo info;
    info.zone = q.text(0);
    auto s = parse_signal(q.text(1));
    auto f = parse_factor(q.text(2));
    if (!s || !f)
      return make_error("{}: corrupt series row for zone {}", impl_->path.string(), info.zone);
    info.signal = *s;
    info.factor = *f;
    info.source = q.text(3);
    if (q.int64(4) != 0) info.issued_at = from_unix_s(q.int64(5));
    info.point_count = q.int64(6);
    info.first_start = from_unix_s(q.int64(7));
    info.last_end = from_unix_s(q.int64(8));
    out.push_back(std::move(info));
  }
  return out;
}

Status GridStore::record_run(const HistoryEntry& e) {
  sqlite3* db = impl_->db.get();
  Transaction tx(db);
  if (auto st = tx.begin(); !st) return st.error().with_context(impl_->path.string());
  Stmt del(db, "DELETE FROM run_history_tags WHERE run_id = ?1");
  if (auto st = del.prepared(); !st) return st.error();
  if (auto st = del.bind(1, e.run_id).run(); !st) return st.error();
  Stmt ins(db,
           "INSERT OR REPLACE INTO run_history (run_id, start_unix_s, duration_s, energy_kwh, "
           "operational_g, embodied_g, signal, zone, pue, stored_share, run_dir, command, "
           "exit_code, factor, recovered) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
           "?15)");
  if (auto st = ins.prepared(); !st) return st.error();
  ins.bind(1, e.run_id)
      .bind(2, to_unix_s(e.start_utc))
      .bind(3, e.duration_s)
      .bind(4, e.energy_kwh)
      .bind(5, e.operational_g)
      .bind(6, e.embodied_g)
      .bind(7, e.signal)
      .bind(8, e.zone)
      .bind(9, e.pue)
      .bind(10, e.stored_share)
      .bind(11, e.run_dir)
      .bind(12, e.command)
      .bind(14, e.factor)
      .bind(15, int64_t{e.recovered ? 1 : 0});
  if (e.exit_code) ins.bind(13, int64_t{*e.exit_code});
  if (auto st = ins.run(); !st) return st.error().with_context("run history: insert run");
  Stmt tag(db, "INSERT OR IGNORE INTO run_history_tags (run_id, tag) VALUES (?1, ?2)");
  if (auto st = tag.prepared(); !st) return st.error();
  for (const auto& t : e.tags) {
    if (auto st = tag.reset().bind(1, e.run_id).bind(2, t).run(); !st) {
      return st.error().with_context("run history: insert tag");
    }
  }
  if (auto st = tx.commit(); !st) return st.error().with_context(impl_->path.string());
  return {};
}

Result<std::vector<HistoryEntry>> GridStore::list_runs(const HistoryFilter& filter) {
  sqlite3* db = impl_->db.get();
  std::string sql =
      "SELECT run_id, start_unix_s, duration_s, energy_kwh, operational_g, embodied_g, signal, "
      "zone, pue, stored_share, run_dir, command, exit_code, factor, recovered FROM run_history "
      "WHERE start_unix_s >= ?1 AND start_unix_s < ?2";
  if (filter.tag) sql += " AND run_id IN (SELECT run_id FROM run_history_tags WHERE tag = ?3)";
  sql += " ORDER BY start_unix_s, run_id";
  Stmt q(db, sql.c_str());
  if (auto st = q.prepared(); !st) return st.error();
  q.bind(1, filter.since ? to_unix_s(*filter.since) : INT64_MIN)
      .bind(2, filter.until ? to_unix_s(*filter.until) : INT64_MAX);
  if (filter.tag) q.bind(3, *filter.tag);
  std::vector<HistoryEntry> out;
  while (true) {
    auto row = q.step();
    if (!row) return row.error().with_context("run history");
    if (!*row) break;
    HistoryEntry e;
    e.run_id = q.text(0);
    e.start_utc = from_unix_s(q.int64(1));
    e.duration_s = q.real(2);
    e.energy_kwh = q.real(3);
    e.operational_g = q.real(4);
    e.embodied_g = q.real(5);
    e.signal = q.text(6);
    e.zone = q.text(7);
    e.pue = q.real(8);
    e.stored_share = q.real(9);
    e.run_dir = q.text(10);
    e.command = q.text(11);
    if (!q.is_null(12)) e.exit_code = static_cast<int>(q.int64(12));
    e.factor = q.text(13);
    e.recovered = q.int64(14) != 0;
    out.push_back(std::move(e));
  }
  Stmt tags(db, "SELECT tag FROM run_history_tags WHERE run_id = ?1 ORDER BY tag");
  if (auto st = tags.prepared(); !st) return st.error();
  for (auto& e : out) {
    tags.reset().bind(1, e.run_id);
    while (true) {
      auto row = tags.step();
      if (!row) return row.error().with_context("run history");
      if (!*row) break;
      e.tags.push_back(tags.text(0));
    }
  }
  return out;
}

}  // namespace carbonclock

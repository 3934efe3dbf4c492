#include "accounting/history.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>

#include "accounting/accounting.h"
#include "grid/store.h"
#include "metering/run_record.h"

namespace carbonclock {
namespace {

// Tables of this domain, created on first use (the grid store's migrations stay the grid's).
constexpr const char* kSchema = R"sql(
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
)sql";

// A prepared statement, finalised on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }
  void text(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

Error db_error(sqlite3* db, const std::string& what) {
  return make_error("run history: {}: {}", what, sqlite3_errmsg(db));
}

Status exec(sqlite3* db, const char* sql, const std::string& what) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return make_error("run history: {}: {}", what, m);
  }
  return {};
}

int64_t unix_s(SysTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string column_text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

void add(HistoryTotals& t, const HistoryEntry& e) {
  ++t.runs;
  t.energy_kwh += e.energy_kwh;
  t.operational_g += e.operational_g;
  t.embodied_g += e.embodied_g;
}

}  // namespace

HistoryEntry history_entry(const RunRecord& run, const CarbonAccount& account,
                           const std::string& run_dir) {
  HistoryEntry e;
  e.run_id = run.id;
  e.start_utc = run.start_utc;
  e.duration_s = run.duration_s();
  e.energy_kwh = run.timeline.total_j() / 3.6e6;
  e.operational_g = account.operational_g();
  e.embodied_g = account.embodied.embodied_g;
  e.signal = to_string(account.headline_signal().signal);
  e.zone = account.zone;
  e.pue = account.pue;
  e.stored_share = account.headline_signal().stored_share();
  e.tags = run.tags;
  e.run_dir = run_dir;
  for (const auto& a : run.command) e.command += (e.command.empty() ? "" : " ") + a;
  return e;
}

Status record_run(GridStore& store, const HistoryEntry& e) {
  sqlite3* db = store.handle();
  if (auto s = exec(db, kSchema, "creating tables"); !s) return s;
  if (auto s = exec(db, "BEGIN IMMEDIATE", "begin"); !s) return s;
  auto fail = [db](Error err) -> Status {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return err;
  };
  {
    Stmt del(db, "DELETE FROM run_history_tags WHERE run_id = ?");
    if (!del.ok()) return fail(db_error(db, "prepare"));
    del.text(1, e.run_id);
    if (sqlite3_step(del.get()) != SQLITE_DONE) return fail(db_error(db, "delete tags"));
    Stmt ins(db,
             "INSERT OR REPLACE INTO run_history (run_id, start_unix_s, duration_s, energy_kwh, "
             "operational_g, embodied_g, signal, zone, pue, stored_share, run_dir, command) "
             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!ins.ok()) return fail(db_error(db, "prepare"));
    ins.text(1, e.run_id);
    sqlite3_bind_int64(ins.get(), 2, unix_s(e.start_utc));
    sqlite3_bind_double(ins.get(), 3, e.duration_s);
    sqlite3_bind_double(ins.get(), 4, e.energy_kwh);
    sqlite3_bind_double(ins.get(), 5, e.operational_g);
    sqlite3_bind_double(ins.get(), 6, e.embodied_g);
    ins.text(7, e.signal);
    ins.text(8, e.zone);
    sqlite3_bind_double(ins.get(), 9, e.pue);
    sqlite3_bind_double(ins.get(), 10, e.stored_share);
    ins.text(11, e.run_dir);
    ins.text(12, e.command);
    if (sqlite3_step(ins.get()) != SQLITE_DONE) return fail(db_error(db, "insert run"));
    for (const auto& tag : e.tags) {
      Stmt t(db, "INSERT OR IGNORE INTO run_history_tags (run_id, tag) VALUES (?, ?)");
      if (!t.ok()) return fail(db_error(db, "prepare"));
      t.text(1, e.run_id);
      t.text(2, tag);
      if (sqlite3_step(t.get()) != SQLITE_DONE) return fail(db_error(db, "insert tag"));
    }
  }
  return exec(db, "COMMIT", "commit");
}

Result<std::vector<HistoryEntry>> list_runs(GridStore& store, std::optional<SysTime> since,
                                            std::optional<std::string> tag) {
  sqlite3* db = store.handle();
  if (auto s = exec(db, kSchema, "creating tables"); !s) return s.error();
  std::string sql =
      "SELECT run_id, start_unix_s, duration_s, energy_kwh, operational_g, embodied_g, signal, "
      "zone, pue, stored_share, run_dir, command FROM run_history WHERE start_unix_s >= ?1";
  if (tag) sql += " AND run_id IN (SELECT run_id FROM run_history_tags WHERE tag = ?2)";
  sql += " ORDER BY start_unix_s, run_id";
  Stmt q(db, sql.c_str());
  if (!q.ok()) return db_error(db, "prepare");
  sqlite3_bind_int64(q.get(), 1, since ? unix_s(*since) : INT64_MIN);
  if (tag) q.text(2, *tag);
  std::vector<HistoryEntry> out;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    HistoryEntry e;
    auto* s = q.get();
    e.run_id = column_text(s, 0);
    e.start_utc = SysTime(std::chrono::seconds(sqlite3_column_int64(s, 1)));
    e.duration_s = sqlite3_column_double(s, 2);
    e.energy_kwh = sqlite3_column_double(s, 3);
    e.operational_g = sqlite3_column_double(s, 4);
    e.embodied_g = sqlite3_column_double(s, 5);
    e.signal = column_text(s, 6);
    e.zone = column_text(s, 7);
    e.pue = sqlite3_column_double(s, 8);
    e.stored_share = sqlite3_column_double(s, 9);
    e.run_dir = column_text(s, 10);
    e.command = column_text(s, 11);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return db_error(db, "list runs");
  Stmt tags(db, "SELECT tag FROM run_history_tags WHERE run_id = ? ORDER BY tag");
  if (!tags.ok()) return db_error(db, "prepare");
  for (auto& e : out) {
    sqlite3_reset(tags.get());
    tags.text(1, e.run_id);
    while (sqlite3_step(tags.get()) == SQLITE_ROW) e.tags.push_back(column_text(tags.get(), 0));
  }
  return out;
}

std::map<std::string, HistoryTotals> totals_by_month(const std::vector<HistoryEntry>& entries) {
  std::map<std::string, HistoryTotals> out;
  for (const auto& e : entries) add(out[format_utc(e.start_utc).substr(0, 7)], e);
  return out;
}

std::map<std::string, HistoryTotals> totals_by_tag(const std::vector<HistoryEntry>& entries) {
  std::map<std::string, HistoryTotals> out;
  for (const auto& e : entries) {
    if (e.tags.empty()) add(out["(untagged)"], e);
    for (const auto& t : e.tags) add(out[t], e);
  }
  return out;
}

}  // namespace carbonclock

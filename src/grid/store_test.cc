#include "grid/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>

#include "grid/importers.h"
#include "grid/test_util.h"

namespace carbonclock {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::utc;

IntensitySeries make_series(std::string zone, Signal sig, Factor f, const char* first, int n,
                            Nanos step, double base) {
  IntensitySeries s;
  s.zone = std::move(zone);
  s.signal = sig;
  s.factor = f;
  s.source = "test";
  for (int i = 0; i < n; ++i) {
    s.points.push_back({utc(first) + i * step, step, base + i, i % 2 == 1});
  }
  return s;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = GridStore::open(dir_.path() / "sub" / "cc.db");
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_.emplace(std::move(*store));
  }
  // Points in the database, counted through a second connection as another program would.
  int64_t count_points() {
    sqlite3* db = nullptr;
    sqlite3_open(store_->path().c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT COALESCE(SUM(point_count), 0) FROM grid_blocks", -1, &st,
                       nullptr);
    sqlite3_step(st);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }
  // Runs SQL through a second connection (tampering, as another program would).
  int exec_sql(const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open(store_->path().c_str(), &db);
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return rc;
  }
  TempDir dir_;
  std::optional<GridStore> store_;
};

TEST_F(StoreTest, ImportsAndReadsBackAtNativeGranularity) {
  auto s = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 8,
                       minutes(15), 100);
  auto r = store_->import({s}, "a.csv");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ((*r)[0].points_added, 8);
  auto back = store_->read({"DE", std::nullopt, std::nullopt}, utc("2020-01-01T00:20Z"),
                           utc("2020-01-01T01:00Z"));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->signal, Signal::kAverage);
  EXPECT_EQ(back->factor, Factor::kLifecycle);
  EXPECT_EQ(back->source, "test");
  ASSERT_EQ(back->points.size(), 3u);  // 00:15 (overlaps 00:20), 00:30, 00:45
  EXPECT_EQ(back->points[0].start, utc("2020-01-01T00:15Z"));
  EXPECT_EQ(back->points[0].duration, minutes(15));
  EXPECT_DOUBLE_EQ(back->points[0].g_per_kwh, 101);
  EXPECT_TRUE(back->points[0].estimated);
  EXPECT_FALSE(back->points[1].estimated);
}

TEST_F(StoreTest, ReimportAddsNoDuplicates) {
  auto s = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 4, hours(1),
                       100);
  ASSERT_TRUE(store_->import({s}, "a.csv").ok());
  auto longer = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 6,
                            hours(1), 100);
  auto again = store_->import({longer}, "a.csv");
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ((*again)[0].points_added, 2);
  EXPECT_EQ((*again)[0].points_already_stored, 4);
  EXPECT_EQ(count_points(), 6);
}

TEST_F(StoreTest, ConflictNamesFileZoneTimeAndValuesAndStoresNothing) {
  auto s = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 4, hours(1),
                       100);
  ASSERT_TRUE(store_->import({s}, "a.csv").ok());
  auto fresh =
      make_series("FR", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 4, hours(1), 50);
  auto changed = s;
  changed.points[2].g_per_kwh = 999;
  auto r = store_->import({ImportBatch{"fr.csv", {fresh}}, ImportBatch{"b.csv", {changed}}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(),
              HasSubstr("b.csv: conflict for DE average/lifecycle at 2020-01-01T02:00:00Z: "
                        "stored 102 g/kWh (3600 s), new 999 g/kWh (3600 s)"));
  EXPECT_EQ(count_points(), 4);  // FR was rolled back with the rest
  EXPECT_FALSE(
      store_->read({"FR", {}, {}}, utc("2020-01-01T00:00Z"), utc("2020-01-02T00:00Z")).ok());
}

TEST_F(StoreTest, OverlapWithADifferentGranularityIsAConflict) {
  auto hourly = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 2,
                            hours(1), 100);
  ASSERT_TRUE(store_->import({hourly}, "h.csv").ok());
  auto quarter = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:45Z", 2,
                             minutes(15), 100);
  auto r = store_->import({quarter}, "q.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(),
              HasSubstr("q.csv: conflict for DE average/lifecycle: new point at "
                        "2020-01-01T00:45:00Z"));
  EXPECT_THAT(r.error().message(), HasSubstr("overlaps stored point at 2020-01-01T00:00:00Z"));
}

TEST_F(StoreTest, LongNewPointOverlappingAStoredPointDaysLaterIsAConflict) {
  // A 30-day point imported after a later 1-hour point: the check used to look only at the
  // blocks up to a day after the new point's start, so both were accepted.
  auto later = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-10T00:00Z", 1,
                           hours(1), 100);
  ASSERT_TRUE(store_->import({later}, "later.csv").ok());
  auto month = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 1,
                           hours(24 * 30), 200);
  auto r = store_->import({month}, "month.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(),
              HasSubstr("month.csv: conflict for DE average/lifecycle: new point at "
                        "2020-01-01T00:00:00Z (200 g/kWh, 2592000 s) overlaps stored point at "
                        "2020-01-10T00:00:00Z"));
  EXPECT_EQ(count_points(), 1);
  // The other order was already caught (the stored point's length bounds the search back).
  auto other = make_series("FR", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 1,
                           hours(24 * 30), 200);
  ASSERT_TRUE(store_->import({other}, "month.csv").ok());
  auto short_later = make_series("FR", Signal::kAverage, Factor::kLifecycle, "2020-01-10T00:00Z", 1,
                                 hours(1), 100);
  EXPECT_FALSE(store_->import({short_later}, "later.csv").ok());
  // A long point that ends before the next stored one is fine.
  auto fits = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 1,
                          hours(24 * 9), 200);
  ASSERT_TRUE(store_->import({fits}, "fits.csv").ok());
}

TEST_F(StoreTest, SeriesBefore1970AreListedWithTheirRealEnd) {
  auto old = make_series("DE", Signal::kAverage, Factor::kLifecycle, "1960-06-01T00:00Z", 2,
                         hours(1), 100);
  ASSERT_TRUE(store_->import({old}, "old.csv").ok());
  auto list = store_->list();
  ASSERT_TRUE(list.ok()) << list.error().message();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(format_utc((*list)[0].first_start), "1960-06-01T00:00:00Z");
  EXPECT_EQ(format_utc((*list)[0].last_end), "1960-06-01T02:00:00Z");  // was 1970-01-01
  auto back = store_->read({"DE", {}, {}}, utc("1960-06-01T00:30Z"), utc("1960-06-01T02:00Z"));
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->points.size(), 2u);
  EXPECT_EQ(back->points[1].start, utc("1960-06-01T01:00Z"));
}

TEST_F(StoreTest, SourceWithCommasIsRecordedOnce) {
  auto s = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 2, hours(1),
                       100);
  s.source = "a,b";
  ASSERT_TRUE(store_->import({s}, "x").ok());
  ASSERT_TRUE(store_->import({s}, "x").ok());  // used to become "a,b,a,b"
  auto more = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T02:00Z", 1,
                          hours(1), 100);
  more.source = "b, c,";
  ASSERT_TRUE(store_->import({more}, "y").ok());
  auto list = store_->list();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)[0].source, "a,b,c");
}

TEST_F(StoreTest, ZonesAndSourcesThatAreNotUtf8AreKeptAsBytes) {
  auto s = make_series("evil\xe9zone", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 1,
                       hours(1), 100);
  s.source = "src\xff";
  ASSERT_TRUE(store_->import({s}, "x").ok());
  auto list = store_->list();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)[0].zone, "evil\xe9zone");
  EXPECT_EQ((*list)[0].source, "src\xff");
}

TEST_F(StoreTest, TamperedBlockIsReportedAsCorruptNotWrapped) {
  auto s = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2199-12-31T00:00Z", 1, hours(1),
                       100);
  ASSERT_TRUE(store_->import({s}, "x").ok());
  // Rewrite the point's duration field to 0xFFFFFFFF s (136 years): its end would overflow
  // 64-bit nanoseconds.
  ASSERT_EQ(exec_sql("UPDATE grid_blocks SET points = X'00000000FFFFFFFF0000000000005940' || "
                     "X'00'"),
            SQLITE_OK);
  auto r = store_->read({"DE", {}, {}}, utc("2199-12-31T00:00Z"), utc("2199-12-31T01:00Z"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), HasSubstr("corrupt point block at 2199-12-31T00:00:00Z"));
}

TEST_F(StoreTest, InvalidSeriesIsRejected) {
  auto s = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 2, hours(1),
                       100);
  s.points[1].start = s.points[0].start;
  auto r = store_->import({s}, "x.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(count_points(), 0);
}

TEST_F(StoreTest, ResolveUsesDocumentedDefaultsAndNeverSubstitutesWhatWasAsked) {
  ASSERT_TRUE(store_
                  ->import({make_series("DE", Signal::kAverage, Factor::kDirect,
                                        "2020-01-01T00:00Z", 2, hours(1), 300),
                            make_series("DE", Signal::kAverage, Factor::kLifecycle,
                                        "2020-01-01T00:00Z", 2, hours(1), 400),
                            make_series("CAISO_NORTH", Signal::kMarginal, Factor::kDirect,
                                        "2020-01-01T00:00Z", 2, minutes(5), 500)},
                           "m.csv")
                  .ok());
  auto de = store_->resolve({"DE", {}, {}});
  ASSERT_TRUE(de.ok());
  EXPECT_EQ(*de->signal, Signal::kAverage);
  EXPECT_EQ(*de->factor, Factor::kLifecycle);
  auto paper = store_->resolve(paper_method_query("CAISO_NORTH"));
  ASSERT_TRUE(paper.ok()) << paper.error().message();
  EXPECT_EQ(*paper->factor, Factor::kDirect);  // the only marginal factor stored
  auto avg = store_->resolve({"CAISO_NORTH", {}, {}});
  ASSERT_FALSE(avg.ok());
  EXPECT_THAT(avg.error().message(),
              HasSubstr("no average/any series stored for zone 'CAISO_NORTH' "
                        "(stored: marginal/direct)"));
  auto asked = store_->resolve({"CAISO_NORTH", Signal::kMarginal, Factor::kLifecycle});
  EXPECT_FALSE(asked.ok());
  auto unknown = store_->resolve({"XX", {}, {}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message(), HasSubstr("no series stored for zone 'XX'"));
}

TEST_F(StoreTest, LatestForecastIssuedAtOrBeforeATime) {
  auto actual = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 4,
                            hours(1), 100);
  auto f1 = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T06:00Z", 3,
                        hours(1), 200);
  f1.issued_at = utc("2020-01-01T05:00Z");
  auto f2 = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T06:00Z", 3,
                        hours(1), 250);
  f2.issued_at = utc("2020-01-01T05:30Z");
  ASSERT_TRUE(store_->import({actual, f1, f2}, "f.json").ok());
  auto none = store_->latest_forecast({"DE", {}, {}}, utc("2020-01-01T04:59Z"),
                                      utc("2020-01-01T00:00Z"), utc("2020-01-02T00:00Z"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto first = store_->latest_forecast({"DE", {}, {}}, utc("2020-01-01T05:10Z"),
                                       utc("2020-01-01T00:00Z"), utc("2020-01-02T00:00Z"));
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(*(*first)->issued_at, utc("2020-01-01T05:00Z"));
  EXPECT_DOUBLE_EQ((*first)->points[0].g_per_kwh, 200);
  auto later = store_->latest_forecast({"DE", {}, {}}, utc("2020-01-02T00:00Z"),
                                       utc("2020-01-01T07:00Z"), utc("2020-01-01T08:00Z"));
  ASSERT_TRUE(later.ok() && later->has_value());
  EXPECT_EQ(*(*later)->issued_at, utc("2020-01-01T05:30Z"));
  ASSERT_EQ((*later)->points.size(), 1u);
  EXPECT_DOUBLE_EQ((*later)->points[0].g_per_kwh, 251);
  // Actuals are not mixed with forecasts.
  auto read = store_->read({"DE", {}, {}}, utc("2020-01-01T00:00Z"), utc("2020-01-02T00:00Z"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->points.size(), 4u);
  EXPECT_FALSE(read->issued_at.has_value());
}

TEST_F(StoreTest, CoverageAndListDescribeWhatIsStored) {
  auto s = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T00:00Z", 2, hours(1),
                       100);
  auto t = make_series("DE", Signal::kAverage, Factor::kLifecycle, "2020-01-01T03:00Z", 1, hours(1),
                       100);
  t.source = "other";
  ASSERT_TRUE(store_->import({s}, "a").ok());
  ASSERT_TRUE(store_->import({t}, "b").ok());
  auto c = store_->coverage({"DE", {}, {}}, utc("2020-01-01T00:00Z"), utc("2020-01-01T04:00Z"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->covered, hours(3));
  ASSERT_EQ(c->gaps.size(), 1u);
  EXPECT_EQ(c->gaps[0].start, utc("2020-01-01T02:00Z"));
  auto list = store_->list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].point_count, 3);
  EXPECT_EQ((*list)[0].source, "test,other");
  EXPECT_EQ((*list)[0].first_start, utc("2020-01-01T00:00Z"));
  EXPECT_EQ((*list)[0].last_end, utc("2020-01-01T04:00Z"));
}

TEST(GridStoreOpen, SetsTheSchemaVersionAndRefusesNewerDatabases) {
  TempDir dir;
  auto path = dir.path() / "cc.db";
  ASSERT_TRUE(GridStore::open(path).ok());
  {
    // A second connection, as another program would open the file.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
    sqlite3_step(st);
    EXPECT_EQ(sqlite3_column_int(st, 0), GridStore::schema_version());
    sqlite3_finalize(st);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto again = GridStore::open(path);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message(), HasSubstr("schema version 99 is newer"));
}

TEST(GridStoreOpen, MigratesADatabaseWhoseHistoryTablesWereMadeOnFirstUse) {
  // Builds before the history moved into the migrations created run_history lazily.
  TempDir dir;
  auto path = dir.path() / "old.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE run_history (run_id TEXT PRIMARY KEY, start_unix_s "
                           "INTEGER NOT NULL, duration_s REAL NOT NULL, energy_kwh REAL NOT NULL, "
                           "operational_g REAL NOT NULL, embodied_g REAL NOT NULL, signal TEXT NOT "
                           "NULL, zone TEXT NOT NULL, pue REAL NOT NULL, stored_share REAL NOT "
                           "NULL, run_dir TEXT NOT NULL, command TEXT NOT NULL);"
                           "INSERT INTO run_history VALUES ('old', 0, 1, 2, 3, 4, 'average', 'DE', "
                           "1, 0, '/r', 'sleep 1');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = GridStore::open(path);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto runs = store->list_runs({});
  ASSERT_TRUE(runs.ok()) << runs.error().message();
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].run_id, "old");
  EXPECT_FALSE((*runs)[0].exit_code.has_value());
}

TEST(GridStoreHistory, RecordsListsAndFiltersRuns) {
  TempDir dir;
  auto store = GridStore::open(dir.path() / "h.db");
  ASSERT_TRUE(store.ok());
  HistoryEntry a;
  a.run_id = "a";
  a.start_utc = utc("2026-01-05T00:00Z");
  a.signal = "average";
  a.factor = "lifecycle";
  a.tags = {"bert", "x"};
  a.exit_code = 3;
  HistoryEntry b = a;
  b.run_id = "b";
  b.start_utc = utc("2026-02-05T00:00Z");
  b.tags = {"gpt"};
  b.exit_code.reset();
  b.recovered = true;
  ASSERT_TRUE(store->record_run(a).ok());
  ASSERT_TRUE(store->record_run(b).ok());
  ASSERT_TRUE(store->record_run(a).ok());  // again: replaced, not duplicated
  auto all = store->list_runs({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].tags, (std::vector<std::string>{"bert", "x"}));
  EXPECT_EQ((*all)[0].exit_code, 3);
  EXPECT_TRUE((*all)[1].recovered);
  auto bert = store->list_runs({std::nullopt, std::nullopt, "bert"});
  ASSERT_EQ(bert->size(), 1u);
  auto window = store->list_runs({utc("2026-01-06T00:00Z"), utc("2026-03-01T00:00Z"), {}});
  ASSERT_EQ(window->size(), 1u);
  EXPECT_EQ((*window)[0].run_id, "b");
  auto before = store->list_runs({std::nullopt, utc("2026-02-05T00:00Z"), {}});
  ASSERT_EQ(before->size(), 1u);  // until is exclusive
}

}  // namespace
}  // namespace carbonclock

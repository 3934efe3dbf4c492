#include "accounting/history.h"

#include <gtest/gtest.h>

#include "grid/store.h"
#include "grid/test_util.h"

namespace carbonclock {
namespace {

using testing::utc;

HistoryEntry entry(const char* id, const char* start, double kwh, double g,
                   std::vector<std::string> tags) {
  HistoryEntry e;
  e.run_id = id;
  e.start_utc = utc(start);
  e.duration_s = 60;
  e.energy_kwh = kwh;
  e.operational_g = g;
  e.embodied_g = 1;
  e.signal = "average";
  e.zone = "DE";
  e.tags = std::move(tags);
  e.run_dir = std::string("runs/") + id;
  e.command = "python3 train.py";
  return e;
}

TEST(HistoryTest, RecordsListsFiltersAndTotals) {
  testing::TempDir dir;
  auto store = GridStore::open(dir.path() / "db.sqlite");
  ASSERT_TRUE(store.ok()) << store.error().message();
  ASSERT_TRUE(store->record_run(entry("a", "2026-02-10T10:00Z", 1.0, 100, {"bert"})).ok());
  ASSERT_TRUE(store->record_run(entry("b", "2026-03-01T10:00Z", 2.0, 300, {"bert", "vit"})).ok());
  ASSERT_TRUE(store->record_run(entry("c", "2026-03-05T10:00Z", 4.0, 500, {})).ok());
  // Recording again replaces (no duplicate), tags included.
  ASSERT_TRUE(store->record_run(entry("c", "2026-03-05T10:00Z", 4.0, 600, {"vit"})).ok());

  auto all = store->list_runs({});
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].run_id, "a");
  EXPECT_EQ((*all)[2].operational_g, 600);
  EXPECT_EQ((*all)[1].tags, (std::vector<std::string>{"bert", "vit"}));

  auto since = store->list_runs({utc("2026-03-01T00:00Z"), std::nullopt, std::nullopt});
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 2u);
  auto bert = store->list_runs({std::nullopt, std::nullopt, std::string("bert")});
  ASSERT_TRUE(bert.ok());
  ASSERT_EQ(bert->size(), 2u);
  EXPECT_EQ((*bert)[1].run_id, "b");

  auto months = totals_by_month(*all);
  ASSERT_EQ(months.size(), 2u);
  EXPECT_EQ(months["2026-02"]["average"].runs, 1);
  EXPECT_DOUBLE_EQ(months["2026-03"]["average"].energy_kwh, 6.0);
  EXPECT_DOUBLE_EQ(months["2026-03"]["average"].operational_g, 900);
  auto tags = totals_by_tag(*all);
  EXPECT_EQ(tags["bert"]["average"].runs, 2);
  EXPECT_DOUBLE_EQ(tags["bert"]["average"].operational_g, 400);
  EXPECT_DOUBLE_EQ(tags["vit"]["average"].operational_g, 900);
}

TEST(HistoryTest, TotalsKeepSignalsApart) {
  // Regression: monthly totals added marginal and average grams together.
  auto m = entry("m", "2026-03-01T10:00Z", 1.0, 400, {"bert"});
  m.signal = "marginal";
  auto a = entry("a", "2026-03-02T10:00Z", 1.0, 100, {"bert"});
  auto months = totals_by_month({m, a});
  ASSERT_EQ(months["2026-03"].size(), 2u);
  EXPECT_DOUBLE_EQ(months["2026-03"]["marginal"].operational_g, 400);
  EXPECT_DOUBLE_EQ(months["2026-03"]["average"].operational_g, 100);
  EXPECT_EQ(totals_by_tag({m, a})["bert"]["marginal"].runs, 1);
}

}  // namespace
}  // namespace carbonclock

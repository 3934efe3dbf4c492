// Runs the built `carbonclock grid ...` against a temporary database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "common/files.h"
#include "grid/test_util.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct CliRun {
  int rc = -1;
  std::string out, err;
};

class GridCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = fs::path(CARBONCLOCK_BINARY_DIR) / "carbonclock";
    if (!fs::exists(binary_)) GTEST_SKIP() << "carbonclock binary not built: " << binary_;
    db_ = dir_.path() / "cc.db";
  }
  CliRun run(const std::string& args) {
    fs::path out = dir_.path() / "out.txt", err = dir_.path() / "err.txt";
    std::string cmd = fmt::format("{} {} --db {} > {} 2> {}", binary_.string(), args, db_.string(),
                                  out.string(), err.string());
    int status = std::system(cmd.c_str());
    CliRun r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(out).value();
    r.err = read_file(err).value();
    return r;
  }
  fs::path write(const std::string& name, const std::string& content) {
    fs::path p = dir_.path() / name;
    EXPECT_TRUE(write_file_atomic(p, content).ok());
    return p;
  }
  testing::TempDir dir_;
  fs::path binary_, db_;
};

TEST_F(GridCliTest, ZoneThatIsNotUtf8IsShownAsJsonInsteadOfAborting) {
  // A zone read from a file is bytes; `grid show --format json` aborted (nlohmann's dump threw).
  auto csv = write("evil.csv",
                   "Time,zone,ci\n2020-01-01 00:00,evil\xe9zone,100\n"
                   "2020-01-01 01:00,evil\xe9zone,110\n");
  CliRun imp = run("grid import --format csv " + csv.string());
  ASSERT_EQ(imp.rc, 0) << imp.err;
  CliRun list = run("grid list --format json");
  ASSERT_EQ(list.rc, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr(R"("zone": "evil\\xe9zone")"));
  // Asking for it by that name is refused with a message, not an abort (zone ids are letters,
  // digits, '-' and '_').
  CliRun show = run("grid show --zone 'evil\xe9zone' --format json");
  EXPECT_EQ(show.rc, 2);
  EXPECT_THAT(show.err, HasSubstr("is not a zone id"));
}

TEST_F(GridCliTest, ImportThenShowPrintsExactlyWhatWasStored) {
  auto em = testing::grid_testdata("em_hourly.csv").string();
  CliRun imp = run("grid import " + em);
  ASSERT_EQ(imp.rc, 0) << imp.err;
  EXPECT_THAT(imp.out, HasSubstr("DE average/lifecycle: 3 points (3 new, 0 already stored)"));
  CliRun show = run("grid show --zone DE --from 2022-01-01T00:00Z --to 2022-01-01T02:00Z");
  ASSERT_EQ(show.rc, 0) << show.err;
  EXPECT_EQ(show.out,
            "start_utc,duration_s,g_per_kwh,signal,factor,estimated\n"
            "2022-01-01T00:00:00Z,3600,213.79,average,lifecycle,false\n"
            "2022-01-01T01:00:00Z,3600,218,average,lifecycle,false\n");
  EXPECT_THAT(show.err, HasSubstr("DE average/lifecycle, source electricitymaps-csv"));
  CliRun direct = run("grid show --zone DE --factor direct --format json");
  ASSERT_EQ(direct.rc, 0) << direct.err;
  EXPECT_THAT(direct.out, HasSubstr("\"factor\": \"direct\""));
  EXPECT_THAT(direct.out, HasSubstr("\"g_per_kwh\": 170.5"));
  CliRun again = run("grid import " + em);
  ASSERT_EQ(again.rc, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("(0 new, 3 already stored)"));
  CliRun list = run("grid list");
  EXPECT_THAT(list.out, HasSubstr("DE,average,lifecycle,\"electricitymaps-csv\",,3,"));
  EXPECT_EQ(run("grid show").out, list.out);
}

TEST_F(GridCliTest, ConflictingReimportIsReportedAndStoresNothing) {
  auto good = write("a.csv", "zone,Time,ci\nZ,2020-01-01 00:00,100\nZ,2020-01-01 01:00,110\n");
  ASSERT_EQ(run("grid import " + good.string()).rc, 0);
  auto other = write("other.csv", "zone,Time,ci\nY,2020-01-01 00:00,5\nY,2020-01-01 01:00,6\n");
  auto changed = write("b.csv", "zone,Time,ci\nZ,2020-01-01 00:00,100\nZ,2020-01-01 01:00,120\n");
  CliRun r = run("grid import " + other.string() + " " + changed.string());
  EXPECT_NE(r.rc, 0);
  EXPECT_THAT(r.err, HasSubstr("b.csv: conflict for Z average/lifecycle at 2020-01-01T01:00:00Z: "
                               "stored 110 g/kWh (3600 s), new 120 g/kWh (3600 s)"));
  // Nothing of the failed run is stored: Z keeps its value and Y does not exist.
  CliRun show = run("grid show --zone Z");
  EXPECT_THAT(show.out, HasSubstr("2020-01-01T01:00:00Z,3600,110,"));
  CliRun y = run("grid show --zone Y");
  EXPECT_NE(y.rc, 0);
  EXPECT_THAT(y.err, HasSubstr("no series stored for zone 'Y'"));
}

TEST_F(GridCliTest, BadFileFailsNamingLineAndStoresNothingFromAnyFile) {
  auto good = write("good.csv", "Time,ci\n2020-01-01 00:00,100\n2020-01-01 01:00,110\n");
  auto bad =
      write("ger_ci.csv",
            "Time,ci\n2020-03-29 01:00:00,1\n2020-03-29 02:00:00,2\n2020-03-29 01:00:00,3\n");
  CliRun r = run("grid import --zone Z " + good.string() + " " + bad.string());
  EXPECT_NE(r.rc, 0);
  EXPECT_THAT(r.err, HasSubstr("ger_ci.csv:4: timestamp goes backwards (2020-03-29T01:00:00Z after "
                               "2020-03-29T02:00:00Z)"));
  CliRun list = run("grid list");
  EXPECT_EQ(list.out, "zone,signal,factor,source,issued_at,points,first_start_utc,last_end_utc\n");
}

TEST_F(GridCliTest, BadOptionsAndUnknownZonesFail) {
  auto good = write("good.csv", "Time,ci\n2020-01-01 00:00,100\n2020-01-01 01:00,110\n");
  CliRun unit = run("grid import --zone Z --unit parsecs " + good.string());
  EXPECT_NE(unit.rc, 0);
  EXPECT_THAT(unit.err, HasSubstr("unknown unit 'parsecs'"));
  CliRun missing = run("grid import " + (dir_.path() / "nope.csv").string());
  EXPECT_NE(missing.rc, 0);
  EXPECT_THAT(missing.err, HasSubstr("nope.csv: cannot open"));
  CliRun zone = run("grid show --zone NOWHERE");
  EXPECT_NE(zone.rc, 0);
  EXPECT_THAT(zone.err, HasSubstr("no series stored for zone 'NOWHERE'"));
}

TEST_F(GridCliTest, ForecastsAreShownByIssueTime) {
  auto f = testing::grid_testdata("watttime_forecast.json").string();
  ASSERT_EQ(run("grid import " + f).rc, 0);
  CliRun before =
      run("grid show --zone CAISO_NORTH --signal marginal --forecast-as-of 2023-06-08T11:00Z");
  EXPECT_NE(before.rc, 0);
  CliRun after =
      run("grid show --zone CAISO_NORTH --signal marginal --forecast-as-of 2023-06-08T12:00Z");
  ASSERT_EQ(after.rc, 0) << after.err;
  EXPECT_THAT(after.err, HasSubstr("forecast issued 2023-06-08T11:55:00Z"));
  EXPECT_THAT(after.out, HasSubstr("2023-06-08T12:00:00Z,300,385.553514"));
}

}  // namespace
}  // namespace carbonclock

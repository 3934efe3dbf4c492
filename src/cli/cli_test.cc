// The command line in process: run_cli with a string console and a scripted environment.
#include "cli/cli.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/test_support.h"

namespace carbonclock::cli {
namespace {

namespace fs = std::filesystem;

class CliTest : public testing::InProcessCliTest {
 protected:
  CliTest() : InProcessCliTest("cc_cli", parse_utc("2026-03-02T00:00:00Z").value()) {}

  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir() / name) << text;
    return dir() / name;
  }
};

TEST_F(CliTest, ExitCodesFollowTheErrorCategory) {
  EXPECT_EQ(run({"report", (dir() / "missing").string()}), 3);  // not found
  expect_own_error_lines();
  EXPECT_EQ(run({"shift", "--zone", "DE", "--start", "2026-01-01", "--duration", "1h",
                 "--energy-kwh", "1", "--flex-start", "1h", "--format", "xml"}),
            kExitUsage);
  expect_own_error_lines();
  EXPECT_EQ(run({"plan", "--zone", "DE", "--duration", "1h", "--energy-kwh", "1", "--flex-start",
                 "bogus"}),
            kExitUsage);
  expect_own_error_lines();
  EXPECT_EQ(run({"no-such-command"}), kExitUsage);
  expect_own_error_lines();
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_NE(out().find("Exit status"), std::string::npos);
}

TEST_F(CliTest, RunsOwnFailuresExit125) {
  // Bad options of `run` never look like the wrapped job's exit code.
  EXPECT_EQ(run({"run", "--bogus-option", "--", "true"}), kExitWrapperFailure);
  expect_own_error_lines();
  EXPECT_EQ(run({"run", "--interval", "1ms", "--", "true"}), kExitWrapperFailure);
  expect_own_error_lines();
  // Regression (issue 10): an unknown zone is refused before the job starts.
  EXPECT_EQ(run({"run", "--zone", "NOPE", "--", "touch", (dir() / "ran").string()}),
            kExitWrapperFailure);
  EXPECT_NE(err().find("unknown zone 'NOPE'"), std::string::npos) << err();
  EXPECT_FALSE(fs::exists(dir() / "ran"));
}

TEST_F(CliTest, GridShowFindsAZoneByEveryName) {
  // The Electricity Maps DE-LU export names its rows DE; the user names the zone after the file.
  auto csv = write("DE-LU_2022_hourly.csv",
                   "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh "
                   "(direct),Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable "
                   "Percentage,Data Source,Data Estimated,Data Estimation Method\n"
                   "2022-01-01 00:00:00,Germany,Germany,DE,163.46,213.79,81.25,73.73,entsoe.eu,"
                   "false,\n"
                   "2022-01-01 01:00:00,Germany,Germany,DE,160.00,210.00,81.25,73.73,entsoe.eu,"
                   "false,\n");
  ASSERT_EQ(run({"grid", "import", csv.string()}), 0) << err();
  for (const char* name : {"DE-LU", "DE", "de-lu"}) {
    ASSERT_EQ(run({"grid", "show", "--zone", name, "--format", "json"}), 0) << name << err();
    auto j = nlohmann::json::parse(out());
    EXPECT_EQ(j["zone"], "DE");
    EXPECT_EQ(j["points"].size(), 2u);
    EXPECT_EQ(j["points"][0]["g_per_kwh"], 213.79);
  }
  EXPECT_EQ(run({"grid", "show", "--zone", "FR"}), 3);
  EXPECT_NE(err().find("no series stored for zone 'FR'"), std::string::npos) << err();
}

TEST_F(CliTest, GridListEscapesCsvFields) {
  auto csv = write("z.csv", "time,value\n2023-01-01T00:00Z,100\n");
  ASSERT_EQ(run({"grid", "import", "--zone", "EVIL_ZONE", "--source", "say \"b\"", "--step", "1h",
                 csv.string()}),
            0)
      << err();
  ASSERT_EQ(run({"grid", "list"}), 0) << err();
  EXPECT_NE(out().find("EVIL_ZONE,average,lifecycle,\"say \"\"b\"\"\","), std::string::npos)
      << out();
  ASSERT_EQ(run({"grid", "list", "--format", "json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(out())["series"][0]["source"], "say \"b\"");
}

TEST_F(CliTest, HistoryFormatsAndUntil) {
  ASSERT_EQ(run({"history", "--format", "csv"}), 0) << err();
  EXPECT_EQ(out().rfind("run_id,start_utc,", 0), 0u) << out();
  ASSERT_EQ(run({"history", "--format", "json", "--since", "2026-01-01", "--until", "2026-02-01"}),
            0)
      << err();
  EXPECT_TRUE(nlohmann::json::parse(out())["runs"].empty());
  EXPECT_EQ(run({"history", "--since", "2026-02-01", "--until", "2026-01-01"}), kExitUsage);
}

}  // namespace
}  // namespace carbonclock::cli

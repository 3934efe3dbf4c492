// `forecast` and `backtest` through the command line, in process: formats, -o, errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/test_support.h"

namespace carbonclock::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const SysTime kT0 = parse_utc("2026-01-05T00:00:00Z").value();

class ForecastCliTest : public testing::InProcessCliTest {
 protected:
  ForecastCliTest() : InProcessCliTest("cc_fcli", kT0 + 24h * 21) {}
  void SetUp() override {
    InProcessCliTest::SetUp();
    // 21 days of hourly data with a daily shape.
    IntensitySeries s{"DE", Signal::kAverage, Factor::kLifecycle, "test", std::nullopt, {}};
    for (int h = 0; h < 24 * 21; ++h) {
      double v = 300 + 100 * std::sin(2 * M_PI * (h % 24) / 24.0) + (h * 37 % 11);
      s.points.push_back({kT0 + 1h * h, 1h, v, false});
    }
    import({s});
    std::ofstream(dir() / "jobs.csv") << "name,duration_h,energy_kwh\njob,2,4\n";
  }
};

TEST_F(ForecastCliTest, ForecastInEveryFormat) {
  ASSERT_EQ(run({"forecast", "--zone", "DE", "--horizon", "6h"}), 0) << err();
  EXPECT_THAT(out(), StartsWith("carbonclock forecast for DE average/lifecycle"));
  EXPECT_THAT(out(), HasSubstr("p90"));
  ASSERT_EQ(run({"forecast", "--zone", "DE", "--horizon", "6h", "--format", "csv"}), 0) << err();
  EXPECT_THAT(out(), StartsWith("zone,start_utc,step,g_per_kwh,p10_g_per_kwh"));
  EXPECT_EQ(std::count(out().begin(), out().end(), '\n'), 7);
  ASSERT_EQ(run({"forecast", "--zone", "DE", "--horizon", "6h", "--format", "json", "--as-of",
                 format_utc(kT0 + 24h * 15)}),
            0)
      << err();
  auto doc = nlohmann::json::parse(out());
  EXPECT_EQ(doc["issued_at_utc"], format_utc(kT0 + 24h * 15));
  EXPECT_EQ(doc["slots"].size(), 6u);
  EXPECT_FALSE(doc["slots"][0]["actual_g_per_kwh"].is_null());  // a forecast about the past
}

TEST_F(ForecastCliTest, ForecastErrorsAreOwnLines) {
  EXPECT_EQ(run({"forecast", "--zone", "DE", "--model", "sarima"}), kExitUsage);
  expect_own_error_lines();
  EXPECT_NE(run({"forecast", "--zone", "DE", "--signal", "marginal"}), 0);
  expect_own_error_lines();
  EXPECT_THAT(err(), HasSubstr("marginal"));
}

TEST_F(ForecastCliTest, BacktestCsvMarkdownJsonAndOutputFile) {
  const std::vector<std::string> grid = {
      "backtest", "--zones", "DE",  "--jobs", (dir() / "jobs.csv").string(), "--windows",
      "6h,12h",   "--every", "31h", "--from", format_utc(kT0 + 24h * 2)};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = grid;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  ASSERT_EQ(run(with({"--forecast", "auto"})), 0) << err();
  EXPECT_THAT(out(), StartsWith("job,zone,start_utc,window,algorithm,forecast,baseline_g,"
                                "realised_g,oracle_g,captured_pct,pauses\n"));
  EXPECT_THAT(out(), HasSubstr(",pause-resume,auto,"));
  const std::string csv = out();
  ASSERT_EQ(run(with({"--forecast", "auto", "-o", (dir() / "bt.csv").string()})), 0) << err();
  std::ifstream in(dir() / "bt.csv");
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(file, csv);
  ASSERT_EQ(run(with({"--forecast", "oracle", "--format", "md"})), 0) << err();
  EXPECT_THAT(out(), HasSubstr("## Flexible Start"));
  EXPECT_THAT(out(), HasSubstr("(100.0)"));
  ASSERT_EQ(
      run(with({"--forecast", "profile", "--format", "json", "--algorithms", "pause-resume"})), 0)
      << err();
  auto doc = nlohmann::json::parse(out());
  ASSERT_EQ(doc["algorithms"].size(), 1u);
  EXPECT_EQ(doc["algorithms"][0]["algorithm"], "pause-resume");
}

TEST_F(ForecastCliTest, BacktestErrorsAreOwnLines) {
  EXPECT_EQ(run({"backtest", "--zones", "DE", "--forecast", "crystal-ball"}), kExitUsage);
  expect_own_error_lines();
  EXPECT_THAT(err(), HasSubstr("noise:P%"));
  EXPECT_EQ(run({"backtest", "--zones", "DE", "--forecast", "oracle", "--risk", "p90"}),
            kExitUsage);
  expect_own_error_lines();
}

TEST_F(ForecastCliTest, PlanAndRunTakeRisk) {
  ASSERT_EQ(run({"plan", "--zone", "DE", "--duration", "2h", "--energy-kwh", "1", "--flex-start",
                 "12h", "--slot", "1h", "--risk", "p90"}),
            0)
      << err();
  EXPECT_THAT(out(), HasSubstr("risk: planned on p90 of carbonclock's own forecast"));
  ASSERT_EQ(run({"plan", "--zone", "DE", "--duration", "2h", "--energy-kwh", "1", "--flex-start",
                 "12h", "--slot", "1h", "--risk", "p90", "--format", "json"}),
            0)
      << err();
  EXPECT_EQ(nlohmann::json::parse(out())["risk"]["quantile"], "p90");
  EXPECT_EQ(run({"plan", "--zone", "DE", "--duration", "2h", "--energy-kwh", "1", "--flex-start",
                 "12h", "--risk", "p95"}),
            kExitUsage);
  expect_own_error_lines();
  EXPECT_EQ(run({"run", "--zone", "DE", "--flex-start", "1h", "--expected-duration", "1s", "--risk",
                 "p99", "--", "true"}),
            kExitWrapperFailure);  // run's own failures, as `env` and `timeout`
  EXPECT_THAT(err(), HasSubstr("--risk"));
}

}  // namespace
}  // namespace carbonclock::cli

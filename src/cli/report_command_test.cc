// End-to-end tests of carbon accounting through the binary: a run metered with the fake NVML,
// a zone with imported series, reports in every format, history, and bad input.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_test_harness.h"
#include "common/files.h"
#include "common/time.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;

class ReportCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("cc_report");
    fs::create_directories(dir_ / "sysfs");
    std::ofstream(dir_ / "nvml.script") << "gpu\nname Fake A100\npower 100\n";
    db_ = (dir_ / "grid.db").string();
    // The fake NVML, an empty sysfs and no inherited zone settings.
    cli_ = CliHarness(dir_);
    cli_.env = {{"CARBONCLOCK_NVML_LIBRARY", FAKE_NVML_LIBRARY},
                {"FAKE_NVML_SCRIPT", (dir_ / "nvml.script").string()},
                {"CARBONCLOCK_SYSFS_ROOT", (dir_ / "sysfs").string()},
                {"CARBONCLOCK_DB", db_},
                {"CARBONCLOCK_ZONE", std::nullopt},
                {"CARBONCLOCK_REGION", std::nullopt},
                {"CUDA_VISIBLE_DEVICES", std::nullopt}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run(const std::vector<std::string>& args) { return cli_.run(args); }
  std::string out() { return cli_.out(); }
  std::string err() { return cli_.err(); }

  // A generic CSV of hourly points from 2 hours before now to 3 hours after, all `value`.
  void write_series(const fs::path& path, double value) {
    auto now = std::chrono::time_point_cast<Nanos>(std::chrono::system_clock::now());
    SysTime t = floor_to(now, std::chrono::hours(1)) - std::chrono::hours(2);
    std::ofstream f(path);
    f << "Time,Carbon Intensity\n";
    for (int i = 0; i < 6; ++i, t += std::chrono::hours(1)) {
      f << format_utc(t) << "," << value << "\n";
    }
  }

  // Imports marginal 600 and average 250 g/kWh for zone TESTZONE, then meters a 1.5 s job
  // there with PUE 1.5 and tag exp1.
  void measure() {
    write_series(dir_ / "marginal.csv", 600);
    write_series(dir_ / "average.csv", 250);
    ASSERT_EQ(run({"grid", "import", (dir_ / "marginal.csv").string(), "--format", "csv", "--zone",
                   "TESTZONE", "--signal", "marginal", "--step", "1h"}),
              0)
        << err();
    ASSERT_EQ(run({"grid", "import", (dir_ / "average.csv").string(), "--format", "csv", "--zone",
                   "TESTZONE", "--signal", "average", "--step", "1h"}),
              0)
        << err();
    ASSERT_EQ(run({"run", "--interval", "100ms", "--zone", "TESTZONE", "--pue", "1.5", "--tag",
                   "exp1", "--per", "1000 inferences", "--work", "5000", "--out",
                   (dir_ / "run").string(), "--", "sleep", "1.5"}),
              0)
        << err();
    run_stderr_ = err();
    auto doc = nlohmann::json::parse(read_file(dir_ / "run" / "run.json").value());
    energy_kwh_ = doc["energy_j_total"].get<double>() / 3.6e6;
    run_id_ = doc["id"];
  }
  nlohmann::json report_json(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"report", (dir_ / "run").string(), "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    EXPECT_EQ(run(args), 0) << err();
    return nlohmann::json::parse(out());
  }

  CliHarness cli_{""};
  fs::path dir_;
  std::string db_;
  std::string run_stderr_;
  double energy_kwh_ = 0;
  std::string run_id_;
};

TEST_F(ReportCommandTest, ReportedGramsEqualEnergyTimesImportedIntensityTimesPue) {
  measure();
  // The fake GPU draws 100 W for about 1.5 s (plus estimated CPU/DRAM, if any).
  EXPECT_GT(energy_kwh_, 100 * 1.4 / 3.6e6);
  auto j = report_json();
  EXPECT_EQ(j["zone"], "TESTZONE");
  EXPECT_EQ(j["zone_origin"], "run.json (chosen at run time)");
  EXPECT_DOUBLE_EQ(j["pue"].get<double>(), 1.5);
  EXPECT_EQ(j["signal"], "marginal");
  EXPECT_NEAR(j["energy_kwh"].get<double>(), energy_kwh_, 1e-15);
  // Marginal: E × 600 g/kWh × 1.5; average: E × 250 × 1.5. All of it priced by stored data.
  EXPECT_NEAR(j["operational_g"].get<double>(), energy_kwh_ * 600 * 1.5, 1e-9);
  EXPECT_NEAR(j["signals"][1]["operational_g"].get<double>(), energy_kwh_ * 250 * 1.5, 1e-9);
  EXPECT_DOUBLE_EQ(j["coverage"]["stored_share"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["coverage"]["embedded_share"].get<double>(), 0.0);
  // SCI per 1000 inferences, the run did 5000: R = 5.
  EXPECT_NEAR(j["sci_g_per_unit"].get<double>(),
              (j["operational_g"].get<double>() + j["embodied_g"].get<double>()) / 5, 1e-9);
  // `run` printed the same emissions.
  EXPECT_NE(run_stderr_.find("CO2eq operational (marginal signal, zone TESTZONE, PUE 1.50"),
            std::string::npos)
      << run_stderr_;

  // --signal average and --pue override at report time: E × 250 × 1.2.
  auto avg = report_json({"--signal", "average", "--pue", "1.2"});
  EXPECT_NEAR(avg["operational_g"].get<double>(), energy_kwh_ * 250 * 1.2, 1e-9);
  EXPECT_EQ(avg["pue_origin"], "--pue");
}

TEST_F(ReportCommandTest, EveryFormatIsProduced) {
  measure();
  const std::string dir = (dir_ / "run").string();
  ASSERT_EQ(run({"report", dir}), 0) << err();
  EXPECT_NE(out().find("headline marginal"), std::string::npos) << out();
  EXPECT_NE(out().find("SCI = (E × I + M) / R"), std::string::npos);

  auto csv = (dir_ / "emissions.csv").string();
  ASSERT_EQ(run({"report", dir, "--format", "csv", "-o", csv}), 0) << err();
  ASSERT_EQ(run({"report", dir, "--format", "csv", "-o", csv}), 0) << err();
  auto text = read_file(csv).value();
  EXPECT_EQ(text.rfind("timestamp,project_name,run_id,experiment_id,duration,emissions,", 0), 0u);
  // Reported twice, the run is one row (CodeCarbon's update mode), not two.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_NE(text.find(fmt::format(",{},", run_id_)), std::string::npos);
  // Row 2, column 6 (after timestamp, project_name, run_id, experiment_id, duration): kg.
  std::string row = text.substr(text.find('\n') + 1);
  size_t at = 0;
  for (int i = 0; i < 5; ++i) at = row.find(',', at) + 1;
  EXPECT_NEAR(std::stod(row.substr(at, row.find(',', at) - at)), energy_kwh_ * 600 * 1.5 / 1000,
              1e-12)
      << text;
  // pue, then wue (0) last, as in CodeCarbon 3.x.
  EXPECT_EQ(row.substr(0, row.find('\n')).rfind(",1.5,0"), row.find('\n') - 6);

  ASSERT_EQ(run({"report", dir, "--format", "md"}), 0) << err();
  EXPECT_NE(out().find(fmt::format("{:.4g} gCO2eq using the marginal", energy_kwh_ * 900)),
            std::string::npos)
      << out();

  auto html = dir_ / "report.html";
  ASSERT_EQ(run({"report", dir, "--format", "html", "-o", html.string()}), 0) << err();
  auto page = read_file(html).value();
  EXPECT_NE(page.find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_NE(page.find("TESTZONE"), std::string::npos);

  ASSERT_EQ(run({"report", dir, "--format", "model-card", "--training-type", "fine-tuning"}), 0)
      << err();
  EXPECT_EQ(out().rfind("co2_eq_emissions:\n  emissions: ", 0), 0u) << out();
  EXPECT_NE(out().find("  training_type: \"fine-tuning\""), std::string::npos) << out();

  ASSERT_EQ(run({"report", dir, "--format", "run-json"}), 0) << err();
  auto raw = nlohmann::json::parse(out());
  EXPECT_EQ(raw["zone"], "TESTZONE");
  EXPECT_EQ(raw["per"], "1000 inferences");
}

TEST_F(ReportCommandTest, HistoryListsRunsWithTotalsPerMonthAndTag) {
  measure();
  ASSERT_EQ(run({"history"}), 0) << err();
  EXPECT_NE(out().find(run_id_), std::string::npos) << out();
  EXPECT_NE(out().find("exp1"), std::string::npos);
  EXPECT_NE(out().find("totals per month"), std::string::npos);

  ASSERT_EQ(run({"history", "--format", "json", "--tag", "exp1"}), 0) << err();
  auto j = nlohmann::json::parse(out());
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_NEAR(j["runs"][0]["operational_g"].get<double>(), energy_kwh_ * 900, 1e-9);
  // Totals are kept per signal.
  const std::string signal = j["runs"][0]["signal"];
  EXPECT_EQ(j["by_tag"]["exp1"][signal]["runs"], 1);
  ASSERT_EQ(run({"history", "--format", "json", "--tag", "other"}), 0) << err();
  EXPECT_EQ(nlohmann::json::parse(out())["runs"].size(), 0u);
}

TEST_F(ReportCommandTest, BadInputIsAClearErrorOrASaidFallback) {
  measure();
  const std::string dir = (dir_ / "run").string();
  EXPECT_EQ(run({"report", dir, "--pue", "5"}), 2);
  EXPECT_NE(err().find("absurd"), std::string::npos) << err();
  EXPECT_EQ(run({"report", dir, "--pue", "-1"}), 2);
  EXPECT_EQ(run({"run", "--pue", "0.5", "--", "true"}), 125);  // run's own failure
  EXPECT_NE(err().find("below 1"), std::string::npos) << err();
  EXPECT_EQ(run({"run", "--region", "us-west-9", "--", "true"}), 125);

  EXPECT_EQ(run({"report", dir, "--zone", "NOWHERE"}), 3);  // not found
  EXPECT_NE(err().find("no carbon-intensity data for zone 'NOWHERE'"), std::string::npos);
  // DE has no stored data here: the embedded profile prices everything, and the report says so.
  auto de = report_json({"--zone", "DE"});
  EXPECT_DOUBLE_EQ(de["coverage"]["embedded_share"].get<double>(), 1.0);
  EXPECT_NE(de["notes"].dump().find("embedded typical profile"), std::string::npos);
  EXPECT_EQ(run({"report", dir, "--signal", "marginal", "--zone", "DE"}), 3);

  fs::create_directories(dir_ / "partial");
  EXPECT_EQ(run({"report", (dir_ / "partial").string()}), 3);
  EXPECT_NE(err().find("not a carbonclock run directory"), std::string::npos);
  fs::create_directories(dir_ / "newer");
  auto doc = nlohmann::json::parse(read_file(dir_ / "run" / "run.json").value());
  doc["schema_version"] = 99;
  std::ofstream(dir_ / "newer" / "run.json") << doc.dump();
  EXPECT_EQ(run({"report", (dir_ / "newer").string()}), 2);  // invalid input
  EXPECT_NE(err().find("newer"), std::string::npos);
}

}  // namespace
}  // namespace carbonclock

// End-to-end tests of what carbonclock writes for people and programs (issue 10): options that
// never swallow the command, the history (every run, absolute paths, exit codes, unpriced and
// recovered runs), every JSON output against its committed schema with a real validator, and
// --help that says the same thing the same way everywhere. The real binary, the fake NVML.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "cli/cli_test_harness.h"
#include "common/files.h"
#include "common/time.h"
#include "reports/schema_check.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class OutputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("cc_outputs");
    fs::create_directories(dir_ / "sysfs");
    fs::create_directories(dir_ / "bin");
    std::ofstream(dir_ / "nvml.script") << "gpu\nname Fake A100\npower 100\n";
    cli_ = CliHarness(dir_);
    const char* path = std::getenv("PATH");
    cli_.env = {{"CARBONCLOCK_NVML_LIBRARY", FAKE_NVML_LIBRARY},
                {"FAKE_NVML_SCRIPT", (dir_ / "nvml.script").string()},
                {"CARBONCLOCK_SYSFS_ROOT", (dir_ / "sysfs").string()},
                {"CARBONCLOCK_DB", (dir_ / "grid.db").string()},
                {"CARBONCLOCK_ZONE", std::nullopt},
                {"CARBONCLOCK_REGION", std::nullopt},
                {"CARBONCLOCK_CONFIG", (dir_ / "no-config").string()},
                {"CUDA_VISIBLE_DEVICES", std::nullopt},
                {"PATH", (dir_ / "bin").string() + ":" + (path ? path : "/usr/bin:/bin")}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run(const std::vector<std::string>& args) { return cli_.run(args); }
  std::string out() { return cli_.out(); }
  std::string err() { return cli_.err(); }
  nlohmann::json history() {
    EXPECT_EQ(run({"history", "--format", "json"}), 0) << err();
    return nlohmann::json::parse(out());
  }
  void script(const std::string& name, const std::string& body) {
    std::ofstream(dir_ / "bin" / name) << "#!/bin/sh\n" << body << "\n";
    ::chmod((dir_ / "bin" / name).c_str(), 0755);
  }
  // Hourly points of `value` from 2 hours before now to 3 hours after, for `zone`/`signal`.
  void import_around_now(const std::string& zone, const std::string& signal, double value) {
    auto now = std::chrono::time_point_cast<Nanos>(std::chrono::system_clock::now());
    SysTime t = floor_to(now, std::chrono::hours(1)) - std::chrono::hours(2);
    fs::path csv = dir_ / (zone + "_" + signal + ".csv");
    std::ofstream f(csv);
    f << "Time,Carbon Intensity\n";
    for (int i = 0; i < 6; ++i, t += std::chrono::hours(1))
      f << format_utc(t) << "," << value << "\n";
    f.close();
    ASSERT_EQ(run({"grid", "import", csv.string(), "--format", "csv", "--zone", zone, "--signal",
                   signal, "--step", "1h"}),
              0)
        << err();
  }

  CliHarness cli_{""};
  fs::path dir_;
};

TEST_F(OutputsTest, TagNeverSwallowsTheDoubleDashOrTheCommand) {
  // Issue 10, item 1: `run --tag bert -- python3 -c 'print(1)'` exited 109.
  ASSERT_EQ(run({"run", "-q", "--tag", "bert", "--out", (dir_ / "r1").string(), "--", "python3",
                 "-c", "print(1)"}),
            0)
      << err();
  EXPECT_EQ(out(), "1\n");
  auto doc = nlohmann::json::parse(read_file(dir_ / "r1" / "run.json").value());
  EXPECT_EQ(doc["tags"], nlohmann::json({"bert"}));
  EXPECT_EQ(doc["command"], nlohmann::json({"python3", "-c", "print(1)"}));
  // The README's torchrun line (a stand-in torchrun on PATH), and repeated tags.
  script("torchrun", "echo \"torchrun $*\"");
  ASSERT_EQ(
      run({"run", "--interval", "100ms", "--gpus", "used", "--tag", "bert", "--tag", "exp2",
           "--out", (dir_ / "r2").string(), "--", "torchrun", "--nproc-per-node", "4", "train.py"}),
      0)
      << err();
  EXPECT_EQ(out(), "torchrun --nproc-per-node 4 train.py\n");
  doc = nlohmann::json::parse(read_file(dir_ / "r2" / "run.json").value());
  EXPECT_EQ(doc["tags"], nlohmann::json({"bert", "exp2"}));
  EXPECT_EQ(doc["command"][0], "torchrun");
}

TEST_F(OutputsTest, HistoryKeepsAbsoluteRunDirsExitCodesAndHostFacts) {
  // A relative --out, from another working directory: the history holds the absolute path.
  const fs::path before = fs::current_path();
  fs::current_path(dir_);
  int rc = run({"run", "-q", "--zone", "DE", "--out", "rel/run", "--", "sh", "-c", "exit 3"});
  fs::current_path(before);
  ASSERT_EQ(rc, 3) << err();
  auto h = history();
  ASSERT_EQ(h["runs"].size(), 1u) << h;
  EXPECT_EQ(h["runs"][0]["run_dir"], (dir_ / "rel" / "run").string());
  EXPECT_EQ(h["runs"][0]["exit_code"], 3);
  EXPECT_EQ(testing::schema_errors("history.schema.json", h.dump()), "");
  ASSERT_EQ(run({"history"}), 0);
  EXPECT_NE(out().find(" exit "), std::string::npos) << out();
  EXPECT_NE(out().find("    3 "), std::string::npos) << out();
  // The run records the machine it ran on (CodeCarbon's cpu_model, cpu_count, ...).
  auto doc = nlohmann::json::parse(read_file(dir_ / "rel" / "run" / "run.json").value());
  ASSERT_TRUE(doc.contains("host_info")) << doc.dump(2);
  EXPECT_GT(doc["host_info"]["logical_cpus"].get<int>(), 0);
  EXPECT_EQ(doc["host_info"]["logical_cpus"].get<long>(), ::sysconf(_SC_NPROCESSORS_ONLN));
}

TEST_F(OutputsTest, ARunInAZoneWithoutIntensityForItsTimeIsStillRecorded) {
  // ISLAND has data for 2022 only and no embedded profile: the run cannot be priced.
  std::ofstream(dir_ / "island.csv") << "time,value\n2022-01-01T00:00Z,100\n";
  ASSERT_EQ(
      run({"grid", "import", "--zone", "ISLAND", "--step", "1h", (dir_ / "island.csv").string()}),
      0)
      << err();
  ASSERT_EQ(run({"run", "--zone", "ISLAND", "--tag", "isl", "--out", (dir_ / "run").string(), "--",
                 "true"}),
            0)
      << err();
  EXPECT_NE(err().find("no emissions for this run"), std::string::npos) << err();
  auto h = history();
  ASSERT_EQ(h["runs"].size(), 1u) << h;
  EXPECT_EQ(h["runs"][0]["signal"], "unpriced");
  EXPECT_EQ(h["runs"][0]["zone"], "ISLAND");
  EXPECT_TRUE(h["runs"][0]["operational_g"].is_null());
  EXPECT_EQ(h["by_tag"]["isl"]["unpriced"]["runs"], 1);
  EXPECT_EQ(testing::schema_errors("history.schema.json", h.dump()), "");
  ASSERT_EQ(run({"history"}), 0);
  EXPECT_NE(out().find("not priced"), std::string::npos) << out();
  ASSERT_EQ(run({"history", "--format", "csv"}), 0);
  EXPECT_NE(out().find(",,unpriced,"), std::string::npos) << out();
}

TEST_F(OutputsTest, ASigkilledRunIsRecordedOnceWhenReportRebuildsIt) {
  auto ready = dir_ / "ready";
  pid_t pid =
      cli_.start({"run", "--interval", "100ms", "--zone", "DE", "--out", (dir_ / "run").string(),
                  "--", "sh", "-c", "echo $$ > " + ready.string() + "; exec sleep 30"});
  for (int i = 0; i < 500 && !fs::exists(ready); ++i) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(1500ms);
  ::kill(pid, SIGKILL);
  CliHarness::wait_exit(pid);
  ::kill(std::stoi(read_file(ready).value()), SIGKILL);
  EXPECT_EQ(history()["runs"].size(), 0u);
  ASSERT_EQ(run({"report", (dir_ / "run").string()}), 0) << err();
  ASSERT_EQ(run({"report", (dir_ / "run").string(), "--format", "json"}), 0) << err();
  auto h = history();
  ASSERT_EQ(h["runs"].size(), 1u) << h;
  EXPECT_TRUE(h["runs"][0]["recovered"].get<bool>());
  EXPECT_TRUE(h["runs"][0]["exit_code"].is_null());
  EXPECT_EQ(h["runs"][0]["run_dir"], (dir_ / "run").string());
}

TEST_F(OutputsTest, EveryJsonOutputFollowsItsCommittedSchema) {
  import_around_now("TESTZONE", "marginal", 600);
  import_around_now("TESTZONE", "average", 250);
  const std::string run_dir = (dir_ / "run").string();
  ASSERT_EQ(run({"run", "--interval", "100ms", "--zone", "TESTZONE", "--pue", "1.5", "--tag",
                 "exp1", "--out", run_dir, "--", "sleep", "1"}),
            0)
      << err();
  auto check = [&](const std::string& schema, const std::vector<std::string>& args) {
    SCOPED_TRACE(schema);
    ASSERT_EQ(run(args), 0) << err();
    EXPECT_EQ(testing::schema_errors(schema, out()), "") << out().substr(0, 3000);
  };
  check("run.schema.json", {"report", run_dir, "--format", "run-json"});
  check("report.schema.json", {"report", run_dir, "--format", "json"});
  check("history.schema.json", {"history", "--format", "json"});
  check("grid-list.schema.json", {"grid", "list", "--format", "json"});
  check("grid-series.schema.json", {"grid", "show", "--zone", "TESTZONE", "--format", "json"});
  check("regions.schema.json", {"regions", "--format", "json"});
  const std::string start =
      format_utc(floor_to(std::chrono::time_point_cast<Nanos>(std::chrono::system_clock::now()),
                          std::chrono::hours(1)) -
                 std::chrono::hours(2));
  check("shift.schema.json",
        {"shift", "--zone", "TESTZONE", "--start", start, "--duration", "1h", "--energy-kwh", "3.1",
         "--flex-start", "1h", "--zones", "DE,FR", "--format", "json"});
  check("shift.schema.json",
        {"whatif", run_dir, "--zones", "DE", "--pause-resume", "50%", "--format", "json"});
  check("plan.schema.json", {"plan", "--zone", "TESTZONE", "--duration", "1h", "--energy-kwh", "2",
                             "--flex-start", "2h", "--zones", "DE", "--format", "json"});
  check("plan.schema.json", {"plan", "--zone", "TESTZONE", "--duration", "1h", "--energy-kwh", "2",
                             "--flex-start", "2h", "--risk", "p90", "--format", "json"});
  std::ofstream(dir_ / "jobs.csv") << "name,duration_h,energy_kwh\nsmall,1,2\n";
  check("sweep.schema.json", {"sweep", "--jobs", (dir_ / "jobs.csv").string(), "--zones",
                              "TESTZONE", "--windows", "1h", "--every", "1h", "--format", "json"});
  auto sweep = nlohmann::json::parse(out());
  EXPECT_FALSE(sweep["rows"].empty()) << sweep.dump(2);
  // forecast and backtest: three weeks of hourly history with a daily shape.
  {
    std::ofstream f(dir_ / "history.csv");
    f << "Time,Carbon Intensity\n";
    SysTime t = parse_utc("2025-01-06T00:00:00Z").value();
    for (int h = 0; h < 24 * 21; ++h, t += 1h) {
      f << format_utc(t) << "," << 300 + 100 * std::sin(h * 0.2618) + (h * 37 % 11) << "\n";
    }
  }
  ASSERT_EQ(run({"grid", "import", (dir_ / "history.csv").string(), "--format", "csv", "--zone",
                 "FCZONE", "--signal", "average", "--step", "1h"}),
            0)
      << err();
  check("forecast.schema.json", {"forecast", "--zone", "FCZONE", "--as-of", "2025-01-26T00:00Z",
                                 "--horizon", "6h", "--store", "--format", "json"});
  EXPECT_FALSE(nlohmann::json::parse(out())["stored"].is_null());
  check("forecast.schema.json", {"forecast", "--zone", "FCZONE", "--as-of", "2025-01-20T00:00Z",
                                 "--horizon", "3d", "--model", "smoothing", "--format", "json"});
  check("backtest.schema.json",
        {"backtest", "--jobs", (dir_ / "jobs.csv").string(), "--zones", "FCZONE", "--windows",
         "6h,100%", "--every", "13h", "--from", "2025-01-20T00:00Z", "--format", "json"});
  EXPECT_GT(nlohmann::json::parse(out())["rows"].get<int>(), 0) << out();
  check("backtest.schema.json", {"backtest", "--jobs", (dir_ / "jobs.csv").string(), "--zones",
                                 "FCZONE", "--windows", "6h", "--every", "13h", "--from",
                                 "2025-01-20T00:00Z", "--forecast", "stored", "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(out())["zones"][0]["stored"]["issues"], 1) << out();
  // A schema that rejects nothing would pass everything: a broken document fails.
  ASSERT_EQ(run({"history", "--format", "json"}), 0);
  auto broken = nlohmann::json::parse(out());
  broken["runs"][0]["run_dir"] = "relative/path";
  EXPECT_NE(testing::schema_errors("history.schema.json", broken.dump()), "");
  ASSERT_EQ(run({"forecast", "--zone", "FCZONE", "--as-of", "2025-01-26T00:00Z", "--horizon", "2h",
                 "--format", "json"}),
            0);
  auto no_model = nlohmann::json::parse(out());
  no_model["slots"][0]["model"] = "auto";  // slots name the model that served
  EXPECT_NE(testing::schema_errors("forecast.schema.json", no_model.dump()), "");
}

TEST_F(OutputsTest, JsonNumbersAreTheShortestOfExactSums) {
  // Item 13: `energy_kwh: 3.1000000000000028` for --energy-kwh 3.1.
  ASSERT_EQ(run({"shift", "--zone", "DE", "--start", "2026-01-01T00:00Z", "--duration", "6h",
                 "--energy-kwh", "3.1", "--flex-start", "6h", "--format", "json"}),
            0)
      << err();
  const std::regex exact_3_1("\"energy_kwh\": 3\\.1[,\n]");
  EXPECT_TRUE(std::regex_search(out(), exact_3_1)) << out().substr(0, 400);
  EXPECT_EQ(out().find("3.10000"), std::string::npos) << out();
  ASSERT_EQ(run({"plan", "--zone", "DE", "--duration", "6h", "--energy-kwh", "3.1", "--flex-start",
                 "6h", "--format", "json"}),
            0)
      << err();
  EXPECT_TRUE(std::regex_search(out(), exact_3_1)) << out().substr(0, 600);
  EXPECT_EQ(out().find("3.10000"), std::string::npos) << out();
  EXPECT_EQ(out().find("-0.0"), std::string::npos);
}

TEST_F(OutputsTest, GridImportReplaceSwapsRevisedValuesAtomically) {
  // Item 15: the docs said re-import replaces data; it refused. Now --replace does, atomically.
  std::ofstream(dir_ / "v1.csv") << "time,value\n2023-01-01T00:00Z,100\n2023-01-01T01:00Z,110\n";
  std::ofstream(dir_ / "v2.csv") << "time,value\n2023-01-01T01:00Z,55\n2023-01-01T02:00Z,60\n";
  auto import = [&](const std::string& file, bool replace) {
    std::vector<std::string> args{
        "grid", "import", "--zone", "ISL", "--step", "1h", (dir_ / file).string()};
    if (replace) args.push_back("--replace");
    return run(args);
  };
  ASSERT_EQ(import("v1.csv", false), 0) << err();
  EXPECT_NE(import("v2.csv", false), 0);
  EXPECT_NE(err().find("--replace"), std::string::npos) << err();
  ASSERT_EQ(import("v2.csv", true), 0) << err();
  EXPECT_NE(out().find("1 stored points replaced"), std::string::npos) << out();
  ASSERT_EQ(run({"grid", "show", "--zone", "ISL", "--format", "json"}), 0) << err();
  auto j = nlohmann::json::parse(out());
  ASSERT_EQ(j["points"].size(), 3u);
  EXPECT_EQ(j["points"][1]["g_per_kwh"], 55);
  auto docs = read_file(std::string(CARBONCLOCK_SOURCE_DIR) + "/docs/live-sources.md").value();
  EXPECT_NE(docs.find("`carbonclock grid import --replace FILE`"), std::string::npos);
  EXPECT_EQ(docs.find("re-import with `grid import` to replace data"), std::string::npos);
}

TEST_F(OutputsTest, CodeCarbonCsvAppendsToAnOlderLayoutWithoutDuplicates) {
  ASSERT_EQ(run({"run", "-q", "--zone", "DE", "--out", (dir_ / "run").string(), "--", "true"}), 0)
      << err();
  // An emissions.csv CodeCarbon 2.7 wrote (32 columns).
  const std::string old_header =
      "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,"
      "gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,"
      "country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,"
      "cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,"
      "on_cloud,pue";
  std::ofstream(dir_ / "emissions.csv") << old_header << "\n";
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(run({"report", (dir_ / "run").string(), "--format", "csv", "-o",
                   (dir_ / "emissions.csv").string()}),
              0)
        << err();
  }
  auto text = read_file(dir_ / "emissions.csv").value();
  EXPECT_EQ(text.rfind(old_header + "\n", 0), 0u) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  std::string row = text.substr(old_header.size() + 1);
  EXPECT_EQ(std::count(row.begin(), row.end(), ','), 31) << row;
  EXPECT_NE(row.find(",Germany,DEU,DE,,,"), std::string::npos) << row;  // no cloud claimed
  EXPECT_NE(row.find(",N,1\n"), std::string::npos) << row;              // on_cloud N, pue 1
}

// --- --help consistency (item 14) ---------------------------------------------------------

struct Command {
  std::vector<std::string> args;  ///< enough to reach option parsing
};

std::vector<Command> commands_with_format(const std::string& run_dir) {
  return {
      {{"report", run_dir}},
      {{"history"}},
      {{"grid", "list"}},
      {{"grid", "show", "--zone", "DE"}},
      {{"grid", "import", "x.csv"}},
      {{"regions"}},
      {{"shift", "--zone", "DE", "--start", "2026-01-01", "--duration", "1h", "--energy-kwh", "1",
        "--flex-start", "1h"}},
      {{"whatif", run_dir}},
      {{"sweep", "--zones", "all"}},
      {{"plan", "--zone", "DE", "--duration", "1h", "--energy-kwh", "1", "--flex-start", "1h"}}};
}

TEST_F(OutputsTest, EveryFormatIsCheckedAgainstItsChoicesBeforeAnythingRuns) {
  for (const auto& c : commands_with_format((dir_ / "missing-run").string())) {
    auto args = c.args;
    args.insert(args.end(), {"--format", "bogus"});
    SCOPED_TRACE(fmt::format("{}", fmt::join(args, " ")));
    EXPECT_EQ(run(args), 2);
    EXPECT_NE(err().find("bogus"), std::string::npos) << err();
    EXPECT_NE(err().find(" | "), std::string::npos) << "choices not listed: " << err();
    EXPECT_FALSE(fs::exists(dir_ / "grid.db")) << "a bad --format must stop before any work";
  }
}

TEST_F(OutputsTest, HelpTextsNameThingsAlikeEverywhere) {
  std::vector<std::vector<std::string>> helps = {
      {"report"}, {"history"}, {"grid", "list"}, {"grid", "show"}, {"regions"},
      {"shift"},  {"whatif"},  {"sweep"},        {"plan"},         {"run"}};
  for (auto args : helps) {
    const std::string name = fmt::format("{}", fmt::join(args, " "));
    args.push_back("--help");
    ASSERT_EQ(run(args), 0) << name << err();
    const std::string help = out();
    SCOPED_TRACE(name);
    // -o wherever --format writes something.
    if (help.find("--format") != std::string::npos) {
      EXPECT_NE(help.find("-o,--output FILE"), std::string::npos) << help;
    }
    // --signal's default said the same way.
    if (size_t at = help.find("--signal"); at != std::string::npos) {
      std::string line = help.substr(at, help.find("--factor", at) - at);
      EXPECT_NE(line.find("marginal | average grid intensity (default: "), std::string::npos)
          << line;
    }
    // A run directory is RUN_DIR, as a positional and as an option's value.
    if (name == "report" || name == "whatif") {
      EXPECT_NE(help.find("  RUN_DIR TEXT REQUIRED"), std::string::npos) << help;
    }
    if (name == "shift" || name == "plan") {
      EXPECT_NE(help.find("--profile RUN_DIR"), std::string::npos) << help;
    }
    // --work says what R is, as docs/accounting.md does.
    if (name == "report" || name == "run") {
      EXPECT_NE(help.find("R = work / count"), std::string::npos) << help;
    }
  }
  auto docs = read_file(std::string(CARBONCLOCK_SOURCE_DIR) + "/docs/accounting.md").value();
  EXPECT_NE(docs.find("**R = work / count** functional units"), std::string::npos);
  EXPECT_NE(docs.find("`--per \"1000 samples\" --work 300` gives R = 0.3"), std::string::npos);
}

}  // namespace
}  // namespace carbonclock

// End-to-end tests of distributed runs without a scheduler: real `carbonclock run` processes
// with Slurm's variables set write the per-node layout, and `report JOB_DIR` / `merge` combine
// it (the same with real Slurm daemons: tests/slurm/test_slurm.py).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli_test_harness.h"
#include "common/files.h"
#include "common/time.h"
#include "reports/schema_check.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

class MergeCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("cc_merge");
    fs::create_directories(dir_ / "sysfs");
    db_ = (dir_ / "grid.db").string();
    std::ofstream(dir_ / "a.script") << "gpu\nname Fake A100\nuuid GPU-aaaa\npower 100\n";
    std::ofstream(dir_ / "b.script") << "gpu\nname Fake V100\nuuid GPU-bbbb\npower 50\n";
    std::ofstream(dir_ / "two.script")
        << "gpu\nname Fake A100\npower 100\ngpu\nname Fake V100\npower 50\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A harness for one task: its own output files, the fake NVML with `script`, Slurm's
  // variables for task `rank` of job 77 on `node`.
  CliHarness task(const std::string& node, int rank, int local_rank, const std::string& script,
                  int tasks_on_node = 1) {
    fs::path io = dir_ / ("io-" + node + "-" + std::to_string(rank));
    fs::create_directories(io);
    CliHarness h(io);
    h.env = {{"CARBONCLOCK_NVML_LIBRARY", FAKE_NVML_LIBRARY},
             {"FAKE_NVML_SCRIPT", (dir_ / script).string()},
             {"CARBONCLOCK_SYSFS_ROOT", (dir_ / "sysfs").string()},
             {"CARBONCLOCK_DB", db_},
             {"CARBONCLOCK_ZONE", std::nullopt},
             {"CARBONCLOCK_REGION", std::nullopt},
             {"CUDA_VISIBLE_DEVICES", std::nullopt},
             {"TORCHELASTIC_RUN_ID", std::nullopt},
             {"SLURM_JOB_ID", "77"},
             {"SLURMD_NODENAME", node},
             {"SLURM_PROCID", std::to_string(rank)},
             {"SLURM_LOCALID", std::to_string(local_rank)},
             {"SLURM_NTASKS", "2"},
             {"SLURM_NODEID", "0"},
             {"SLURM_STEP_TASKS_PER_NODE", std::to_string(tasks_on_node)},
             {"SLURM_STEP_NUM_NODES", tasks_on_node == 2 ? "1" : "2"}};
    return h;
  }
  CliHarness plain() {
    CliHarness h(dir_);
    h.env = {{"CARBONCLOCK_DB", db_},
             {"SLURM_JOB_ID", std::nullopt},
             {"TORCHELASTIC_RUN_ID", std::nullopt},
             {"CARBONCLOCK_ZONE", std::nullopt},
             {"CARBONCLOCK_REGION", std::nullopt}};
    return h;
  }

  // Average intensity `value` for `zone` from 2 hours before now to 3 hours after.
  void import_flat(const std::string& zone, double value) {
    auto now = std::chrono::time_point_cast<Nanos>(std::chrono::system_clock::now());
    SysTime t = floor_to(now, 1h) - 2h;
    fs::path csv = dir_ / (zone + ".csv");
    std::ofstream f(csv);
    f << "Time,Carbon Intensity\n";
    for (int i = 0; i < 6; ++i, t += 1h) f << format_utc(t) << "," << value << "\n";
    f.close();
    CliHarness h = plain();
    ASSERT_EQ(h.run({"grid", "import", csv.string(), "--format", "csv", "--zone", zone, "--signal",
                     "average", "--step", "1h"}),
              0)
        << h.err();
  }

  static json load(const fs::path& p) { return json::parse(read_file(p).value()); }

  // The committed schema of the merged report (schemas/cluster-report.schema.json).
  static void expect_schema(const json& doc) {
    json schema = load(fs::path(CARBONCLOCK_SOURCE_DIR) / "schemas" / "cluster-report.schema.json");
    EXPECT_EQ(schema["properties"]["cluster_report_schema_version"]["const"],
              doc["cluster_report_schema_version"]);
    check_schema(schema, doc, "$");
  }

  json report(const fs::path& d, const std::string& command = "report") {
    CliHarness h = plain();
    EXPECT_EQ(h.run({command, d.string(), "--format", "json"}), 0) << h.err();
    return json::parse(h.out());
  }

  fs::path dir_;
  std::string db_;
};

TEST_F(MergeCommandTest, TwoNodesInTwoZonesMergeToTheExactSumPricedPerZone) {
  import_flat("TESTZONE-A", 100);
  import_flat("TESTZONE-B", 400);
  const std::string out = (dir_ / "runs").string();
  CliHarness a = task("nodeA", 0, 0, "a.script");
  CliHarness b = task("nodeB", 1, 0, "b.script");
  pid_t pa = a.start({"run", "-q", "--interval", "100ms", "--zone", "TESTZONE-A", "--out", out,
                      "--", "sleep", "1"});
  pid_t pb = b.start({"run", "-q", "--interval", "100ms", "--zone", "TESTZONE-B", "--out", out,
                      "--", "sleep", "1.5"});
  ASSERT_EQ(CliHarness::wait_exit(pa), 0) << a.err();
  ASSERT_EQ(CliHarness::wait_exit(pb), 0) << b.err();
  const fs::path job = dir_ / "runs" / "77";
  json run_a = load(job / "nodeA" / "run.json");
  json run_b = load(job / "nodeB" / "run.json");
  EXPECT_EQ(run_a["cluster"]["role"], "meter");
  EXPECT_EQ(run_b["cluster"]["node"], "nodeB");
  const double ea = run_a["energy_j_total"].get<double>();
  const double eb = run_b["energy_j_total"].get<double>();
  ASSERT_GT(ea, 0);
  ASSERT_GT(eb, 0);

  json merged = report(job);
  expect_schema(merged);
  EXPECT_EQ(merged["job_id"], "77");
  EXPECT_EQ(merged["launcher"], "slurm");
  ASSERT_EQ(merged["nodes"].size(), 2u);
  EXPECT_NEAR(merged["energy_j_total"].get<double>(), ea + eb, 1e-9 * (ea + eb));
  // Each node priced in its own zone: A at 100 g/kWh, B at 400 g/kWh.
  const double expected_g = ea / 3.6e6 * 100 + eb / 3.6e6 * 400;
  EXPECT_NEAR(merged["operational_g"].get<double>(), expected_g, 1e-9 * expected_g);
  EXPECT_EQ(merged["zones"], json::array({"TESTZONE-A", "TESTZONE-B"}));
  EXPECT_EQ(merged["headline_signal"], "average");
  // The same as the two nodes reported on their own, added.
  json node_a = report(job / "nodeA");
  json node_b = report(job / "nodeB");
  EXPECT_EQ(node_a["zone"], "TESTZONE-A");
  double sum_g = merged["nodes"][0]["operational_g"].get<double>() +
                 merged["nodes"][1]["operational_g"].get<double>();
  EXPECT_NEAR(sum_g, expected_g, 1e-9 * expected_g);
  // The merged timeline adds up to the total.
  double timeline_j = 0;
  for (const auto& bucket : merged["timeline"]) timeline_j += bucket["energy_j"].get<double>();
  EXPECT_NEAR(timeline_j, ea + eb, 1e-9 * (ea + eb));
  EXPECT_EQ(merged["missing_ranks"], json::array());
  EXPECT_EQ(merged["warnings"], json::array()) << merged["warnings"].dump();
  // The history holds the job once, under its job id, and no node on its own.
  CliHarness h = plain();
  ASSERT_EQ(h.run({"history", "--format", "json"}), 0) << h.err();
  json history = json::parse(h.out());
  ASSERT_EQ(history["runs"].size(), 1u) << history.dump();
  EXPECT_EQ(history["runs"][0]["run_id"], "77");
  EXPECT_NEAR(history["runs"][0]["energy_kwh"].get<double>(), (ea + eb) / 3.6e6, 1e-12);
  // `merge` says the same as `report`.
  json again = report(job, "merge");
  EXPECT_EQ(again["energy_j_total"], merged["energy_j_total"]);
}

TEST_F(MergeCommandTest, TwoTasksOnOneNodeMeterItsGpusOnce) {
  const std::string out = (dir_ / "runs").string();
  CliHarness t0 = task("n1", 0, 0, "two.script", 2);
  CliHarness t1 = task("n1", 1, 1, "two.script", 2);
  pid_t p0 =
      t0.start({"run", "--interval", "100ms", "--zone", "DE", "--out", out, "--", "sleep", "1"});
  pid_t p1 =
      t1.start({"run", "--interval", "100ms", "--zone", "DE", "--out", out, "--", "sleep", "1"});
  ASSERT_EQ(CliHarness::wait_exit(p0), 0) << t0.err();
  ASSERT_EQ(CliHarness::wait_exit(p1), 0) << t1.err();
  const fs::path node = dir_ / "runs" / "77" / "n1";
  json run = load(node / "run.json");
  json task0 = load(node / "tasks" / "0.json");
  json task1 = load(node / "tasks" / "1.json");
  std::multiset<std::string> roles{task0["role"], task1["role"]};
  EXPECT_EQ(roles, (std::multiset<std::string>{"member", "meter"}));
  EXPECT_EQ(run["cluster"]["role"], "meter");
  std::string member_err = task0["role"] == "member" ? t0.err() : t1.err();
  EXPECT_NE(member_err.find("a member, metering nothing"), std::string::npos) << member_err;
  double node_gpu_j = 0;
  for (const auto& d : run["devices"]) {
    if (d["kind"] == "gpu") node_gpu_j += d["energy_j"].get<double>();
  }
  json merged = report(dir_ / "runs" / "77");
  double merged_gpu_j = 0;
  int gpus = 0;
  for (const auto& d : merged["devices"]) {
    if (d["kind"] != "gpu") continue;
    ++gpus;
    merged_gpu_j += d["energy_j"].get<double>();
  }
  EXPECT_EQ(gpus, 2);
  EXPECT_DOUBLE_EQ(merged_gpu_j, node_gpu_j);
  const double duration_s = run["duration_s"].get<double>();
  EXPECT_NEAR(merged_gpu_j, 150 * duration_s, 0.01 * 150 * duration_s);  // not twice that
  EXPECT_EQ(merged["world_size"], 2);
}

TEST_F(MergeCommandTest, ANodeWhoseMeterWasKilledIsRecoveredFromItsJournal) {
  const std::string out = (dir_ / "runs").string();
  CliHarness a = task("nodeA", 0, 0, "a.script");
  CliHarness b = task("nodeB", 1, 0, "b.script");
  pid_t pa = a.start(
      {"run", "-q", "--interval", "100ms", "--zone", "DE", "--out", out, "--", "sleep", "0.5"});
  pid_t pb = b.start(
      {"run", "-q", "--interval", "100ms", "--zone", "DE", "--out", out, "--", "sleep", "30"});
  ASSERT_EQ(CliHarness::wait_exit(pa), 0) << a.err();
  const fs::path task_b = dir_ / "runs" / "77" / "nodeB" / "tasks" / "1.json";
  for (int i = 0; i < 500 && !fs::exists(task_b); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(fs::exists(task_b));
  std::this_thread::sleep_for(1200ms);  // a journal flush (at least once a second) of samples
  ::kill(pb, SIGKILL);
  CliHarness::wait_exit(pb);
  pid_t job = load(task_b)["job_pid"].get<pid_t>();
  ::kill(-job, SIGKILL);  // the job runs in its own process group
  json merged = report(dir_ / "runs" / "77");
  expect_schema(merged);
  ASSERT_EQ(merged["nodes"].size(), 2u);
  EXPECT_EQ(merged["nodes"][0]["state"], "complete");
  EXPECT_EQ(merged["nodes"][1]["state"], "recovered");
  EXPECT_GT(merged["nodes"][1]["energy_j"].get<double>(), 0);
  std::string notes = merged["notes"].dump() + merged["warnings"].dump();
  EXPECT_NE(notes.find("node nodeB: recovered from its journal"), std::string::npos) << notes;
  EXPECT_NE(notes.find("node nodeB: task 1 has not recorded its end"), std::string::npos) << notes;
}

TEST_F(MergeCommandTest, TextReportAndRefusedFormats) {
  const std::string out = (dir_ / "runs").string();
  CliHarness a = task("nodeA", 0, 0, "a.script");
  ASSERT_EQ(a.run({"run", "-q", "--zone", "DE", "--out", out, "--", "true"}), 0) << a.err();
  CliHarness h = plain();
  ASSERT_EQ(h.run({"report", (dir_ / "runs" / "77").string()}), 0) << h.err();
  EXPECT_NE(h.out().find("job 77 (slurm, 2 tasks on 1 node)"), std::string::npos) << h.out();
  EXPECT_NE(h.out().find("GPU-aaaa"), std::string::npos) << h.out();
  EXPECT_NE(h.out().find("1 of the job's 2 nodes left no run directory"), std::string::npos)
      << h.out();
  EXPECT_EQ(h.run({"report", (dir_ / "runs" / "77").string(), "--format", "csv"}), 2);
  EXPECT_NE(h.err().find("is a job directory"), std::string::npos) << h.err();
  EXPECT_EQ(h.run({"merge", (dir_ / "runs").string()}), 3);
  EXPECT_NE(h.err().find("not a job directory"), std::string::npos) << h.err();
  // --gpus used cannot work across a node's tasks.
  CliHarness u = task("nodeA", 0, 0, "a.script");
  EXPECT_EQ(u.run({"run", "--gpus", "used", "--out", out, "--", "true"}), 125);
  EXPECT_NE(u.err().find("--gpus used cannot be told apart"), std::string::npos) << u.err();
}

}  // namespace
}  // namespace carbonclock

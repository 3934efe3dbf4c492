// The merge of a distributed job's per-node run directories, on runs built by hand.
#include "app/cluster.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "accounting/test_run.h"
#include "app/store_access.h"
#include "app/test_support.h"
#include "common/units.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const SysTime kT0 = parse_utc("2026-03-02T00:00:00Z").value();

IntensitySeries flat(const std::string& zone, double g_per_kwh) {
  IntensitySeries s{zone, Signal::kAverage, Factor::kLifecycle, "test", std::nullopt, {}};
  s.points.push_back({kT0 - 1h, 4h, g_per_kwh, false});
  return s;
}

class ClusterTest : public testing::UseCaseTest {
 protected:
  ClusterTest() : UseCaseTest("cc_cluster", kT0 + 1h) {}
  void SetUp() override {
    UseCaseTest::SetUp();
    job_ = dir() / "out" / "77";
    import({flat("DE", 100), flat("FR", 400)});
  }

  // A node's run: `kwh_per_bucket` in each of four 5-minute buckets, in `zone`.
  RunRecord node_run(const std::string& node, const std::string& zone, double kwh_per_bucket,
                     const std::string& gpu_uuid) {
    RunRecord run =
        testing::make_run(kT0, 20min, 5min, std::vector<double>(4, kwh_per_bucket * kJoulesPerKwh));
    run.id = "run-" + node;
    run.zone = zone;
    run.timeline.devices[0].uuid = gpu_uuid;
    run.cluster =
        nlohmann::json{{"job_id", "77"},  {"node", node},    {"launcher", "slurm"}, {"rank", 0},
                       {"world_size", 2}, {"node_count", 2}, {"role", "meter"}};
    return run;
  }

  void write_node(const std::string& node, const RunRecord& run,
                  const std::vector<TaskRecord>& tasks) {
    fs::path d = job_ / node;
    fs::create_directories(d / kTasksDir);
    ASSERT_TRUE(save_run(run, d));
    for (const TaskRecord& t : tasks) ASSERT_TRUE(save_task(t, d));
  }

  static TaskRecord task(const std::string& node, int rank, TaskRole role, int world = 2) {
    TaskRecord t;
    t.job_id = "77";
    t.node = node;
    t.launcher = Launcher::kSlurm;
    t.rank = rank;
    t.world_size = world;
    t.role = role;
    t.pid = 1000 + rank;
    t.start_utc = kT0;
    t.end_utc = kT0 + 20min;
    t.exit_code = 0;
    return t;
  }

  Result<ClusterReport> merge(MergeRequest r = {}) {
    r.job_dir = job_;
    AppContext c = ctx();
    return merge_job(r, c);
  }

  fs::path job_;
};

TEST_F(ClusterTest, TwoNodesInTwoZonesMergeToTheExactSumPricedPerZone) {
  write_node("nodeA", node_run("nodeA", "DE", 0.25, "GPU-a"), {task("nodeA", 0, TaskRole::kMeter)});
  write_node("nodeB", node_run("nodeB", "FR", 0.5, "GPU-b"), {task("nodeB", 1, TaskRole::kMeter)});
  EXPECT_TRUE(is_job_dir(job_));
  EXPECT_FALSE(is_job_dir(job_ / "nodeA"));  // a node directory is a run directory
  auto r = merge();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->job_id, "77");
  ASSERT_EQ(r->nodes.size(), 2u);
  EXPECT_EQ(r->nodes[0].node, "nodeA");
  EXPECT_EQ(r->nodes[0].state, NodeState::kComplete);
  // 1 kWh in DE at 100 g/kWh plus 2 kWh in FR at 400 g/kWh.
  EXPECT_DOUBLE_EQ(r->energy_j, 3 * kJoulesPerKwh);
  ASSERT_EQ(r->signals.size(), 1u);
  EXPECT_EQ(r->headline_signal().signal, Signal::kAverage);
  EXPECT_NEAR(r->operational_g(), 100 + 800, 1e-9);
  EXPECT_NEAR(r->nodes[1].account->operational_g(), 800, 1e-9);
  EXPECT_EQ(r->zones(), (std::vector<std::string>{"DE", "FR"}));
  // The timeline: four shared 5-minute buckets, each 0.75 kWh and 25 + 200 g.
  ASSERT_EQ(r->timeline.size(), 4u);
  for (const MergedBucket& b : r->timeline) {
    EXPECT_DOUBLE_EQ(b.energy_j, 0.75 * kJoulesPerKwh);
    EXPECT_NEAR(b.operational_g, 225, 1e-9);
    EXPECT_DOUBLE_EQ(b.node_energy_j[0], 0.25 * kJoulesPerKwh);
  }
  EXPECT_TRUE(r->missing_ranks.empty());
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.front();
}

TEST_F(ClusterTest, AGpuSeenOnTwoNodesIsCountedOnce) {
  // The same GPU (by UUID) in both nodes' runs, e.g. two "nodes" that are one machine.
  write_node("nodeA", node_run("nodeA", "DE", 0.25, "GPU-same"), {});
  write_node("nodeB", node_run("nodeB", "DE", 0.25, "GPU-same"), {});
  auto r = merge();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_DOUBLE_EQ(r->energy_j, 1 * kJoulesPerKwh);
  EXPECT_DOUBLE_EQ(r->nodes[0].energy_j(), 1 * kJoulesPerKwh);
  EXPECT_DOUBLE_EQ(r->nodes[1].energy_j(), 0);
  ASSERT_FALSE(r->warnings.empty());
  EXPECT_NE(r->warnings[0].find("GPU GPU-same"), std::string::npos) << r->warnings[0];
  EXPECT_NEAR(r->operational_g(), 100, 1e-9);
}

TEST_F(ClusterTest, MembersCpuTimeIsAddedToTheNodesEstimateOverTheirRun) {
  RunRecord run = node_run("nodeA", "DE", 0.25, "GPU-a");
  run.timeline.devices.push_back(
      {"cpu-estimate", DeviceKind::kCpu, "job CPU time model", Method::kEstimate, "", ""});
  for (auto& b : run.timeline.buckets) b.energy_j.push_back(0);
  TaskRecord member = task("nodeA", 1, TaskRole::kMember);
  member.start_utc = kT0 + 5min;  // two buckets: 5-15 min
  member.end_utc = kT0 + 15min;
  member.cpu_s = 360;  // 360 CPU seconds × 10 W = 3600 J
  member.cpu_w_per_core = 10;
  write_node("nodeA", run, {task("nodeA", 0, TaskRole::kMeter), member});
  auto r = merge();
  ASSERT_TRUE(r) << r.error().message();
  const RunRecord& merged = *r->nodes[0].run;
  EXPECT_DOUBLE_EQ(r->nodes[0].member_cpu_estimate_j, 3600);
  EXPECT_DOUBLE_EQ(merged.timeline.buckets[0].energy_j[1], 0);
  EXPECT_DOUBLE_EQ(merged.timeline.buckets[1].energy_j[1], 1800);
  EXPECT_DOUBLE_EQ(merged.timeline.buckets[2].energy_j[1], 1800);
  EXPECT_DOUBLE_EQ(r->energy_j, 1 * kJoulesPerKwh + 3600);
  ASSERT_FALSE(r->notes.empty());
  EXPECT_NE(r->notes.back().find("360.00 CPU seconds of 1 member task"), std::string::npos)
      << r->notes.back();
}

TEST_F(ClusterTest, NodesWithoutAMeterAndMissingRanksAreListed) {
  write_node("nodeA", node_run("nodeA", "DE", 0.25, "GPU-a"),
             {task("nodeA", 0, TaskRole::kMeter, 4), task("nodeA", 1, TaskRole::kMember, 4)});
  fs::create_directories(job_ / "nodeB" / kTasksDir);
  ASSERT_TRUE(save_task(task("nodeB", 2, TaskRole::kMember, 4), job_ / "nodeB"));
  auto r = merge();
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->nodes.size(), 2u);
  EXPECT_EQ(r->nodes[1].state, NodeState::kNoMeter);
  EXPECT_EQ(r->world_size, 4);
  EXPECT_EQ(r->missing_ranks, std::vector<int>{3});
  std::string all;
  for (const auto& w : r->warnings) all += w + "\n";
  EXPECT_NE(all.find("node nodeB: no meter wrote a run"), std::string::npos) << all;
  EXPECT_NE(all.find("1 of 4 tasks left no tasks/<rank>.json (ranks 3)"), std::string::npos) << all;
  EXPECT_DOUBLE_EQ(r->energy_j, 1 * kJoulesPerKwh);
}

TEST_F(ClusterTest, ANodeCountTheLauncherGaveButNoDirectoryForItIsMissing) {
  write_node("nodeA", node_run("nodeA", "DE", 0.25, "GPU-a"), {task("nodeA", 0, TaskRole::kMeter)});
  auto r = merge();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->expected_nodes, 2);
  std::string all;
  for (const auto& w : r->warnings) all += w + "\n";
  EXPECT_NE(all.find("1 of the job's 2 nodes left no run directory"), std::string::npos) << all;
}

TEST_F(ClusterTest, WindowsArePricedFromTheirNodesTimeline) {
  TaskRecord member = task("nodeA", 1, TaskRole::kMember);
  member.windows = {{"epoch-1", kT0 + 5min, kT0 + 10min, std::nullopt},
                    {"eval", kT0 + 10min, kT0 + 12min + 30s, std::nullopt},
                    {"metered", kT0, kT0 + 5min, 123.0}};
  write_node("nodeA", node_run("nodeA", "FR", 0.25, "GPU-a"),
             {task("nodeA", 0, TaskRole::kMeter), member});
  auto r = merge();
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->windows.size(), 3u);
  EXPECT_DOUBLE_EQ(r->windows[0].energy_j, 0.25 * kJoulesPerKwh);
  EXPECT_NEAR(*r->windows[0].operational_g, 100, 1e-9);
  EXPECT_DOUBLE_EQ(r->windows[1].energy_j, 0.125 * kJoulesPerKwh);
  EXPECT_FALSE(r->windows[1].from_counters);
  EXPECT_DOUBLE_EQ(r->windows[2].energy_j, 123.0);
  EXPECT_TRUE(r->windows[2].from_counters);
  EXPECT_NEAR(*r->windows[2].operational_g, 123.0 / kJoulesPerKwh * 400, 1e-9);
}

TEST_F(ClusterTest, TheJobIsRecordedOnceUnderItsJobId) {
  write_node("nodeA", node_run("nodeA", "DE", 0.25, "GPU-a"), {task("nodeA", 0, TaskRole::kMeter)});
  write_node("nodeB", node_run("nodeB", "FR", 0.5, "GPU-b"), {task("nodeB", 1, TaskRole::kMeter)});
  ASSERT_TRUE(merge());
  ASSERT_TRUE(merge());  // again: replaces the entry, adds none
  auto store = GridStore::open(dir() / "db.sqlite");
  ASSERT_TRUE(store);
  auto runs = store->list_runs({});
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 1u);
  const HistoryEntry& e = runs->front();
  EXPECT_EQ(e.run_id, "77");
  EXPECT_DOUBLE_EQ(e.energy_kwh, 3);
  EXPECT_NEAR(e.operational_g, 900, 1e-9);
  EXPECT_EQ(e.zone, "DE,FR");
  EXPECT_EQ(e.run_dir, fs::absolute(job_).lexically_normal().string());
}

TEST_F(ClusterTest, NotAJobDirectoryIsAnError) {
  fs::create_directories(job_);
  auto r = merge();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find("not a job directory"), std::string::npos);
  fs::create_directories(job_ / "nodeA" / kTasksDir);
  ASSERT_TRUE(save_task(task("nodeA", 0, TaskRole::kMember), job_ / "nodeA"));
  auto none = merge();
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("no node of the job was metered"), std::string::npos);
}

}  // namespace
}  // namespace carbonclock

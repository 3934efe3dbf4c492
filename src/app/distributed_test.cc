// Distributed context detection, the meter election by lock and the task records.
#include "app/distributed.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "metering/journal.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  };
}

fs::path test_dir() {
  fs::path d =
      fs::temp_directory_path() / ("cc_dist_" + std::to_string(::getpid()) + "_" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(DetectDistributed, SlurmTaskFromItsVariables) {
  auto dc = detect_distributed(env_of({{"SLURM_JOB_ID", "4711"},
                                       {"SLURMD_NODENAME", "gpu-17"},
                                       {"SLURM_PROCID", "5"},
                                       {"SLURM_LOCALID", "1"},
                                       {"SLURM_NTASKS", "8"},
                                       {"SLURM_NODEID", "2"},
                                       {"SLURM_STEP_TASKS_PER_NODE", "2(x2),4"},
                                       {"SLURM_STEP_NUM_NODES", "3"}}),
                               "host");
  EXPECT_EQ(dc.launcher, Launcher::kSlurm);
  EXPECT_TRUE(dc.distributed());
  EXPECT_EQ(dc.job_id, "4711");
  EXPECT_EQ(dc.node, "gpu-17");
  EXPECT_EQ(dc.rank, 5);
  EXPECT_EQ(dc.local_rank, 1);
  EXPECT_EQ(dc.world_size, 8);
  EXPECT_EQ(dc.tasks_on_node, 4);  // node 2 of "2(x2),4"
  EXPECT_EQ(dc.node_count, 3);
  EXPECT_TRUE(dc.warnings.empty());
}

TEST(DetectDistributed, SlurmWithoutNodeNameUsesTheHostAndRankZeroOfOne) {
  auto dc = detect_distributed(env_of({{"SLURM_JOB_ID", "12"}}), "login1");
  EXPECT_EQ(dc.launcher, Launcher::kSlurm);
  EXPECT_EQ(dc.node, "login1");
  EXPECT_EQ(dc.rank, 0);
  EXPECT_EQ(dc.world_size, 1);
  EXPECT_FALSE(dc.tasks_on_node);
}

TEST(DetectDistributed, TorchrunTaskFromItsVariables) {
  auto dc = detect_distributed(env_of({{"TORCHELASTIC_RUN_ID", "bert-3"},
                                       {"GROUP_RANK", "1"},
                                       {"RANK", "3"},
                                       {"LOCAL_RANK", "1"},
                                       {"WORLD_SIZE", "4"},
                                       {"LOCAL_WORLD_SIZE", "2"},
                                       {"GROUP_WORLD_SIZE", "2"}}),
                               "node-b");
  EXPECT_EQ(dc.launcher, Launcher::kTorchrun);
  EXPECT_EQ(dc.job_id, "bert-3");
  EXPECT_EQ(dc.node, "node-b");
  EXPECT_EQ(dc.rank, 3);
  EXPECT_EQ(dc.local_rank, 1);
  EXPECT_EQ(dc.world_size, 4);
  EXPECT_EQ(dc.tasks_on_node, 2);
  EXPECT_EQ(dc.node_count, 2);
}

TEST(DetectDistributed, SlurmWinsOverTorchrunAndNothingMeansNotDistributed) {
  auto both = detect_distributed(
      env_of({{"TORCHELASTIC_RUN_ID", "r"}, {"SLURM_JOB_ID", "9"}, {"RANK", "3"}}), "h");
  EXPECT_EQ(both.launcher, Launcher::kSlurm);
  EXPECT_EQ(both.rank, 0);  // SLURM_PROCID, not RANK
  auto none = detect_distributed(env_of({{"RANK", "3"}, {"SLURM_JOB_ID", ""}}), "h");
  EXPECT_FALSE(none.distributed());
}

TEST(DetectDistributed, MalformedNumbersWarnAndUnsafeNamesAreMadeSafe) {
  auto dc = detect_distributed(env_of({{"SLURM_JOB_ID", "../../etc"},
                                       {"SLURMD_NODENAME", "a/b"},
                                       {"SLURM_PROCID", "x1"},
                                       {"SLURM_NTASKS", "-2"}}),
                               "h");
  EXPECT_EQ(dc.job_id, ".._.._etc");
  EXPECT_EQ(dc.node, "a_b");
  EXPECT_EQ(dc.rank, 0);
  EXPECT_EQ(dc.world_size, 1);
  ASSERT_EQ(dc.warnings.size(), 4u);
  EXPECT_NE(dc.warnings[0].find("SLURM_JOB_ID '../../etc'"), std::string::npos);
  EXPECT_NE(dc.warnings[2].find("SLURM_PROCID='x1'"), std::string::npos);
  auto dots = detect_distributed(env_of({{"SLURM_JOB_ID", ".."}}), "h");
  EXPECT_EQ(dots.job_id, "_..");
}

TEST(SlurmTasksOnNode, ReadsRepeatsAndRefusesMalformedLists) {
  EXPECT_EQ(slurm_tasks_on_node("2(x3),1", 0), 2);
  EXPECT_EQ(slurm_tasks_on_node("2(x3),1", 2), 2);
  EXPECT_EQ(slurm_tasks_on_node("2(x3),1", 3), 1);
  EXPECT_EQ(slurm_tasks_on_node("2(x3),1", 4), std::nullopt);
  EXPECT_EQ(slurm_tasks_on_node("4", 0), 4);
  EXPECT_EQ(slurm_tasks_on_node("2(x", 0), std::nullopt);
  EXPECT_EQ(slurm_tasks_on_node("2(x0)", 0), std::nullopt);
  EXPECT_EQ(slurm_tasks_on_node("a", 0), std::nullopt);
}

DistributedContext task_ctx(int rank, int local_rank, std::optional<int> on_node = 2) {
  DistributedContext dc;
  dc.launcher = Launcher::kSlurm;
  dc.job_id = "77";
  dc.node = "n1";
  dc.rank = rank;
  dc.local_rank = local_rank;
  dc.world_size = 2;
  dc.tasks_on_node = on_node;
  return dc;
}

TEST(NodeTask, ExactlyOneTaskOfANodeGetsTheMeterLockWhicheverComesFirst) {
  fs::path out = test_dir();
  // Local rank 1 first: the lock decides, not the rank.
  auto first = NodeTask::join(task_ctx(1, 1), out);
  ASSERT_TRUE(first) << first.error().message();
  auto second = NodeTask::join(task_ctx(0, 0), out);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_TRUE((*first)->is_meter());
  EXPECT_FALSE((*second)->is_meter());
  EXPECT_NE((*second)->record().note.find("meters nothing"), std::string::npos);
  EXPECT_EQ((*first)->node_dir(), out / "77" / "n1");
  EXPECT_TRUE(fs::exists(out / "77" / "n1" / kMeterLockFile));
  EXPECT_EQ((*first)->cluster_json()["role"], "meter");
  // Another node has its own meter.
  auto other = task_ctx(2, 0);
  other.node = "n2";
  auto third = NodeTask::join(other, out);
  ASSERT_TRUE(third);
  EXPECT_TRUE((*third)->is_meter());
  fs::remove_all(out);
}

TEST(NodeTask, TheLockIsFreedWithTheTaskButAFinishedNodeGetsNoSecondMeter) {
  fs::path out = test_dir();
  {
    auto meter = NodeTask::join(task_ctx(0, 0), out);
    ASSERT_TRUE(meter && (*meter)->is_meter());
  }
  auto again = NodeTask::join(task_ctx(0, 0), out);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->is_meter());  // nothing was metered yet: the lock is free again
  again->reset();
  std::ofstream(out / "77" / "n1" / kJournalFile) << "{}\n";
  auto late = NodeTask::join(task_ctx(1, 1), out);
  ASSERT_TRUE(late);
  EXPECT_FALSE((*late)->is_meter());
  EXPECT_NE((*late)->record().note.find("after the node's meter had finished"), std::string::npos);
  fs::remove_all(out);
}

TEST(NodeTask, EveryTaskWritesItsRecordWithItsProcessTreeAndEnd) {
  fs::path out = test_dir();
  auto task = NodeTask::join(task_ctx(1, 1), out);
  ASSERT_TRUE(task);
  const SysTime start = parse_utc("2026-03-01T00:00:00Z").value();
  pid_t child = ::fork();
  if (child == 0) {
    ::execlp("sleep", "sleep", "0.3", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_TRUE((*task)->started({"sleep", "0.3"}, child, start, 50ms));
  std::vector<std::string> warnings;
  auto running = load_tasks(out / "77" / "n1", warnings);
  ASSERT_EQ(running.size(), 1u);
  EXPECT_FALSE(running[0].end_utc);
  EXPECT_EQ(running[0].job_pid, child);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE((*task)->finished(start + 1s, 0, 0.25, 10.0));
  auto done = load_tasks(out / "77" / "n1", warnings);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(warnings.empty());
  const TaskRecord& t = done[0];
  EXPECT_EQ(t.rank, 1);
  EXPECT_EQ(t.role, TaskRole::kMeter);  // the only task: it won the lock
  EXPECT_EQ(t.pid, ::getpid());
  EXPECT_EQ(t.end_utc, start + 1s);
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_EQ(t.cpu_s, 0.25);
  EXPECT_EQ(t.cpu_w_per_core, 10.0);
  EXPECT_NE(std::find(t.processes.begin(), t.processes.end(), child), t.processes.end());
  fs::remove_all(out);
}

TEST(TaskRecord, RoundTripsThroughJsonAndRefusesNewerVersions) {
  TaskRecord t;
  t.job_id = "77";
  t.node = "n1";
  t.launcher = Launcher::kTorchrun;
  t.rank = 3;
  t.local_rank = 1;
  t.world_size = 4;
  t.role = TaskRole::kMember;
  t.pid = 42;
  t.job_pid = 43;
  t.command = {"python3", "train.py"};
  t.start_utc = parse_utc("2026-03-01T00:00:00.250Z").value();
  t.end_utc = t.start_utc + 90s;
  t.exit_code = 3;
  t.processes = {43, 44};
  t.cpu_s = 12.5;
  t.cpu_w_per_core = 8;
  t.windows = {{"epoch-1", t.start_utc, t.start_utc + 30s, 120.0},
               {"eval", t.start_utc + 30s, t.start_utc + 40s, std::nullopt}};
  t.note = "n";
  auto back = task_from_json(task_to_json(t), "t.json");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(task_to_json(*back), task_to_json(t));
  auto doc = task_to_json(t);
  doc["schema_version"] = kTaskSchemaVersion + 1;
  auto newer = task_from_json(doc, "t.json");
  ASSERT_FALSE(newer);
  EXPECT_NE(newer.error().message().find("t.json: schema_version"), std::string::npos);
  doc = task_to_json(t);
  doc["role"] = "boss";
  EXPECT_FALSE(task_from_json(doc, "t.json"));
}

TEST(NodeTask, TheMeterWaitsUntilTheNodesOtherTasksHaveEnded) {
  fs::path out = test_dir();
  auto meter = NodeTask::join(task_ctx(0, 0), out);
  ASSERT_TRUE(meter && (*meter)->is_meter());
  // A member task that is still running: its pid is a live child.
  pid_t member = ::fork();
  if (member == 0) {
    ::execlp("sleep", "sleep", "0.5", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  TaskRecord t;
  t.job_id = "77";
  t.node = "n1";
  t.rank = 1;
  t.pid = member;
  t.start_utc = parse_utc("2026-03-01T00:00:00Z").value();
  ASSERT_TRUE(save_task(t, out / "77" / "n1"));
  std::vector<std::string> said;
  // Reap the child as soon as it ends so that it does not linger as a zombie (alive to kill()).
  std::thread reaper([member] {
    int status = 0;
    ::waitpid(member, &status, 0);
  });
  auto warnings =
      (*meter)->wait_for_members(10ms, 10s, [&said](const std::string& s) { said.push_back(s); });
  EXPECT_FALSE(process_alive(member));  // it returned only once the member had gone
  reaper.join();
  EXPECT_TRUE(warnings.empty());
  ASSERT_FALSE(said.empty());
  EXPECT_NE(said[0].find("rank 1"), std::string::npos) << said[0];
  fs::remove_all(out);
}

TEST(NodeTask, TheMeterGivesUpOnAnnouncedTasksThatNeverJoin) {
  fs::path out = test_dir();
  auto meter = NodeTask::join(task_ctx(0, 0, 3), out);
  ASSERT_TRUE(meter && (*meter)->is_meter());
  auto warnings = (*meter)->wait_for_members(5ms, 50ms, {});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("2 of the 3 tasks expected on node n1 never joined"),
            std::string::npos)
      << warnings[0];
  fs::remove_all(out);
}

}  // namespace
}  // namespace carbonclock

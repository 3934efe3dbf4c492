#include "app/distributed.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "app/run_common.h"

namespace carbonclock {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* n) -> std::optional<std::string> {
    auto it = vars.find(n);
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  };
}

TEST(DetectDistributed, NothingSetIsASingleRun) {
  EXPECT_FALSE(detect_distributed(env_of({})).active);
  EXPECT_FALSE(detect_distributed(env_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}})).active);
}

TEST(DetectDistributed, SlurmTasks) {
  auto c = detect_distributed(env_of({{"SLURM_JOB_ID", "4242"},
                                      {"SLURMD_NODENAME", "gpu-node-07"},
                                      {"SLURM_PROCID", "5"},
                                      {"SLURM_LOCALID", "1"},
                                      {"SLURM_NTASKS", "8"},
                                      {"SLURM_NODEID", "2"}}));
  ASSERT_TRUE(c.active);
  EXPECT_EQ(c.launcher, "slurm");
  EXPECT_EQ(c.job_id, "4242");
  EXPECT_EQ(c.node, "gpu-node-07");
  EXPECT_EQ(c.rank, 5);
  EXPECT_EQ(c.local_rank, 1);
  EXPECT_EQ(c.world_size, 8);
  EXPECT_EQ(c.node_rank, 2);
}

TEST(DetectDistributed, TorchrunWorkers) {
  auto c = detect_distributed(env_of({{"TORCHELASTIC_RUN_ID", "a1b2"},
                                      {"GROUP_RANK", "1"},
                                      {"RANK", "3"},
                                      {"LOCAL_RANK", "1"},
                                      {"WORLD_SIZE", "4"}}));
  ASSERT_TRUE(c.active);
  EXPECT_EQ(c.launcher, "torchrun");
  EXPECT_EQ(c.job_id, "a1b2");
  EXPECT_EQ(c.node, host_name());
  EXPECT_EQ(c.rank, 3);
  EXPECT_EQ(c.local_rank, 1);
  EXPECT_EQ(c.world_size, 4);
  EXPECT_EQ(c.node_rank, 1);
}

TEST(DetectDistributed, SlurmWinsButTorchrunUnderSrunKeepsEachWorkersRank) {
  // srun -n 2 torchrun --nproc-per-node 4: both workers of task 1 have SLURM_PROCID 1.
  auto c = detect_distributed(env_of({{"SLURM_JOB_ID", "99"},
                                      {"SLURMD_NODENAME", "n1"},
                                      {"SLURM_PROCID", "1"},
                                      {"SLURM_NTASKS", "2"},
                                      {"TORCHELASTIC_RUN_ID", "99"},
                                      {"RANK", "6"},
                                      {"LOCAL_RANK", "2"},
                                      {"WORLD_SIZE", "8"}}));
  EXPECT_EQ(c.launcher, "slurm");
  EXPECT_EQ(c.job_id, "99");
  EXPECT_EQ(c.rank, 6);
  EXPECT_EQ(c.local_rank, 2);
  EXPECT_EQ(c.world_size, 8);
}

TEST(DetectDistributed, NamesBecomeOnePathComponent) {
  auto c =
      detect_distributed(env_of({{"SLURM_JOB_ID", "../../etc"}, {"SLURMD_NODENAME", "a/b c"}}));
  EXPECT_EQ(c.job_id, ".._.._etc");
  EXPECT_EQ(c.node, "a_b_c");
  EXPECT_EQ(node_dir("out", c), std::filesystem::path("out/.._.._etc/a_b_c"));
}

TEST(MeterLock, OneHolderPerNodeUntilItIsReleased) {
  auto dir = std::filesystem::temp_directory_path() / ("cc_lock_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto first = MeterLock::try_acquire(dir);
  ASSERT_TRUE(first.ok()) << first.error().message();
  ASSERT_NE(*first, nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(dir / "tasks"));
  auto second = MeterLock::try_acquire(dir);  // another open file description: refused
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, nullptr);
  first->reset();
  auto third = MeterLock::try_acquire(dir);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(*third, nullptr);
  std::filesystem::remove_all(dir);
}

TEST(TaskRecord, WritesTheContractsFields) {
  DistributedContext c;
  c.active = true;
  c.launcher = "torchrun";
  c.job_id = "j";
  c.node = "n";
  c.rank = 1;
  c.world_size = 2;
  TaskRecord t;
  t.role = "member";
  t.pid = 10;
  t.pids = {10, 11};
  t.command = {"python3", "train.py"};
  t.start_utc = parse_utc("2026-03-01T00:00:00Z").value();
  t.end_utc = parse_utc("2026-03-01T00:00:10Z").value();
  t.exit_code = 0;
  t.note = "metered by another task";
  t.windows.push_back(
      {"epoch-0", t.start_utc, t.start_utc + std::chrono::seconds(4), std::nullopt, {}});
  auto j = task_to_json(t, c);
  EXPECT_EQ(j["rank"], 1);
  EXPECT_EQ(j["local_rank"], 0);
  EXPECT_EQ(j["role"], "member");
  EXPECT_EQ(j["metered"], false);
  EXPECT_EQ(j["pids"], nlohmann::json({10, 11}));
  EXPECT_EQ(j["start_utc"], "2026-03-01T00:00:00.000Z");
  EXPECT_EQ(j["windows"][0]["name"], "epoch-0");
  EXPECT_EQ(j["windows"][0]["duration_s"], 4.0);
  EXPECT_TRUE(j["windows"][0]["energy_j"].is_null());
}

}  // namespace
}  // namespace carbonclock

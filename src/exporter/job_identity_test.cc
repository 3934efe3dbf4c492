#include "exporter/job_identity.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

const char* const kPod = "0f2b2c3e-1c4d-4b7e-9a51-6a0f3d2c1b00";

TEST(JobFromCgroup, SlurmOnTheUnifiedHierarchyGivesTheJobAndItsDirectory) {
  auto job = job_from_cgroup("0::/system.slice/slurmstepd.scope/job_12345/step_0/user/task_0\n");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->key, (JobKey{Scheduler::kSlurm, "12345"}));
  EXPECT_EQ(job->v2_dir, "system.slice/slurmstepd.scope/job_12345");
}

TEST(JobFromCgroup, SlurmOnV1ControllersGivesTheJobWithoutADirectory) {
  auto job = job_from_cgroup(
      "12:memory:/slurm/uid_1000/job_777/step_batch/task_0\n"
      "4:cpu,cpuacct:/slurm/uid_1000/job_777/step_batch/task_0\n"
      "0::/user.slice\n");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->key, (JobKey{Scheduler::kSlurm, "777"}));
  EXPECT_EQ(job->v2_dir, "");
}

TEST(JobFromCgroup, KubernetesPodsUnderBothCgroupDrivers) {
  auto cgroupfs = job_from_cgroup(std::string("4:cpu,cpuacct:/kubepods/burstable/pod") + kPod +
                                  "/6d1f0c5e9b\n");
  ASSERT_TRUE(cgroupfs);
  EXPECT_EQ(cgroupfs->key, (JobKey{Scheduler::kKubernetes, kPod}));
  EXPECT_EQ(cgroupfs->v2_dir, "");

  auto systemd = job_from_cgroup(
      "0::/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod0f2b2c3e_1c4d_4b7e_9a51_6a0f3d2c1b00.slice/"
      "cri-containerd-6d1f0c5e9b.scope\n");
  ASSERT_TRUE(systemd);
  EXPECT_EQ(systemd->key, (JobKey{Scheduler::kKubernetes, kPod}));
  EXPECT_EQ(systemd->v2_dir,
            "kubepods.slice/kubepods-burstable.slice/"
            "kubepods-burstable-pod0f2b2c3e_1c4d_4b7e_9a51_6a0f3d2c1b00.slice");

  auto guaranteed = job_from_cgroup(
      "0::/kubepods.slice/kubepods-pod0f2b2c3e_1c4d_4b7e_9a51_6a0f3d2c1b00.slice/x.scope\n");
  ASSERT_TRUE(guaranteed);
  EXPECT_EQ(guaranteed->key.id, kPod);
}

TEST(JobFromCgroup, OtherProcessesHaveNoJob) {
  EXPECT_FALSE(job_from_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n"));
  EXPECT_FALSE(job_from_cgroup("0::/\n"));
  EXPECT_FALSE(job_from_cgroup(""));
  // "job_N" counts only under a Slurm segment; "pod" only with a whole UID after it.
  EXPECT_FALSE(job_from_cgroup("0::/system.slice/batch/job_123\n"));
  EXPECT_FALSE(job_from_cgroup("0::/kubepods/burstable/podcast\n"));
  EXPECT_FALSE(job_from_cgroup("0::/system.slice/slurmstepd.scope/job_12x\n"));
}

TEST(JobFromEnviron, SlurmJobIdThenCarbonclockRunId) {
  using namespace std::string_literals;
  auto slurm = job_from_environ("PATH=/bin\0SLURM_JOB_ID=42\0HOME=/root\0"s);
  ASSERT_TRUE(slurm);
  EXPECT_EQ(*slurm, (JobKey{Scheduler::kSlurm, "42"}));
  auto run = job_from_environ("CARBONCLOCK_RUN_ID=20261127T235901Z-1a2b3c\0"s);
  ASSERT_TRUE(run);
  EXPECT_EQ(*run, (JobKey{Scheduler::kCarbonclock, "20261127T235901Z-1a2b3c"}));
  // A run inside a Slurm job belongs to the Slurm job (the scheduler's unit of accounting).
  auto both = job_from_environ("CARBONCLOCK_RUN_ID=r1\0SLURM_JOB_ID=43\0"s);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->id, "43");
}

TEST(JobFromEnviron, ValuesThatCannotBeLabelsAreIgnored) {
  using namespace std::string_literals;
  EXPECT_FALSE(job_from_environ("SLURM_JOB_ID=\0"s));
  EXPECT_FALSE(job_from_environ("SLURM_JOB_ID=4 2\0"s));
  EXPECT_FALSE(job_from_environ("CARBONCLOCK_RUN_ID=" + std::string(65, 'a') + "\0"s));
  EXPECT_FALSE(job_from_environ("CARBONCLOCK_RUN_ID=a\"b\0"s));
  EXPECT_FALSE(job_from_environ("NOT_SLURM_JOB_ID=5\0"s));
  auto fallback = job_from_environ("SLURM_JOB_ID=bad id\0CARBONCLOCK_RUN_ID=r2\0"s);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->scheduler, Scheduler::kCarbonclock);
}

}  // namespace
}  // namespace carbonclock

#include "exporter/job_tracker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "exporter/proc_files.h"
#include "exporter/test_proc.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

const JobKey kSlurm7{Scheduler::kSlurm, "7"};

class JobTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_unique<FakeProc>(
        std::filesystem::temp_directory_path() /
        fmt::format("cc_jobs_{}_{}", ::getpid(),
                    ::testing::UnitTest::GetInstance()->current_test_info()->name()));
  }
  // Rescans /proc at every scan unless `rescan` says otherwise.
  JobTracker tracker(Nanos rescan = Nanos::zero()) {
    JobTrackerOptions o;
    o.proc_root = fake_->proc();
    o.cgroup_root = fake_->cgroup();
    o.rescan = rescan;
    return JobTracker(o);
  }
  static double seconds(unsigned long long ticks) {
    return static_cast<double>(ticks) / clock_ticks_per_s();
  }
  static double job_s(const JobScan& scan, const JobKey& key) {
    for (const auto& [k, s] : scan.jobs) {
      if (k == key) return s;
    }
    return -1;  // not listed
  }
  std::unique_ptr<FakeProc> fake_;
  const MonoTime t0_{};
};

TEST_F(JobTrackerTest, JobCpuIsItsProcessesCpuSinceTheLastScan) {
  fake_->add_process(100, "0::/user.slice\n", "SLURM_JOB_ID=7\n");
  fake_->add_process(101, "0::/user.slice\n", "SLURM_JOB_ID=7\n");
  fake_->add_process(200, "0::/system.slice/sshd.service\n", "HOME=/root\n");
  fake_->set_cpu(100, 500, 100);  // CPU used before the exporter started: a baseline
  fake_->set_node(10000, 50000);
  JobTracker jobs = tracker();
  auto first = jobs.scan(t0_);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->node_busy_cpu_s, 0.0);
  EXPECT_EQ(job_s(*first, kSlurm7), 0.0);
  EXPECT_EQ(first->processes, 3u);
  EXPECT_EQ(first->jobs.size(), 1u);

  fake_->set_cpu(100, 540, 110);  // +50 ticks
  fake_->set_cpu(101, 20, 10);    // +30 ticks
  fake_->set_cpu(200, 999, 999);  // no job: not read
  fake_->set_node(10200, 50000);  // +200 busy ticks on the node
  auto second = jobs.scan(t0_ + 1s);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_DOUBLE_EQ(second->node_busy_cpu_s, seconds(200));
  EXPECT_DOUBLE_EQ(job_s(*second, kSlurm7), seconds(80));
  EXPECT_EQ(jobs.job_of(100), kSlurm7);
  EXPECT_FALSE(jobs.job_of(200));
}

TEST_F(JobTrackerTest, AProcessStartedSinceTheLastScanCountsFromItsStart) {
  fake_->add_process(100, "", "SLURM_JOB_ID=7\n");
  fake_->set_uptime(1000);
  JobTracker jobs = tracker();
  ASSERT_TRUE(jobs.scan(t0_));
  // Started 0.5 s after the first scan (uptime 1000 s), it has used 30 ticks since.
  const auto start = static_cast<unsigned long long>(1000.5 * clock_ticks_per_s());
  fake_->add_process(102, "", "SLURM_JOB_ID=7\n", start);
  fake_->set_cpu(102, 20, 10, start);
  fake_->set_uptime(1001);
  auto scan = jobs.scan(t0_ + 1s);
  ASSERT_TRUE(scan);
  EXPECT_DOUBLE_EQ(job_s(*scan, kSlurm7), seconds(30));
}

TEST_F(JobTrackerTest, CgroupJobsCountTheirCgroupsCpuExitedProcessesIncluded) {
  const std::string dir = "system.slice/slurmstepd.scope/job_9";
  fake_->set_cgroup_usage(dir, 5'000'000);
  fake_->add_process(300, "0::/" + dir + "/step_0/user/task_0\n", "");
  JobTracker jobs = tracker();
  auto first = jobs.scan(t0_);
  ASSERT_TRUE(first);
  EXPECT_EQ(job_s(*first, {Scheduler::kSlurm, "9"}), 0.0);
  fake_->set_cpu(300, 1, 1);                // not what counts
  fake_->set_cgroup_usage(dir, 6'250'000);  // +1.25 s, children that exited included
  auto second = jobs.scan(t0_ + 1s);
  ASSERT_TRUE(second);
  EXPECT_DOUBLE_EQ(job_s(*second, {Scheduler::kSlurm, "9"}), 1.25);
}

TEST_F(JobTrackerTest, JobsLeaveWithTheirLastProcess) {
  fake_->add_process(100, "", "CARBONCLOCK_RUN_ID=r1\n");
  JobTracker jobs = tracker();
  ASSERT_TRUE(jobs.scan(t0_));
  fake_->remove_process(100);
  auto scan = jobs.scan(t0_ + 1s);
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->jobs.empty());
  EXPECT_EQ(scan->processes, 0u);
}

TEST_F(JobTrackerTest, AProcessWithoutAJobIsLookedAtAgainAfterTheRecheckInterval) {
  // A scheduler forks its task, then moves it into the job's cgroup.
  fake_->add_process(100, "0::/system.slice/slurmstepd.scope\n", "");
  JobTracker jobs = tracker();  // rechecks every 10 s
  ASSERT_TRUE(jobs.scan(t0_));
  fake_->set_cgroup(100, "0::/system.slice/slurmstepd.scope/job_55/step_0\n");
  auto early = jobs.scan(t0_ + 5s);
  ASSERT_TRUE(early);
  EXPECT_TRUE(early->jobs.empty());
  auto later = jobs.scan(t0_ + 10s);
  ASSERT_TRUE(later);
  ASSERT_EQ(later->jobs.size(), 1u);
  EXPECT_EQ(later->jobs[0].first, (JobKey{Scheduler::kSlurm, "55"}));
}

TEST_F(JobTrackerTest, JobOfAProcessNotYetScannedIdentifiesItNow) {
  JobTracker jobs = tracker();
  ASSERT_TRUE(jobs.scan(t0_));
  fake_->add_process(400, "", "SLURM_JOB_ID=8\n");
  EXPECT_EQ(jobs.job_of(400), (JobKey{Scheduler::kSlurm, "8"}));
  EXPECT_FALSE(jobs.job_of(401));  // no such process
}

TEST_F(JobTrackerTest, MissingProcStatIsAnErrorNamingTheFile) {
  std::filesystem::remove(fake_->proc() / "stat");
  JobTracker jobs = tracker();
  auto scan = jobs.scan(t0_);
  ASSERT_FALSE(scan);
  EXPECT_EQ(scan.error().code(), ErrorCode::kIo);
  EXPECT_NE(scan.error().message().find("proc/stat"), std::string::npos) << scan.error().message();
}

}  // namespace
}  // namespace carbonclock

#include "exporter/job_tracker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "exporter/proc_files.h"
#include "exporter/test_proc.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

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

// Identifying a process costs two file reads, so a process without a job is looked at again
// once (after the recheck interval), not at every rescan.
TEST_F(JobTrackerTest, AProcessWithoutAJobIsLookedAtAgainOnlyOnce) {
  fake_->add_process(100, "0::/user.slice\n", "HOME=/root\n");
  JobTracker jobs = tracker();  // lists /proc at every scan; rechecks after 10 s
  ASSERT_TRUE(jobs.scan(t0_));
  auto recheck = jobs.scan(t0_ + 10s);
  ASSERT_TRUE(recheck);
  EXPECT_TRUE(recheck->jobs.empty());
  fake_->set_cgroup(100, "0::/system.slice/slurmstepd.scope/job_55/step_0\n");
  for (auto t : {11s, 20s, 30s}) {
    auto scan = jobs.scan(t0_ + t);
    ASSERT_TRUE(scan);
    EXPECT_TRUE(scan->jobs.empty()) << t.count();
  }
}

// A pid freed and taken by a new process has a new /proc entry: the new process is identified
// at the next rescan (here a process of job 8 where one with no job was).
TEST_F(JobTrackerTest, APidTakenByANewProcessIsIdentifiedAtTheNextRescan) {
  const JobKey slurm8{Scheduler::kSlurm, "8"};
  fake_->add_process(100, "0::/user.slice\n", "HOME=/root\n");
  JobTracker jobs = tracker();
  ASSERT_TRUE(jobs.scan(t0_));
  fake_->replace_process(100, "0::/user.slice\n", "SLURM_JOB_ID=8\n", 1000);
  auto scan = jobs.scan(t0_ + 1s);
  ASSERT_TRUE(scan);
  ASSERT_EQ(scan->jobs.size(), 1u);
  EXPECT_EQ(scan->jobs[0].first, slurm8);
  EXPECT_EQ(jobs.job_of(100), slurm8);
}

TEST_F(JobTrackerTest, JobOfAProcessNotYetScannedIdentifiesItNow) {
  JobTracker jobs = tracker();
  ASSERT_TRUE(jobs.scan(t0_));
  fake_->add_process(400, "", "SLURM_JOB_ID=8\n");
  EXPECT_EQ(jobs.job_of(400), (JobKey{Scheduler::kSlurm, "8"}));
  EXPECT_FALSE(jobs.job_of(401));  // no such process
}

// With a rescan interval, scans in between read only the known jobs: a process that starts in
// a known (cgroup-less) job is counted from the next rescan on, and one that exits goes at once.
TEST_F(JobTrackerTest, BetweenRescansANewProcessOfAKnownJobCountsFromTheNextRescan) {
  fake_->add_process(100, "", "SLURM_JOB_ID=7\n");
  fake_->set_uptime(1000);
  JobTracker jobs = tracker(5s);
  auto first = jobs.scan(t0_);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->rescanned);
  // Process 101 of the same job starts 0.5 s after the first scan.
  const auto start = static_cast<unsigned long long>(1000.5 * clock_ticks_per_s());
  fake_->add_process(101, "", "SLURM_JOB_ID=7\n", start);
  fake_->set_cpu(101, 20, 10, start);
  fake_->set_cpu(100, 5, 5);
  fake_->set_uptime(1001);
  auto between = jobs.scan(t0_ + 1s);
  ASSERT_TRUE(between);
  EXPECT_FALSE(between->rescanned);
  EXPECT_EQ(between->processes, 1u);
  EXPECT_NEAR(job_s(*between, kSlurm7), seconds(10), 1e-9);  // process 100 only

  fake_->set_cpu(101, 40, 20, start);  // +30 ticks, still unseen
  fake_->set_cpu(100, 10, 10);         // +10
  fake_->set_uptime(1005);
  auto rescan = jobs.scan(t0_ + 5s);
  ASSERT_TRUE(rescan);
  EXPECT_TRUE(rescan->rescanned);
  EXPECT_EQ(rescan->processes, 2u);
  // Found now, started before the previous scan: its CPU time so far is a baseline.
  EXPECT_NEAR(job_s(*rescan, kSlurm7), seconds(10), 1e-9);

  fake_->set_cpu(101, 50, 30, start);  // +20
  fake_->set_cpu(100, 15, 15);         // +10
  fake_->set_uptime(1006);
  auto after = jobs.scan(t0_ + 6s);
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->rescanned);
  EXPECT_NEAR(job_s(*after, kSlurm7), seconds(30), 1e-9);  // both, from the rescan on

  fake_->remove_process(100);
  fake_->set_cpu(101, 55, 30, start);  // +5
  auto one_left = jobs.scan(t0_ + 7s);
  ASSERT_TRUE(one_left);
  EXPECT_NEAR(job_s(*one_left, kSlurm7), seconds(5), 1e-9);
  fake_->remove_process(101);
  auto ended = jobs.scan(t0_ + 8s);  // not a rescan: the job leaves with its last process
  ASSERT_TRUE(ended);
  EXPECT_FALSE(ended->rescanned);
  EXPECT_TRUE(ended->jobs.empty());
}

// A new job is found by the next rescan; a cgroup job's cpu.stat is read at every scan (so
// processes it gains between rescans count at once), and the job leaves when its cgroup goes.
TEST_F(JobTrackerTest, BetweenRescansCgroupJobsAreReadAndNewJobsWaitForTheRescan) {
  const JobKey slurm8{Scheduler::kSlurm, "8"};
  const JobKey slurm9{Scheduler::kSlurm, "9"};
  const std::string dir = "system.slice/slurmstepd.scope/job_9";
  fake_->set_cgroup_usage(dir, 5'000'000);
  fake_->add_process(300, "0::/" + dir + "/step_0/user/task_0\n", "");
  JobTracker jobs = tracker(5s);
  ASSERT_TRUE(jobs.scan(t0_));
  fake_->add_process(301, "0::/" + dir + "/step_1/user/task_0\n", "");  // a new step
  fake_->set_cgroup_usage(dir, 5'500'000);                              // +0.5 s
  fake_->add_process(400, "", "SLURM_JOB_ID=8\n");                      // a new job
  auto between = jobs.scan(t0_ + 1s);
  ASSERT_TRUE(between);
  EXPECT_FALSE(between->rescanned);
  EXPECT_DOUBLE_EQ(job_s(*between, slurm9), 0.5);
  EXPECT_EQ(job_s(*between, slurm8), -1);  // not listed yet

  fake_->set_cgroup_usage(dir, 6'000'000);  // +0.5 s
  auto rescan = jobs.scan(t0_ + 5s);
  ASSERT_TRUE(rescan);
  EXPECT_TRUE(rescan->rescanned);
  EXPECT_DOUBLE_EQ(job_s(*rescan, slurm9), 0.5);
  EXPECT_EQ(job_s(*rescan, slurm8), 0.0);  // found: a baseline

  // Job 9 ends: Slurm removes its cgroup (its processes linger in /proc until reaped).
  fs::remove_all(fake_->cgroup() / "system.slice");
  auto ended = jobs.scan(t0_ + 6s);
  ASSERT_TRUE(ended);
  EXPECT_FALSE(ended->rescanned);
  EXPECT_EQ(job_s(*ended, slurm9), -1);
  EXPECT_EQ(job_s(*ended, slurm8), 0.0);
}

// A pid freed and taken by a process of another job between rescans is not counted for the old
// job (its start time differs); the next rescan identifies the new process.
TEST_F(JobTrackerTest, APidReusedBetweenRescansIsNotCountedForItsOldJob) {
  const JobKey slurm8{Scheduler::kSlurm, "8"};
  fake_->add_process(100, "", "SLURM_JOB_ID=7\n");
  fake_->set_uptime(1000);
  JobTracker jobs = tracker(5s);
  ASSERT_TRUE(jobs.scan(t0_));
  fake_->remove_process(100);
  const auto start = static_cast<unsigned long long>(1000.5 * clock_ticks_per_s());
  fake_->add_process(100, "", "SLURM_JOB_ID=8\n", start);
  fake_->set_cpu(100, 300, 300, start);
  fake_->set_uptime(1001);
  auto between = jobs.scan(t0_ + 1s);
  ASSERT_TRUE(between);
  EXPECT_TRUE(between->jobs.empty());  // job 7 ended; job 8 not yet found
  fake_->set_cpu(100, 350, 350, start);
  fake_->set_uptime(1005);
  auto rescan = jobs.scan(t0_ + 5s);
  ASSERT_TRUE(rescan);
  ASSERT_EQ(rescan->jobs.size(), 1u);
  EXPECT_EQ(rescan->jobs[0].first, slurm8);
  EXPECT_EQ(rescan->jobs[0].second, 0.0);  // started before the previous scan: a baseline
  EXPECT_EQ(jobs.job_of(100), slurm8);
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

#include "exporter/attribution.h"

#include <gtest/gtest.h>

#include <map>

namespace carbonclock {
namespace {

const JobKey kA{Scheduler::kSlurm, "1"};
const JobKey kB{Scheduler::kCarbonclock, "run-b"};

std::function<std::optional<JobKey>(pid_t)> jobs(std::map<pid_t, JobKey> m) {
  return [m](pid_t pid) -> std::optional<JobKey> {
    auto it = m.find(pid);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(GpuShares, WeightedBySmUtilisationWhereTheDriverReportsIt) {
  // Job A's two processes use 50 % and 25 % of the SMs, job B's one 25 %.
  auto shares =
      gpu_shares({{10, 50.0}, {11, 25.0}, {20, 25.0}}, jobs({{10, kA}, {11, kA}, {20, kB}}));
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_EQ(shares[0].first, kA);
  EXPECT_DOUBLE_EQ(shares[0].second, 0.75);
  EXPECT_EQ(shares[1].first, kB);
  EXPECT_DOUBLE_EQ(shares[1].second, 0.25);
}

TEST(GpuShares, EqualPerProcessWithoutUtilisationAndJoblessProcessesKeepTheirShare) {
  // No process reports utilisation: a third each; the process without a job keeps its third
  // unattributed.
  auto shares = gpu_shares({{10, std::nullopt}, {11, std::nullopt}, {30, std::nullopt}},
                           jobs({{10, kA}, {11, kA}}));
  ASSERT_EQ(shares.size(), 1u);
  EXPECT_DOUBLE_EQ(shares[0].second, 2.0 / 3.0);
  // All reporting 0 % is the same as none reporting.
  auto idle = gpu_shares({{10, 0.0}, {20, 0.0}}, jobs({{10, kA}, {20, kB}}));
  ASSERT_EQ(idle.size(), 2u);
  EXPECT_DOUBLE_EQ(idle[0].second, 0.5);
  // A process without a sample while another has one used nothing in that stretch.
  auto one = gpu_shares({{10, 80.0}, {20, std::nullopt}}, jobs({{10, kA}, {20, kB}}));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].first, kA);
  EXPECT_DOUBLE_EQ(one[0].second, 1.0);
}

TEST(GpuShares, NoProcessLeavesEverythingUnattributed) {
  EXPECT_TRUE(gpu_shares({}, jobs({})).empty());
}

TEST(CpuShares, JobSecondsOverTheNodesBusySeconds) {
  JobScan scan;
  scan.node_busy_cpu_s = 10;
  scan.jobs = {{kA, 4}, {kB, 1}, {JobKey{Scheduler::kSlurm, "idle"}, 0}};
  auto shares = cpu_shares(scan);
  ASSERT_EQ(shares.size(), 2u);  // a job that used no CPU gets nothing
  EXPECT_DOUBLE_EQ(shares[0].second, 0.4);
  EXPECT_DOUBLE_EQ(shares[1].second, 0.1);
  // Jobs read as busier than the node (the reads are not atomic): normalised to their sum.
  scan.node_busy_cpu_s = 4;
  shares = cpu_shares(scan);
  EXPECT_DOUBLE_EQ(shares[0].second, 0.8);
  EXPECT_DOUBLE_EQ(shares[1].second, 0.2);
  scan.node_busy_cpu_s = 0;
  scan.jobs.clear();
  EXPECT_TRUE(cpu_shares(scan).empty());
}

}  // namespace
}  // namespace carbonclock

#include "sensors/estimate_sensor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <thread>

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

TEST(EstimateSensor, CpuEnergyFollowsTheJobsCpuTime) {
  EstimateModel model;
  model.cpu_w_per_core = 10;
  model.min_scan_interval = 50ms;
  auto sensor = make_estimate_sensor(model);
  ASSERT_EQ(sensor->devices().size(), 2u);
  EXPECT_EQ(sensor->devices()[0].method, Method::kEstimate);

  // A child that burns 0.5 s of CPU time, however busy the machine is.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    timespec ts{};
    volatile unsigned long x = 0;
    do {
      for (int i = 0; i < 100000; ++i) x = x + 1;
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    } while (ts.tv_sec == 0 && ts.tv_nsec < 500'000'000);
    ::_exit(0);
  }
  sensor->attach_job(child);
  std::vector<double> e(2);
  std::vector<std::string> w;
  auto t0 = std::chrono::steady_clock::now();
  sensor->read(t0, e, w);
  double mid_j = 0;
  // Read until the child has had some CPU time: on a loaded machine that takes a while.
  for (int i = 1; i <= 4 || (i <= 200 && mid_j <= 0.5); ++i) {
    std::this_thread::sleep_for(100ms);
    sensor->read(std::chrono::steady_clock::now(), e, w);
    mid_j = e[0];
  }
  EXPECT_GT(mid_j, 0.5);  // at least 0.05 CPU-s seen while running
  EXPECT_GT(e[1], 0.0);   // resident memory x time
  int status = 0;
  struct rusage ru {};
  ::wait4(child, &status, 0, &ru);
  double cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  sensor->job_finished(cpu_s);
  sensor->read(std::chrono::steady_clock::now(), e, w);
  EXPECT_NEAR(e[0], cpu_s * 10, 1e-9);
  EXPECT_GT(cpu_s, 0.45);
}

// Burns CPU time in this process until it has used `target_s` in total.
void burn_cpu_until(double target_s) {
  timespec ts{};
  volatile unsigned long x = 0;
  do {
    for (int i = 0; i < 100000; ++i) x = x + 1;
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  } while (static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9 < target_s);
}

TEST(EstimateSensor, AJobAlreadyRunningCountsOnlyTheCpuTimeAfterTheFirstRead) {
  EstimateModel model;
  model.cpu_w_per_core = 10;
  model.min_scan_interval = 0ms;
  model.job_already_running = true;
  auto sensor = make_estimate_sensor(model);
  // A child that burns 0.4 s before metering begins, then 0.2 s more when told to.
  int go[2], ready[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c = 0;
    burn_cpu_until(0.4);
    (void)!::write(ready[1], "r", 1);
    (void)!::read(go[0], &c, 1);
    burn_cpu_until(0.6);
    (void)!::write(ready[1], "r", 1);
    (void)!::read(go[0], &c, 1);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  sensor->attach_job(child);
  std::vector<double> e(2);
  std::vector<std::string> w;
  sensor->read(std::chrono::steady_clock::now(), e, w);
  EXPECT_EQ(e[0], 0.0);  // the 0.4 s before the first read are not the run's
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  sensor->read(std::chrono::steady_clock::now(), e, w);
  // 0.2 CPU-s x 10 W, give or take the 10 ms tick of /proc/PID/stat on either reading.
  EXPECT_NEAR(e[0], 2.0, 0.3);
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  int status = 0;
  ::waitpid(child, &status, 0);
}

TEST(EstimateSensor, OnlyTheRequestedParts) {
  EstimateModel model;
  model.estimate_cpu = false;
  auto sensor = make_estimate_sensor(model);
  ASSERT_EQ(sensor->devices().size(), 1u);
  EXPECT_EQ(sensor->devices()[0].id, "dram-estimate");
  EXPECT_EQ(sensor->devices()[0].kind, DeviceKind::kDram);
}

}  // namespace
}  // namespace carbonclock

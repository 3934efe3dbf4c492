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

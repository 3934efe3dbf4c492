#include "metering/meter.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>

#include "metering/test_sensor.h"
#include "sensors/estimate_sensor.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

TEST(Meter, ConstantPowerFillsBucketsExactly) {
  ManualClock clock(parse_utc("2024-01-01T00:03:00Z").value());
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(std::make_unique<ConstantPowerSensor>(std::vector<double>{100, 50}));
  Meter meter(std::move(sensors), clock, {1s, 5min, 1s});
  meter.start();
  for (int i = 0; i < 600; ++i) {
    clock.advance(1s);
    meter.sample();
  }
  meter.finish(0);
  auto t = meter.timeline();
  ASSERT_EQ(t.buckets.size(), 3u);  // 00:00, 00:05, 00:10 (00:03 -> 00:13)
  EXPECT_NEAR(t.buckets[0].energy_j[0], 100 * 120.0, 1e-6);
  EXPECT_NEAR(t.buckets[1].energy_j[0], 100 * 300.0, 1e-6);
  EXPECT_NEAR(t.buckets[2].energy_j[1], 50 * 180.0, 1e-6);
  EXPECT_NEAR(t.total_j(), 150 * 600.0, 1e-6);
  EXPECT_EQ(meter.samples(), 602);
}

TEST(Meter, UnusedDevicesAreDroppedAtFinish) {
  ManualClock clock(parse_utc("2024-01-01T00:00:00Z").value());
  auto sensor = std::make_unique<ConstantPowerSensor>(std::vector<double>{100, 50, 25});
  sensor->used_ = {false, true, false};
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(std::move(sensor));
  Meter meter(std::move(sensors), clock, {});
  meter.start();
  clock.advance(10s);
  meter.finish(0);
  auto t = meter.timeline();
  ASSERT_EQ(t.devices.size(), 1u);
  EXPECT_EQ(t.devices[0].id, "dev1");
  EXPECT_NEAR(t.total_j(), 500, 1e-9);
}

TEST(Meter, AJobAttachedWhileSamplingReachesSensorsOnTheSamplerThread) {
  ManualClock clock(parse_utc("2024-01-01T00:00:00Z").value());
  auto sensor = std::make_unique<ConstantPowerSensor>(std::vector<double>{1});
  ConstantPowerSensor* seen = sensor.get();
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(std::move(sensor));
  Meter meter(std::move(sensors), clock, {});
  meter.start();
  meter.attach_job(4242);         // e.g. the job restarted by --resume-command
  EXPECT_EQ(seen->attached_, 0);  // not from this thread, while a sample may be running
  clock.advance(1s);
  meter.sample();
  EXPECT_EQ(seen->attached_, 4242);
}

TEST(Meter, SamplerThreadSamplesAtTheInterval) {
  RealClock clock;
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(std::make_unique<ConstantPowerSensor>(std::vector<double>{10}));
  Meter meter(std::move(sensors), clock, {20ms, 5min, 1s});
  meter.start();
  meter.start_thread();
  std::this_thread::sleep_for(300ms);
  meter.finish(0);
  EXPECT_GE(meter.samples(), 8);
  EXPECT_LE(meter.samples(), 20);
  EXPECT_NEAR(meter.timeline().total_j(), 10 * to_seconds(meter.elapsed()), 1e-3);
}

TEST(Meter, TheSamplerThreadSamplesOnlyHoldingTheSampleLock) {
  RealClock clock;
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(std::make_unique<ConstantPowerSensor>(std::vector<double>{10}));
  Meter meter(std::move(sensors), clock, {5ms, 5min, 1s});
  std::mutex sample_lock;
  meter.start();
  meter.start_thread(&sample_lock);
  {
    std::lock_guard held(sample_lock);
    const int64_t before = meter.samples();
    std::this_thread::sleep_for(100ms);  // 20 intervals: the sampler waits for the lock
    EXPECT_EQ(meter.samples(), before);
    meter.sample();  // another thread's reading, as the Python API's window boundaries take
    EXPECT_EQ(meter.samples(), before + 1);
  }
  while (meter.samples() < 5) std::this_thread::sleep_for(5ms);  // sampling resumes
  meter.finish(0);
  EXPECT_NEAR(meter.timeline().total_j(), 10 * to_seconds(meter.elapsed()), 1e-3);
}

// Burns `cpu_s` seconds of this process's CPU time, however busy the machine is.
void burn_cpu(double cpu_s) {
  timespec ts{};
  volatile unsigned long x = 0;
  do {
    for (int i = 0; i < 100000; ++i) x = x + 1;
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  } while (static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9 < cpu_s);
}

TEST(Meter, AnExitedChildsCpuTimeIsBookedInTheBucketWhereItRanNotAtTheEnd) {
  ManualClock clock(parse_utc("2024-01-01T00:00:00Z").value());
  EstimateModel model;
  model.cpu_w_per_core = 10;
  model.estimate_dram = false;
  model.min_scan_interval = Nanos(0);
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(make_estimate_sensor(model));
  Meter meter(std::move(sensors), clock, {1s, 1s, 1s});  // 1 s buckets
  meter.start();
  // The job: a child burns 0.5 CPU-s and exits (the job reaps it), then the job sleeps.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t job = ::fork();
  ASSERT_GE(job, 0);
  if (job == 0) {
    pid_t child = ::fork();
    if (child == 0) {
      burn_cpu(0.5);
      ::_exit(0);
    }
    ::waitpid(child, nullptr, 0);
    (void)!::write(fds[1], "x", 1);
    for (;;) ::pause();
  }
  meter.attach_job(job);
  char done = 0;
  ASSERT_EQ(::read(fds[0], &done, 1), 1);  // the child ran and exited within the first second
  ::close(fds[0]);
  ::close(fds[1]);
  for (int i = 0; i < 6; ++i) {
    clock.advance(1s);
    meter.sample();
  }
  ::kill(job, SIGKILL);
  int status = 0;
  struct rusage ru {};
  ASSERT_EQ(::wait4(job, &status, 0, &ru), job);
  const double job_cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  clock.advance(1s);
  meter.finish(job_cpu_s);

  auto t = meter.timeline();
  ASSERT_GE(t.buckets.size(), 7u);
  const double first_j = t.buckets[0].energy_j[0];
  double later_j = 0;
  for (size_t b = 1; b < t.buckets.size(); ++b) later_j += t.buckets[b].energy_j[0];
  EXPECT_NEAR(t.total_j(), job_cpu_s * 10, 1e-9);  // the kernel's total, as before
  EXPECT_GT(job_cpu_s, 0.45);
  // Everything but /proc's clock-tick rounding is in the first second, where the child ran.
  EXPECT_GT(first_j, 0.9 * t.total_j());
  EXPECT_LT(later_j, 0.1 * t.total_j());
}

}  // namespace
}  // namespace carbonclock

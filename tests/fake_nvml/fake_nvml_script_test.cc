#include "fake_nvml_script.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace fake_nvml {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("fake_nvml_script_test_" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(SmiTimestamp, ReadsDateTimeAsUtcSeconds) {
  // 2025-12-05 is day 20427 since 1970-01-01; 02:37:06.256 adds 9426.256 s.
  auto t = parse_smi_timestamp("2025/12/05 02:37:06.256");
  ASSERT_TRUE(t);
  EXPECT_NEAR(*t, 20427 * 86400.0 + 9426.256, 1e-6);
  EXPECT_NEAR(*parse_smi_timestamp("2026-01-01 00:00:00.100") -
                  *parse_smi_timestamp("2025/12/31 23:59:59.900"),
              0.2, 1e-6);
  EXPECT_FALSE(parse_smi_timestamp("2025/12/05"));
  EXPECT_FALSE(parse_smi_timestamp("2025/13/05 02:37:06"));
  EXPECT_FALSE(parse_smi_timestamp("garbage that is long enough"));
}

TEST(SmiTrace, SplitsInterleavedGpusWithOrWithoutUnits) {
  const std::string path = write_temp("two_gpus.csv",
                                      "timestamp, power.draw [W], utilization.gpu [%]\n"
                                      "2025/12/05 02:37:06.256, 17.65, 0 %\n"
                                      "2025/12/05 02:37:06.259, 16.29 W, 0 %\n"
                                      "2025/12/05 02:37:06.363, [N/A], 0 %\n"
                                      "2025/12/05 02:37:06.364, 20.5 W, 0 %\n"
                                      "2025/12/05 02:37:06.465, 30, 0 %\n"
                                      "2025/12/05 02:37:06.466, 40\r\n");
  std::string error;
  auto gpu0 = parse_nvidia_smi_trace(path, 0, 2, error);
  ASSERT_TRUE(gpu0) << error;
  ASSERT_EQ(gpu0->t_s.size(), 2u);  // the [N/A] row is skipped
  EXPECT_DOUBLE_EQ(gpu0->power_w[0], 17.65);
  EXPECT_DOUBLE_EQ(gpu0->power_w[1], 30);
  EXPECT_NEAR(gpu0->t_s[1], 0.209, 1e-6);
  auto gpu1 = parse_nvidia_smi_trace(path, 1, 2, error);
  ASSERT_TRUE(gpu1) << error;
  ASSERT_EQ(gpu1->power_w.size(), 3u);
  EXPECT_DOUBLE_EQ(gpu1->power_w[0], 16.29);
  EXPECT_DOUBLE_EQ(gpu1->power_w[1], 20.5);
  EXPECT_DOUBLE_EQ(gpu1->power_w[2], 40);
  EXPECT_NEAR(gpu1->t_s[0], 0.0, 1e-9);  // each GPU's times count from its own first sample
  EXPECT_NEAR(gpu1->t_s[2], 0.207, 1e-6);
}

TEST(SmiTrace, RejectsTimeGoingBackwards) {
  const std::string path = write_temp("backwards.csv",
                                      "timestamp, power.draw [W]\n"
                                      "2025/12/05 02:37:06.256, 17\n"
                                      "2025/12/05 02:37:06.100, 18\n");
  std::string error;
  EXPECT_FALSE(parse_nvidia_smi_trace(path, 0, 1, error));
  EXPECT_NE(error.find(":3: time does not advance"), std::string::npos) << error;
  EXPECT_FALSE(parse_nvidia_smi_trace(path + ".missing", 0, 1, error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

TEST(SmiTrace, ReadsTheSharedTitanXTrace) {
  const std::string path =
      std::string(CARBONCLOCK_SHARED_DATA) +
      "/training_profile/titanx-traces/power-trace_2gpu_2025-12-05-02-37-06.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent: " << path;
  std::string error;
  auto gpu0 = parse_nvidia_smi_trace(path, 0, 2, error);
  auto gpu1 = parse_nvidia_smi_trace(path, 1, 2, error);
  ASSERT_TRUE(gpu0 && gpu1) << error;
  EXPECT_EQ(gpu0->t_s.size(), 4093u);  // 8,186 rows, two GPUs
  EXPECT_EQ(gpu1->t_s.size(), 4093u);
  EXPECT_DOUBLE_EQ(gpu0->power_w.front(), 17.65);
  EXPECT_DOUBLE_EQ(gpu1->power_w.front(), 16.29);
  EXPECT_DOUBLE_EQ(gpu0->power_w.back(), 18.42);
  EXPECT_DOUBLE_EQ(gpu1->power_w.back(), 17.18);
  EXPECT_NEAR(gpu0->t_s.back(), 432.9, 0.5);  // 02:37:06.256 -> 02:44:19.156
}

TEST(PowerModel, StepsIntegrateExactly) {
  auto steps = PowerModel::steps({0.5, 1.0}, {100, 300});
  EXPECT_DOUBLE_EQ(steps.power_w(0.2), 100);  // the first value also covers [0, 0.5)
  EXPECT_DOUBLE_EQ(steps.power_w(1.5), 300);
  EXPECT_NEAR(steps.energy_j(1.0), 100.0, 1e-9);
  EXPECT_NEAR(steps.energy_j(2.0), 100.0 + 300.0, 1e-9);
  EXPECT_NEAR(PowerModel::constant(250).energy_j(0.4), 100.0, 1e-9);
}

TEST(PowerModel, TraceIsLinearAndTimeCompressed) {
  // 100 W rising to 200 W over 10 trace seconds, played twice as fast from trace second 2.
  auto trace = PowerModel::trace({0, 10}, {100, 200}, 2.0, 2.0);
  EXPECT_DOUBLE_EQ(trace.power_w(0), 120);
  EXPECT_DOUBLE_EQ(trace.power_w(1.5), 150);
  // Trace seconds 2..8 hold (120 + 180) / 2 * 6 = 900 J, delivered in 3 real seconds.
  EXPECT_NEAR(trace.energy_j(3.0), 450.0, 1e-9);
  // Past the end the last value holds: trace 2..10 = (120 + 200) / 2 * 8 = 1280 J, then
  // 10..12 at 200 W = 400 J; 1680 J in 5 real seconds is 840 J.
  EXPECT_NEAR(trace.energy_j(5.0), 840.0, 1e-9);
}

TEST(Script, ParsesEveryKey) {
  const std::string trace = write_temp("one_gpu.csv",
                                       "timestamp, power.draw [W]\n"
                                       "2025/12/05 02:37:06.000, 100 W\n"
                                       "2025/12/05 02:37:07.000, 200 W\n");
  std::string error;
  auto script = parse_script(
      "# two GPUs\n"
      "gpu\n"
      "name NVIDIA H100 80GB HBM3\n"
      "uuid GPU-abc\n"
      "energy_counter no\n"
      "power_steps 0:50 0.5:150   # a comment\n"
      "vanish_after 1.5\n"
      "mig 3\n"
      "process_comm sleep\n"
      "process_comm python3 sm=62.5\n"
      "vanish_during 2 3.5\n"
      "gpu\n"
      "power_trace " +
          trace + " gpu=0 gpus=1 offset=0.5 speed=2\n",
      "/", error);
  ASSERT_TRUE(script) << error;
  ASSERT_EQ(script->gpus.size(), 2u);
  const GpuScript& a = script->gpus[0];
  EXPECT_EQ(a.name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(a.uuid, "GPU-abc");
  EXPECT_FALSE(a.energy_counter);
  EXPECT_DOUBLE_EQ(a.power.power_w(0.7), 150);
  EXPECT_EQ(a.vanish_after_s, 1.5);
  EXPECT_EQ(a.mig_devices, 3u);
  ASSERT_EQ(a.processes.size(), 2u);
  EXPECT_EQ(a.processes[0].comm, "sleep");
  EXPECT_FALSE(a.processes[0].sm_util_pct.has_value());
  EXPECT_EQ(a.processes[1].comm, "python3");
  EXPECT_EQ(a.processes[1].sm_util_pct, 62.5);
  EXPECT_FALSE(a.lost_at(1.4));
  EXPECT_TRUE(a.lost_at(1.5));  // vanish_after wins from 1.5 s on
  const GpuScript& b = script->gpus[1];
  EXPECT_EQ(b.uuid, "GPU-00000000-0000-0000-0000-000000000001");
  EXPECT_TRUE(b.energy_counter);
  EXPECT_DOUBLE_EQ(b.power.power_w(0), 150);  // trace second 0.5
}

TEST(Script, VanishDuringWindowsEndAndRepeat) {
  std::string error;
  auto script = parse_script("gpu\nvanish_during 1 2\nvanish_during 4 4.5\n", "/", error);
  ASSERT_TRUE(script) << error;
  const GpuScript& gpu = script->gpus[0];
  EXPECT_FALSE(gpu.lost_at(0.99));
  EXPECT_TRUE(gpu.lost_at(1.0));
  EXPECT_TRUE(gpu.lost_at(1.99));
  EXPECT_FALSE(gpu.lost_at(2.0));  // back after the window
  EXPECT_TRUE(gpu.lost_at(4.2));
  EXPECT_FALSE(gpu.lost_at(4.5));
}

TEST(Script, NamesTheBadLine) {
  std::string error;
  EXPECT_FALSE(parse_script("gpu\npower 10\nwattage 3\n", "/", error));
  EXPECT_EQ(error, "script:3: unknown key 'wattage'");
  EXPECT_FALSE(parse_script("name x\n", "/", error));
  EXPECT_EQ(error, "script:1: 'name' before the first 'gpu'");
  EXPECT_FALSE(parse_script("gpu\npower_steps 1:10 0.5:20\n", "/", error));
  EXPECT_EQ(error, "script:2: power_steps needs increasing SECONDS:WATTS pairs");
  EXPECT_FALSE(parse_script("gpu\nvanish_during 3 2\n", "/", error));
  EXPECT_EQ(error, "script:2: vanish_during needs START END seconds with 0 <= START < END");
  EXPECT_FALSE(parse_script("gpu\nprocess_comm python3 sm=120\n", "/", error));
  EXPECT_EQ(error, "script:2: process_comm option 'sm=120': use sm=PERCENT (0..100)");
  auto init = parse_script("init_error 9\n", "/", error);
  ASSERT_TRUE(init);
  EXPECT_EQ(init->init_error, 9);
}

}  // namespace
}  // namespace fake_nvml

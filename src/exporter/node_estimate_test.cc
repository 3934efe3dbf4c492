#include "exporter/node_estimate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "exporter/proc_files.h"
#include "exporter/test_proc.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

TEST(NodeEstimate, BusyCpuSecondsAndMemoryInUseTimesTheModel) {
  FakeProc fake(std::filesystem::temp_directory_path() /
                fmt::format("cc_node_estimate_{}", ::getpid()));
  EstimateModel model;
  model.cpu_w_per_core = 10;
  model.dram_w_per_gb = 0.5;
  model.proc_root = fake.proc();
  fake.set_node(1000, 0);
  fake.set_meminfo(8'000'000, 6'000'000);  // 2e6 kB = 2.048 GB in use: 1.024 W
  auto sensor = make_node_estimate_sensor(model);
  ASSERT_EQ(sensor->devices().size(), 2u);
  EXPECT_EQ(sensor->devices()[0].id, "cpu-estimate");
  EXPECT_EQ(sensor->devices()[0].method, Method::kEstimate);
  EXPECT_EQ(sensor->devices()[1].id, "dram-estimate");
  std::vector<double> energy_j(2, -1);
  std::vector<std::string> warnings;
  const MonoTime t0{};
  sensor->read(t0, energy_j, warnings);
  EXPECT_EQ(energy_j, (std::vector<double>{0, 0}));
  // 2 s later: 300 busy ticks more (3 core-seconds at 100 Hz), memory in use doubled.
  fake.set_node(1000 + static_cast<unsigned long long>(3 * clock_ticks_per_s()), 0);
  fake.set_meminfo(8'000'000, 4'000'000);  // 4.096 GB: 2.048 W
  sensor->read(t0 + 2s, energy_j, warnings);
  EXPECT_DOUBLE_EQ(energy_j[0], 3 * 10.0);
  EXPECT_DOUBLE_EQ(energy_j[1], 0.5 * (1.024 + 2.048) * 2);
  EXPECT_TRUE(warnings.empty());

  // An unreadable file holds the energy and warns once.
  std::filesystem::remove(fake.proc() / "stat");
  sensor->read(t0 + 3s, energy_j, warnings);
  sensor->read(t0 + 4s, energy_j, warnings);
  EXPECT_DOUBLE_EQ(energy_j[0], 30.0);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("proc/stat"), std::string::npos) << warnings[0];
}

TEST(NodeEstimate, OnlyTheDevicesAsked) {
  EstimateModel model;
  model.estimate_cpu = false;
  auto sensor = make_node_estimate_sensor(model);
  ASSERT_EQ(sensor->devices().size(), 1u);
  EXPECT_EQ(sensor->devices()[0].id, "dram-estimate");
}

}  // namespace
}  // namespace carbonclock

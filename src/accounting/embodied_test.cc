#include "accounting/embodied.h"

#include <gtest/gtest.h>

#include "accounting/test_run.h"
#include "grid/test_util.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
using testing::make_run;
using testing::utc;

constexpr double kYear_s = 365.25 * 86400;

TEST(EmbodiedTest, GpuNamesMatchTheirCatalogueModel) {
  EXPECT_EQ(gpu_item("NVIDIA H100 80GB HBM3").key, "h100");
  EXPECT_EQ(gpu_item("NVIDIA A100-SXM4-40GB").key, "a100");
  EXPECT_EQ(gpu_item("Tesla V100-SXM2-16GB").key, "v100");
  EXPECT_EQ(gpu_item("Fake GPU").key, "gpu");
  for (const auto& i : hardware_catalogue()) {
    EXPECT_GT(i.embodied_kg, 0) << i.key;
    EXPECT_FALSE(i.source.empty()) << i.key;
  }
}

TEST(EmbodiedTest, CatalogueEstimateAmortisesEachItemOverItsLifetime) {
  // Two H100s (1,312 kg / 8 = 164 kg each), two CPU packages (one beyond the base server's:
  // 100 kg), the 1,000 kg base server, 64 GB DRAM (48 GB beyond the base's 16 GB at
  // 533/384 kg per GB); one hour of a 4-year life, the whole machine.
  auto run = make_run(utc("2026-03-01T00:00Z"), 1h, 5min, {1000},
                      {"NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"}, true);
  run.timeline.devices.push_back(
      {"cpu1-package", DeviceKind::kCpu, "package-1", Method::kCounter, "", ""});
  EmbodiedOptions o;
  o.dram_gb = 64;
  auto a = embodied_for_run(run, o);
  const double te_kg = 2 * 164 + 1000 + 100 + 48 * 533.0 / 384;
  EXPECT_NEAR(a.te_kg, te_kg, 1e-9);
  EXPECT_NEAR(a.embodied_g, te_kg * 1000 * 3600 / (4 * kYear_s), 1e-9);
  EXPECT_EQ(a.components.size(), 4u);
  EXPECT_FALSE(a.overridden);
}

TEST(EmbodiedTest, UserOverridesReplaceTheCatalogueAndShareScales) {
  auto run = make_run(utc("2026-03-01T00:00Z"), 1h, 5min, {1000});
  EmbodiedOptions o;
  o.embodied_kg = 2000;
  o.lifetime_years = 5;
  o.machine_share = 0.5;
  auto a = embodied_for_run(run, o);
  EXPECT_TRUE(a.overridden);
  EXPECT_NEAR(a.embodied_g, 2000e3 * 3600 / (5 * kYear_s) * 0.5, 1e-9);
}

TEST(EmbodiedTest, ValidateRejectsNonsense) {
  EmbodiedOptions o;
  EXPECT_TRUE(validate(o).ok());
  o.machine_share = 0;
  EXPECT_FALSE(validate(o).ok());
  o.machine_share = 1.5;
  EXPECT_FALSE(validate(o).ok());
  o = {};
  o.lifetime_years = 0;
  EXPECT_FALSE(validate(o).ok());
  o = {};
  o.embodied_kg = -1;
  EXPECT_NE(validate(o).error().message().find("--embodied-kg"), std::string::npos);
}

}  // namespace
}  // namespace carbonclock

#include "intensity/intensity_timeline.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

const SysTime kT0 = parse_utc("2026-03-02T00:00:00Z").value();

TEST(PriceTest, SplitsEnergyByProvenanceAndCountsWhatIsUnpriced) {
  IntensityTimeline tl;
  tl.provenances = {
      {IntensityBasis::kActual, "DE", Signal::kAverage, Factor::kLifecycle, "a", {}, {}},
      {IntensityBasis::kEmbedded, "DE", Signal::kAverage, Factor::kLifecycle, "p", {}, {}}};
  tl.points = {{kT0, 1h, 100, false}, {kT0 + 1h, 1h, 300, true}};
  tl.provenance = {0, 1};
  // 3 kWh over 3 hours: the third hour has no intensity.
  std::vector<EnergyInterval> e{{kT0, 3h, 3 * 3.6e6}};
  PricedEnergy p = price(e, tl);
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_DOUBLE_EQ(p.parts[0].energy_j, 3.6e6);
  EXPECT_DOUBLE_EQ(p.parts[0].it_g, 100);
  EXPECT_DOUBLE_EQ(p.parts[1].it_g, 300);
  EXPECT_DOUBLE_EQ(p.parts[1].estimated_energy_j, 3.6e6);
  EXPECT_DOUBLE_EQ(p.unpriced_energy_j, 3.6e6);
  EXPECT_DOUBLE_EQ(p.it_g, 400);
  ASSERT_EQ(p.interval_it_g.size(), 1u);
  EXPECT_DOUBLE_EQ(p.interval_it_g[0], 400);
  EXPECT_DOUBLE_EQ(p.energy_of(IntensityBasis::kEmbedded), 3.6e6);
  EXPECT_FALSE(p.summary().mixed());
}

}  // namespace
}  // namespace carbonclock

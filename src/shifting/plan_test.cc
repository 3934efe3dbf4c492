#include "shifting/plan.h"

#include <gtest/gtest.h>

#include <random>

#include "shifting/brute_force.h"
#include "shifting/test_support.h"

namespace carbonclock {
namespace {

using testing::profile;
using testing::slotted;

JobProfile flat(size_t k, double energy_kwh) {
  auto p = flat_profile("flat", std::chrono::minutes(5) * static_cast<int64_t>(k), energy_kwh,
                        std::chrono::minutes(5));
  return std::move(p).value();
}

// Values a human can check: intensities 5 4 1 1 3 9 2 2 (× 100 g/kWh), job of 2 slots × 1 kWh.
TEST(FlexibleStart, PicksLowestWindowEarliestOnTies) {
  auto in = slotted({500, 400, 100, 100, 300, 900, 200, 200});
  auto job = flat(2, 2.0);
  auto plan = flexible_start(job, in, 0, 6);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_DOUBLE_EQ(plan->baseline_g, 900.0);  // 1 kWh × (500 + 400)
  EXPECT_DOUBLE_EQ(plan->shifted_g, 200.0);   // slots 2, 3
  EXPECT_EQ(plan->slots, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(plan->pauses, 0u);
  EXPECT_NEAR(plan->reduction_pct(), 100.0 * 700 / 900, 1e-12);
  // Window 0: the requested start only.
  auto none = flexible_start(job, in, 0, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_DOUBLE_EQ(none->shifted_g, none->baseline_g);
}

TEST(PauseResume, FlatTakesLowestSlotsEarliestOnTiesAndCountsPauses) {
  auto in = slotted({500, 100, 400, 100, 300, 100, 200, 200});
  auto job = flat(3, 3.0);
  // Window N = 3 → slots 0..5; lowest three are 1, 3, 5 → two pauses.
  auto plan = pause_resume(job, in, 0, 3);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->slots, (std::vector<size_t>{1, 3, 5}));
  EXPECT_EQ(plan->pauses, 2u);
  EXPECT_DOUBLE_EQ(plan->shifted_g, 300.0);
  EXPECT_DOUBLE_EQ(plan->baseline_g, 1000.0);
  // N = 5: slots 0..7; the three 100s still win over the 200s.
  auto wide = pause_resume(job, in, 0, 5);
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(wide->slots, (std::vector<size_t>{1, 3, 5}));
}

TEST(PauseResume, MeasuredHeavyPhaseLandsInCleanestSlot) {
  // A job light–heavy (1 then 10 kWh), window 100 900 50 900: order preserved, heavy in 50.
  auto in = slotted({100, 900, 50, 900});
  auto job = profile({1, 10});
  auto plan = pause_resume(job, in, 0, 2);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->slots, (std::vector<size_t>{0, 2}));
  EXPECT_DOUBLE_EQ(plan->shifted_g, 1 * 100 + 10 * 50);
  EXPECT_EQ(plan->pauses, 1u);
  // Heavy first (10 then 1): the cleanest slot (50) would leave only a 900 after it for the
  // light phase (500 + 900 = 1400); 10·100 + 1·50 = 1050 is the order-preserving optimum.
  auto reversed = pause_resume(profile({10, 1}), in, 0, 2);
  ASSERT_TRUE(reversed.ok());
  EXPECT_EQ(reversed->slots, (std::vector<size_t>{0, 2}));
  EXPECT_DOUBLE_EQ(reversed->shifted_g, 1050);
}

TEST(PauseResume, NeverWorseThanFlexibleStart) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    auto in = slotted(testing::random_real_values(rng, 40));
    std::uniform_real_distribution<double> e(0.0, 3.0);
    std::vector<double> energy(1 + rng() % 8);
    for (double& x : energy) x = e(rng);
    auto job = profile(energy);
    size_t n = rng() % 10;
    size_t start = rng() % (40 - job.slots() - n + 1);
    auto fs = flexible_start(job, in, start, n);
    auto pr = pause_resume(job, in, start, n);
    ASSERT_TRUE(fs.ok() && pr.ok());
    EXPECT_LE(pr->shifted_g, fs->shifted_g * (1 + 1e-12));
    EXPECT_LE(fs->shifted_g, fs->baseline_g * (1 + 1e-12));
  }
}

TEST(Plans, GapOrOutsideDataIsAnErrorNotZero) {
  auto in = slotted({100, 200, NAN, 100, 100});
  auto job = flat(2, 1.0);
  auto gap = flexible_start(job, in, 0, 1);
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.error().message().find("gap"), std::string::npos);
  EXPECT_FALSE(pause_resume(job, in, 1, 0).ok());
  EXPECT_TRUE(pause_resume(job, in, 3, 0).ok());
  auto outside = pause_resume(job, in, 3, 1);
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message().find("outside"), std::string::npos);
}

// Property tests: the algorithms equal brute force, ties included. Tied data uses integer
// intensities and dyadic energies, so every cost is exact and the chosen slots must match.
struct Case {
  std::vector<double> values;
  std::vector<double> energy;
  size_t start, n;
};

Case random_case(std::mt19937_64& rng, bool tied, bool flat_energy, size_t max_k, size_t max_n) {
  Case c;
  size_t k = 1 + rng() % max_k;
  c.n = rng() % (max_n + 1);
  size_t len = k + c.n + rng() % 6;
  c.values =
      tied ? testing::random_tied_values(rng, len, 3) : testing::random_real_values(rng, len);
  c.start = rng() % (len - k - c.n + 1);
  std::uniform_int_distribution<int> e(1, 16);
  double flat_e = e(rng) / 8.0;
  for (size_t i = 0; i < k; ++i) {
    c.energy.push_back(flat_energy ? flat_e : (tied ? e(rng) / 8.0 : e(rng) * 0.37));
  }
  return c;
}

void expect_same(const Plan& plan, const brute::Choice& ref, bool exact, const char* what) {
  EXPECT_NEAR(plan.shifted_g, ref.emissions_g, 1e-9 * std::max(1.0, std::abs(ref.emissions_g)))
      << what;
  if (exact) {
    EXPECT_EQ(plan.slots, ref.slots) << what;
    EXPECT_EQ(plan.pauses, ref.pauses) << what;
  }
}

class PropertyTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(PropertyTest, AlgorithmsEqualBruteForce) {
  auto [tied, flat_energy] = GetParam();
  std::mt19937_64 rng(tied * 2 + flat_energy + 11);
  for (int trial = 0; trial < 400; ++trial) {
    Case c = random_case(rng, tied, flat_energy, 6, 7);
    auto in = slotted(c.values);
    JobProfile job = profile(c.energy);
    job.flat = flat_energy;
    auto fs = flexible_start(job, in, c.start, c.n);
    auto pr = pause_resume(job, in, c.start, c.n);
    ASSERT_TRUE(fs.ok() && pr.ok());
    auto base = brute::baseline(c.energy, in.ug_per_kwh, c.start);
    EXPECT_NEAR(fs->baseline_g, base.emissions_g, 1e-9 * base.emissions_g);
    expect_same(*fs, brute::flexible_start(c.energy, in.ug_per_kwh, c.start, c.n), tied,
                "flexible start");
    auto ref = brute::pause_resume_exhaustive(c.energy, in.ug_per_kwh, c.start, c.n);
    expect_same(*pr, ref, tied, "pause and resume");
    if (flat_energy) {
      expect_same(*pr, brute::pause_resume_flat_sort(c.energy, in.ug_per_kwh, c.start, c.n), true,
                  "flat sort");
      // The DP (measured path) on a flat profile finds the same optimum and the same set.
      JobProfile as_measured = job;
      as_measured.flat = false;
      auto dp = pause_resume(as_measured, in, c.start, c.n);
      ASSERT_TRUE(dp.ok());
      expect_same(*dp, ref, tied, "dp on flat");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TiedAndReal, PropertyTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& param_info) {
                           return std::string(std::get<0>(param_info.param) ? "Tied" : "Real") +
                                  (std::get<1>(param_info.param) ? "Flat" : "Measured");
                         });

}  // namespace
}  // namespace carbonclock

#include "execution/online_planner.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

const SysTime kT0 = parse_utc("2026-01-01T00:00:00Z").value();

std::vector<WindowSlot> slots(const std::vector<double>& g, double cap_s = 300) {
  std::vector<WindowSlot> w;
  for (size_t i = 0; i < g.size(); ++i)
    w.push_back({kT0 + 5min * static_cast<int>(i), cap_s, g[i]});
  return w;
}

TEST(OnlinePlannerTest, CheapestSlotsEarliestOnTies) {
  auto w = slots({300, 100, 200, 100, 200});
  EXPECT_EQ(cheapest_slots(w, 600), (std::vector<size_t>{1, 3}));
  EXPECT_EQ(cheapest_slots(w, 700), (std::vector<size_t>{1, 2, 3}));
  EXPECT_EQ(cheapest_slots(w, 1e9).size(), 5u);
}

TEST(OnlinePlannerTest, PartialSlotsCountByCapacity) {
  auto w = slots({100, 500, 500});
  w[0].capacity_s = 60;  // we are four minutes into slot 0
  // 360 s needed: slot 0 gives 60 s, then the earliest 500 (slot 1).
  EXPECT_EQ(cheapest_slots(w, 360), (std::vector<size_t>{0, 1}));
  EXPECT_DOUBLE_EQ(intensity_seconds(w, std::vector<size_t>{0, 1}, 360), 60 * 100 + 300 * 500);
}

TEST(OnlinePlannerTest, ADecisionJustAfterABoundaryStillPausesForOneWholeSlotOfWork) {
  // 1 s slots; deciding 0.7 ms after the boundary of a dirty slot with 1.06 s of work left (the
  // job started 64 ms into its first slot, as on a busy machine).
  SlottedIntensity in =
      slot_series(series_from_values("TEST", kT0, 1s, {500, 500, 100, 500, 500}), 1s).value();
  const SysTime deadline = kT0 + 4s + 476ms;
  // 1.0643 s left: the clean slot +2 holds 1 s; the 64.3 ms over it run now (the earliest of
  // the dear slots), and then the job pauses: the next decision comes after those 64.3 ms, not
  // at the next boundary.
  Decision d = decide(Algorithm::kPauseResume, in, kT0 + 700us, deadline, 1.0643, true);
  EXPECT_TRUE(d.run_now) << d.reason;
  EXPECT_EQ(d.chosen, (std::vector<size_t>{0, 2}));
  EXPECT_NEAR(to_seconds(d.next_decision_utc - kT0), 0.0007 + 0.0643, 1e-6);
  // Then exactly one slot of work is left: it waits for slot +2, even though the slot it is in
  // is a few ms short of whole.
  Decision then = decide(Algorithm::kPauseResume, in, d.next_decision_utc, deadline, 1.0, true);
  EXPECT_FALSE(then.run_now) << then.reason;
  EXPECT_EQ(then.chosen, (std::vector<size_t>{2}));
  // With 1.0 s left 0.7 ms into the slot, the tolerance keeps it to one slot as well.
  Decision late = decide(Algorithm::kPauseResume, in, kT0 + 700us, deadline, 1.0, true);
  EXPECT_FALSE(late.run_now) << late.reason;
  // Work smaller than the tolerance still gets a slot.
  Decision tiny = decide(Algorithm::kPauseResume, in, kT0 + 2s, deadline, 0.0166, true);
  EXPECT_EQ(tiny.chosen, (std::vector<size_t>{0}));
  EXPECT_TRUE(tiny.run_now);
}

TEST(OnlinePlannerTest, CheapestBlockEarliestOnTies) {
  auto w = slots({500, 100, 500, 200, 200, 200, 500});
  EXPECT_EQ(cheapest_block(w, 900), 3u);  // 600 per 300 s vs 800 from slot 1
  EXPECT_EQ(cheapest_block(w, 300), 1u);
  EXPECT_EQ(cheapest_block(slots({7, 7, 7}), 300), 0u);
}

TEST(OnlinePlannerTest, RemainingWindowCutsAtSlotsAndDeadline) {
  SlottedIntensity in = slot_series(series_from_values("TEST", kT0, 5min, {1, 2, 3}), 5min).value();
  auto w = remaining_window(in, kT0 + 2min, kT0 + 12min);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(w[0].capacity_s, 180);
  EXPECT_DOUBLE_EQ(w[1].capacity_s, 300);
  EXPECT_DOUBLE_EQ(w[2].capacity_s, 120);
  EXPECT_DOUBLE_EQ(w[2].g_per_kwh, 3);
}

TEST(OnlinePlannerTest, DecideWaitsUntilTheCleanSlotOrRunsStraightWithoutSlack) {
  SlottedIntensity in =
      slot_series(series_from_values("TEST", kT0, 5min, {500, 500, 100, 500}), 5min).value();
  Decision d = decide(Algorithm::kPauseResume, in, kT0, kT0 + 20min, 300, false);
  EXPECT_FALSE(d.run_now);
  EXPECT_EQ(d.chosen, (std::vector<size_t>{2}));
  EXPECT_EQ(d.next_decision_utc, kT0 + 5min);
  EXPECT_NEAR(100.0 * (1 - d.planned_is / d.immediate_is), 80.0, 1e-9);
  Decision tight = decide(Algorithm::kPauseResume, in, kT0, kT0 + 20min, 1200, false);
  EXPECT_TRUE(tight.run_now);
  EXPECT_TRUE(tight.straight_through);
  Decision overran = decide(Algorithm::kPauseResume, in, kT0, kT0 + 20min, 0, true);
  EXPECT_TRUE(overran.straight_through);
}

}  // namespace
}  // namespace carbonclock

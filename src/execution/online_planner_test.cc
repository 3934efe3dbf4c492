#include "execution/online_planner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

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

TEST(OnlinePlannerTest, CheapestSlotsEqualsAFullStableSortOnRandomWindows) {
  // The reference: every slot stable-sorted by intensity, taken until the work is covered.
  auto reference = [](const std::vector<WindowSlot>& w, double needed_s, double tolerance_s) {
    std::vector<size_t> order(w.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return w[a].g_per_kwh < w[b].g_per_kwh; });
    std::vector<size_t> chosen;
    double have = 0;
    for (size_t i : order) {
      if (have >= needed_s - (chosen.empty() ? 1e-9 : tolerance_s)) break;
      chosen.push_back(i);
      have += w[i].capacity_s;
    }
    std::sort(chosen.begin(), chosen.end());
    return chosen;
  };
  std::mt19937 rng(11);
  for (int trial = 0; trial < 2000; ++trial) {
    const size_t n = 1 + rng() % 60;
    // Few distinct values, so ties are common; partial first and last slots now and then.
    std::vector<double> g(n);
    for (double& v : g) v = static_cast<double>(rng() % 7) * 50;
    auto w = slots(g);
    if (trial % 3 == 0) w.front().capacity_s = static_cast<double>(1 + rng() % 299);
    if (trial % 4 == 0) w.back().capacity_s = static_cast<double>(1 + rng() % 299);
    const auto needed_s = static_cast<double>(rng() % (300 * n + 400));
    const double tolerance_s = trial % 2 ? 6.0 : 1e-9;
    ASSERT_EQ(cheapest_slots(w, needed_s, tolerance_s), reference(w, needed_s, tolerance_s))
        << "trial " << trial << ", " << n << " slots, " << needed_s << " s";
  }
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

TEST(OnlinePlannerTest, RemainingWindowFromABoundaryOfACoveredIntensityIsItsSlots) {
  // What the back-test relies on to cut Pause and Resume windows from its planning values.
  SlottedIntensity in =
      slot_series(series_from_values("TEST", kT0, 5min, {7.25, 3.5, 1e-6, 812.125}), 5min).value();
  auto w = remaining_window(in, kT0 + 5min, in.end_utc());
  ASSERT_EQ(w.size(), 3u);
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(w[i].start_utc, in.slot_start(i + 1));
    EXPECT_EQ(w[i].capacity_s, 300.0);
    EXPECT_EQ(w[i].g_per_kwh, static_cast<double>(in.ug_per_kwh[i + 1]) / kMicrogramsPerGram);
  }
}

TEST(OnlinePlannerTest, RemainingWindowTakesTheNearestValueOutsideTheDataOrOnAGap) {
  SlottedIntensity in =
      slot_series(series_from_values("TEST", kT0, 5min, {1, 2, NAN, 4}), 5min).value();
  // From 7 minutes before the data to 3 minutes after it: before it the first value, the gap
  // and after the data the last one, each slot's index counted without drifting.
  auto w = remaining_window(in, kT0 - 7min, kT0 + 23min);
  std::vector<double> g, cap;
  for (const auto& s : w) g.push_back(s.g_per_kwh), cap.push_back(s.capacity_s);
  EXPECT_EQ(g, (std::vector<double>{1, 1, 1, 2, 4, 4, 4}));
  EXPECT_EQ(cap, (std::vector<double>{120, 300, 300, 300, 300, 300, 180}));
  EXPECT_EQ(w[1].start_utc, kT0 - 5min);
  EXPECT_TRUE(remaining_window(in, kT0 + 5min, kT0 + 5min).empty());
}

TEST(OnlinePlannerTest, DecidingOnAPrefixOfALongerCutEqualsDecidingToTheShorterDeadline) {
  SlottedIntensity in =
      slot_series(series_from_values("TEST", kT0, 5min, {300, 100, 250, 90, 400, 80, 120, 500}),
                  5min)
          .value();
  const auto long_cut = remaining_window(in, kT0, kT0 + 40min);
  for (auto algorithm : {Algorithm::kFlexibleStart, Algorithm::kPauseResume}) {
    for (int end_slots = 2; end_slots <= 8; ++end_slots) {
      for (int work_slots = 1; work_slots <= end_slots; ++work_slots) {
        const SysTime deadline = kT0 + 5min * end_slots;
        const double work_s = 300.0 * work_slots;
        Decision whole = decide(algorithm, in, kT0, deadline, work_s, false);
        Decision prefix =
            decide_in_window(algorithm, std::span(long_cut).first(static_cast<size_t>(end_slots)),
                             in.slot, kT0, deadline, work_s, false);
        EXPECT_EQ(whole.chosen, prefix.chosen) << end_slots << " " << work_slots;
        EXPECT_EQ(whole.run_now, prefix.run_now);
        EXPECT_EQ(whole.next_decision_utc, prefix.next_decision_utc);
        EXPECT_DOUBLE_EQ(whole.planned_is, prefix.planned_is);
        EXPECT_DOUBLE_EQ(whole.immediate_is, prefix.immediate_is);
        EXPECT_EQ(whole.window.size(), static_cast<size_t>(end_slots));
        EXPECT_TRUE(prefix.window.empty());
      }
    }
  }
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

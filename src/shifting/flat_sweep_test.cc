#include "shifting/flat_sweep.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "grid/importers.h"
#include "shifting/brute_force.h"
#include "shifting/test_support.h"

namespace carbonclock {
namespace {

// Sums are exact integers on the fast side; the reference goes through grams and back.
void expect_sum(int64_t fast_ug, double ref_g) {
  EXPECT_NEAR(static_cast<double>(fast_ug), ref_g * 1e6, 1e-9 * std::abs(ref_g * 1e6));
}

// Checks every start against the brute-force references: sums exactly (integers), chosen FS
// start and P&R pause count exactly (ties included).
void check_against_brute_force(const SlottedIntensity& in, size_t k, size_t n,
                               const std::vector<size_t>& starts) {
  FlatSweepIndex index(in);
  FlatSweepWorkspace ws;
  auto fast = sweep_flat(index, k, n, starts, ws);
  ASSERT_EQ(fast.size(), starts.size());
  std::vector<double> energy(k, 1.0);  // 1 kWh per slot: grams = µg sum / 1e6
  for (size_t q = 0; q < starts.size(); ++q) {
    size_t s = starts[q];
    auto base = brute::baseline(energy, in.ug_per_kwh, s);
    auto fs = brute::flexible_start(energy, in.ug_per_kwh, s, n);
    auto pr = brute::pause_resume_flat_sort(energy, in.ug_per_kwh, s, n);
    SCOPED_TRACE(::testing::Message() << "K=" << k << " N=" << n << " start=" << s);
    expect_sum(fast[q].baseline_ug, base.emissions_g);
    expect_sum(fast[q].fs_ug, fs.emissions_g);
    EXPECT_EQ(fast[q].fs_offset, static_cast<int32_t>(fs.slots.front() - s));
    expect_sum(fast[q].pr_ug, pr.emissions_g);
    EXPECT_EQ(fast[q].pr_pauses, static_cast<int32_t>(pr.pauses));
  }
}

TEST(FlatSweep, HandWorkedExample) {
  // Values 5 1 4 1 3 1 (× 100): K = 2, N = 2, start 0 → window slots 0..3.
  auto in = testing::slotted({500, 100, 400, 100, 300, 100});
  FlatSweepIndex index(in);
  FlatSweepWorkspace ws;
  std::vector<size_t> starts{0, 2};
  auto r = sweep_flat(index, 2, 2, starts, ws);
  EXPECT_EQ(r[0].baseline_ug, 600'000'000);
  EXPECT_EQ(r[0].fs_ug, 500'000'000);  // slots 1,2 (earliest of 1+4, 4+1)
  EXPECT_EQ(r[0].fs_offset, 1);
  EXPECT_EQ(r[0].pr_ug, 200'000'000);  // slots 1, 3
  EXPECT_EQ(r[0].pr_pauses, 1);
  EXPECT_EQ(r[1].baseline_ug, 500'000'000);  // slots 2,3
  EXPECT_EQ(r[1].fs_ug, 400'000'000);        // 3+1 at offset 1 beats 4+1 at 0
  EXPECT_EQ(r[1].fs_offset, 1);
  EXPECT_EQ(r[1].pr_ug, 200'000'000);  // slots 3, 5
  EXPECT_EQ(r[1].pr_pauses, 1);
}

TEST(FlatSweep, EqualsBruteForceOnRandomTiedSeries) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 60; ++trial) {
    size_t len = 60 + rng() % 200;
    auto in = testing::slotted(testing::random_tied_values(rng, len, 1 + trial % 4));
    size_t k = 1 + rng() % 12, n = rng() % 25;
    if (k + n > len) continue;
    std::vector<size_t> starts;
    // Dense, sparse and repeated starts all exercise the sliding structures.
    for (size_t s = 0; s + k + n <= len; s += 1 + (trial % 3 == 0 ? 0 : rng() % 30)) {
      starts.push_back(s);
      if (rng() % 10 == 0) starts.push_back(s);
    }
    check_against_brute_force(in, k, n, starts);
  }
}

TEST(FlatSweep, EqualsBruteForceOnRandomRealSeries) {
  std::mt19937_64 rng(43);
  for (int trial = 0; trial < 30; ++trial) {
    size_t len = 300;
    auto in = testing::slotted(testing::random_real_values(rng, len));
    size_t k = 1 + rng() % 30, n = rng() % 60;
    std::vector<size_t> starts;
    for (size_t s = 0; s + k + n <= len; s += 1 + rng() % 5) starts.push_back(s);
    check_against_brute_force(in, k, n, starts);
  }
}

// Runs of equal values (hourly data on 5-minute slots has runs of twelve), ties between runs,
// windows shorter than one run, N = 0, K = 1; starts dense, strided, sparse, repeated and out of
// order (a step back rebuilds the state), always with the first and last valid start.
TEST(FlatSweep, EqualsBruteForceOnRunsWithTiesAnyStartOrder) {
  std::mt19937_64 rng(44);
  for (int trial = 0; trial < 120; ++trial) {
    std::vector<double> values;
    const int distinct = 1 + trial % 6;
    while (values.size() < 150 + rng() % 250) {
      double v = 100.0 * static_cast<double>(1 + rng() % static_cast<uint64_t>(distinct));
      size_t run = 1 + rng() % (trial % 2 ? 15 : 4);
      values.insert(values.end(), run, v);
    }
    auto in = testing::slotted(values);
    const size_t len = values.size();
    size_t k = trial % 7 == 0 ? 1 : 1 + rng() % 30, n = trial % 5 == 0 ? 0 : rng() % 40;
    if (k + n > len) continue;
    const size_t last = len - k - n;
    std::vector<size_t> starts;
    switch (trial % 4) {
      case 0:  // every slot
        for (size_t s = 0; s <= last; ++s) starts.push_back(s);
        break;
      case 1:  // strided
        for (size_t s = 0; s <= last; s += 1 + trial % 13) starts.push_back(s);
        starts.push_back(last);
        break;
      case 2:  // sparse: windows rarely overlap
        for (size_t s = 0; s <= last; s += k + n + rng() % 50) starts.push_back(s);
        starts.push_back(last);
        break;
      default:  // any order, repeats
        for (int i = 0; i < 80; ++i) starts.push_back(rng() % (last + 1));
        starts.push_back(0);
        starts.push_back(last);
        break;
    }
    check_against_brute_force(in, k, n, starts);
  }
}

// The K lowest by (value, time) is the lexicographically earliest optimal set: the exhaustive
// reference agrees on small windows with many ties.
TEST(FlatSweep, PausesEqualExhaustiveSearchOnSmallWindows) {
  std::mt19937_64 rng(45);
  for (int trial = 0; trial < 40; ++trial) {
    auto in = testing::slotted(testing::random_tied_values(rng, 80, 1 + trial % 3));
    size_t k = 1 + rng() % 5, n = rng() % 6;
    FlatSweepIndex index(in);
    FlatSweepWindow pass;
    pass.reset(index, k, n);
    std::vector<double> energy(k, 1.0);
    for (size_t s = 0; s + k + n <= 80; ++s) {
      FlatStartResult r = pass.at(s);
      auto exhaustive = brute::pause_resume_exhaustive(energy, in.ug_per_kwh, s, n);
      SCOPED_TRACE(::testing::Message() << "K=" << k << " N=" << n << " start=" << s);
      expect_sum(r.pr_ug, exhaustive.emissions_g);
      EXPECT_EQ(r.pr_pauses, static_cast<int32_t>(exhaustive.pauses));
    }
  }
}

// A real year of hourly Electricity Maps data upsampled to 5-minute slots: hours repeat twelve
// times, so ties are everywhere. Paper-like jobs and windows, starts spread over the year.
TEST(FlatSweep, EqualsBruteForceOnRealSeries) {
  std::filesystem::path file = std::filesystem::path(CARBONCLOCK_SHARED_DATA) /
                               "electricitymaps_hourly/DE-LU_2022_hourly.csv";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data not found: " << file;
  auto series = read_series_file(file, ImportOptions{});
  ASSERT_TRUE(series.ok()) << series.error().message();
  auto in = slot_series(series->front(), std::chrono::minutes(5));
  ASSERT_TRUE(in.ok());
  ASSERT_GT(in->size(), 100'000u);
  struct JobWindow {
    size_t k, n;
  };
  // DenseNet 121 (4 slots) +6h, +100%; BERT finetune (72) +24h, +25%; ViT Tiny (228) +50%.
  for (JobWindow jw : {JobWindow{4, 72}, JobWindow{4, 4}, JobWindow{72, 288}, JobWindow{72, 18},
                       JobWindow{228, 114}}) {
    std::vector<size_t> starts;
    for (size_t s = 0; s + jw.k + jw.n <= in->size(); s += 12 * 97) starts.push_back(s);
    check_against_brute_force(*in, jw.k, jw.n, starts);
  }
}

// Dense starts on real data: every slot over two days and every hour over three weeks, in four
// zones, for paper jobs and windows (the sliding path; the test above samples sparse starts).
TEST(FlatSweep, EqualsBruteForceOnRealSeriesWithDenseStarts) {
  for (const char* name : {"DE-LU_2022", "GB_2022", "US-CAL-CISO_2023", "ZA_2023"}) {
    std::filesystem::path file = std::filesystem::path(CARBONCLOCK_SHARED_DATA) /
                                 "electricitymaps_hourly" / (std::string(name) + "_hourly.csv");
    if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data not found: " << file;
    auto series = read_series_file(file, ImportOptions{});
    ASSERT_TRUE(series.ok()) << series.error().message();
    auto in = slot_series(series->front(), std::chrono::minutes(5));
    ASSERT_TRUE(in.ok());
    SCOPED_TRACE(name);
    for (auto [k, n] :
         {std::pair<size_t, size_t>{4, 1}, {4, 288}, {72, 72}, {228, 171}, {432, 108}}) {
      std::vector<size_t> starts;
      const size_t first = (in->size() / 3) / 12 * 12;
      constexpr size_t kDay = 288;  // 5-minute slots
      for (size_t s = first; s < first + 2 * kDay; ++s) starts.push_back(s);
      for (size_t s = first + 2 * kDay; s < first + 23 * kDay; s += 12) starts.push_back(s);
      starts.push_back(in->size() - k - n);
      check_against_brute_force(*in, k, n, starts);
    }
  }
}

TEST(FlatSweep, EqualsBruteForceOnFiveMinuteWattTimeSeries) {
  std::filesystem::path file =
      std::filesystem::path(CARBONCLOCK_SHARED_DATA) / "vessim/watttime_example.csv";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data not found: " << file;
  ImportOptions options;
  options.zone = "CAISO_NORTH";
  options.signal = Signal::kMarginal;
  auto series = read_series_file(file, options);
  ASSERT_TRUE(series.ok()) << series.error().message();
  auto in = slot_series(series->front(), std::chrono::minutes(5));
  ASSERT_TRUE(in.ok());
  for (auto [k, n] : {std::pair<size_t, size_t>{4, 72}, {72, 144}, {72, 72}}) {
    std::vector<size_t> starts;
    for (size_t s = 0; s + k + n <= in->size(); s += 37) {
      if (in->window_covered(s, s + k + n)) starts.push_back(s);
    }
    ASSERT_FALSE(starts.empty());
    check_against_brute_force(*in, k, n, starts);
  }
}

}  // namespace
}  // namespace carbonclock

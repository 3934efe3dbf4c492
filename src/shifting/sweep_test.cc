#include "shifting/sweep.h"

#include <gtest/gtest.h>

#include "shifting/flat_sweep.h"
#include "shifting/plan.h"
#include "shifting/sweep_summary.h"
#include "shifting/test_support.h"

namespace carbonclock {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

TEST(Sweep, PaperJobsAreTableTwo) {
  auto jobs = paper_jobs();
  ASSERT_EQ(jobs.size(), 11u);
  EXPECT_EQ(jobs[0].name, "BERT finetune");
  EXPECT_DOUBLE_EQ(jobs[2].energy_kwh, 13812.4);
  EXPECT_DOUBLE_EQ(jobs[10].duration_h, 216);
}

TEST(Sweep, JobsCsvParsesAndRejectsBadLines) {
  auto ok = parse_jobs_csv("name,duration_h,energy_kwh\n\"a, b\",1.5,2\nc,0.3,0.02\n", "j.csv");
  ASSERT_TRUE(ok.ok()) << ok.error().message();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].name, "a, b");
  EXPECT_DOUBLE_EQ((*ok)[1].duration_h, 0.3);
  auto bad = parse_jobs_csv("name,duration_h,energy_kwh\nx,abc,1\n", "j.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("j.csv:2"), std::string::npos);
  EXPECT_FALSE(parse_jobs_csv("name,hours\nx,1\n", "j.csv").ok());
}

TEST(Sweep, StartsPerMonthAreEvenlySpacedWithRotatingClockTimes) {
  auto from = parse_utc("2023-02-01T00:00Z").value();
  auto to = parse_utc("2023-04-01T00:00Z").value();
  auto starts = starts_per_month(from, to, 5);
  ASSERT_EQ(starts.size(), 10u);
  // February 2023 has 28 days: days 1, 6, 12, 17, 23 at 00, 04, 09, 14, 19 h.
  EXPECT_EQ(format_utc_minutes(starts[0]), "2023-02-01T00:00Z");
  EXPECT_EQ(format_utc_minutes(starts[1]), "2023-02-06T04:00Z");
  EXPECT_EQ(format_utc_minutes(starts[4]), "2023-02-23T19:00Z");
  // March has 31: days 1, 7, 13, 19, 25.
  EXPECT_EQ(format_utc_minutes(starts[6]), "2023-03-07T04:00Z");
  EXPECT_EQ(format_utc_minutes(starts[9]), "2023-03-25T19:00Z");
}

TEST(Sweep, StartsEveryAndFromFile) {
  auto from = parse_utc("2023-01-01T00:30Z").value();
  auto starts = starts_every(from, from + hours(3), hours(1));
  ASSERT_EQ(starts.size(), 3u);
  EXPECT_EQ(format_utc_minutes(starts[0]), "2023-01-01T01:00Z");
  auto file = parse_starts("2023-03-01T00:00Z\n# comment\n\n2023-03-02T06:00Z\n", "s.txt");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->size(), 2u);
  auto bad = parse_starts("2023-03-01T00:00Z\nnot a time\n", "s.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("s.txt:2"), std::string::npos);
}

// The sweep equals the single-plan algorithms for each start, skips starts whose window leaves
// the data or holds a gap, and counts them.
TEST(Sweep, CellsEqualSinglePlansAndSkipsAreCounted) {
  std::mt19937_64 rng(5);
  auto values = testing::random_tied_values(rng, 400, 3);
  values[300] = NAN;  // a gap
  SweepZone zone{testing::slotted(values), {}};
  for (size_t s = 0; s < 400; s += 7) zone.starts.push_back(zone.intensity.slot_start(s));
  std::reverse(zone.starts.begin(), zone.starts.end());  // any order
  std::vector<SweepJob> jobs{{"a", 0.5, 3.0}, {"b", 2.0, 12.0}};
  auto windows = parse_windows("1h,50%").value();
  std::vector<SweepCell> cells;
  SweepOptions options;
  options.threads = 2;
  ASSERT_TRUE(run_sweep(jobs, {zone}, windows, options, [&](SweepCell&& c) {
                cells.push_back(std::move(c));
              }).ok());
  ASSERT_EQ(cells.size(), 2u);
  SweepSummary summary(2, 1, 2);
  for (const SweepCell& cell : cells) {
    summary.add(cell);
    auto job = flat_profile("j", from_seconds(jobs[cell.job].duration_h * 3600),
                            jobs[cell.job].energy_kwh, minutes(5))
                   .value();
    for (size_t w = 0; w < windows.size(); ++w) {
      const auto& win = cell.windows[w];
      for (size_t q = 0; q < zone.starts.size(); ++q) {
        size_t s = *zone.intensity.index_of(zone.starts[q]);
        auto fs = flexible_start(job, zone.intensity, s, win.window_slots);
        auto pr = pause_resume(job, zone.intensity, s, win.window_slots);
        if (!fs.ok()) {
          EXPECT_NE(win.status[q], StartStatus::kOk);
          bool outside = s + job.slots() + win.window_slots > 400;
          EXPECT_EQ(win.status[q], outside ? StartStatus::kOutsideData : StartStatus::kGap);
          continue;
        }
        ASSERT_EQ(win.status[q], StartStatus::kOk);
        EXPECT_NEAR(win.baseline_g[q], fs->baseline_g, 1e-9 * fs->baseline_g);
        EXPECT_NEAR(win.fs_g[q], fs->shifted_g, 1e-9 * fs->shifted_g);
        EXPECT_EQ(win.fs_offset[q], static_cast<int32_t>(fs->slots.front() - s));
        EXPECT_NEAR(win.pr_g[q], pr->shifted_g, 1e-9 * pr->shifted_g);
        EXPECT_EQ(win.pr_pauses[q], static_cast<int32_t>(pr->pauses));
      }
    }
  }
  EXPECT_GT(summary.skipped_gap, 0u);
  EXPECT_GT(summary.skipped_outside, 0u);
  EXPECT_EQ(summary.rows_ok + summary.skipped_gap + summary.skipped_outside,
            2 * 2 * zone.starts.size());
}

}  // namespace
}  // namespace carbonclock

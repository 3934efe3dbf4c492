#include "shifting/sweep.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

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

/// Records every block (copied) in the order the sweep hands them over.
class RecordingSink : public SweepSink {
 public:
  struct Seen {
    size_t zone, job, block_in_cell;
    bool last_in_cell;
    std::vector<uint32_t> start_index;
    std::vector<int64_t> start_slot;
    std::vector<SweepResult> results;
    std::vector<SweepWindowTotals> totals;
  };
  explicit RecordingSink(bool rows = true, size_t fail_at = SIZE_MAX)
      : rows_(rows), fail_at_(fail_at) {}
  bool wants_rows() const override { return rows_; }
  void render(const SweepBlock& block, std::string& out) override {
    out = std::to_string(block.zone) + "/" + std::to_string(block.job);
  }
  Status consume(const SweepBlock& block, std::string_view rendered) override {
    if (seen.size() == fail_at_) return make_error("disk full");
    EXPECT_EQ(rendered, std::to_string(block.zone) + "/" + std::to_string(block.job));
    seen.push_back({block.zone,
                    block.job,
                    block.block_in_cell,
                    block.last_in_cell,
                    {block.start_index.begin(), block.start_index.end()},
                    {block.start_slot.begin(), block.start_slot.end()},
                    {block.results.begin(), block.results.end()},
                    {block.totals.begin(), block.totals.end()}});
    return Status::ok_status();
  }
  std::vector<Seen> seen;

 private:
  bool rows_;
  size_t fail_at_;
};

bool same(const SweepResult& a, const SweepResult& b) {
  return a.status == b.status && a.baseline_ug == b.baseline_ug && a.fs_ug == b.fs_ug &&
         a.pr_ug == b.pr_ug && a.fs_offset == b.fs_offset && a.pr_pauses == b.pr_pauses;
}

struct BlockFixture {
  std::vector<SweepZone> zones;
  std::vector<SweepJob> jobs{{"a", 0.5, 3.0}, {"b", 2.0, 12.0}, {"c", 0.25, 1.0}};
  std::vector<ShiftWindow> windows = parse_windows("1h,50%,10m").value();

  BlockFixture() {
    std::mt19937_64 rng(11);
    for (size_t z = 0; z < 3; ++z) {
      auto values = testing::random_tied_values(rng, 300 + 50 * z, 3);
      values[120 + z] = NAN;
      SweepZone zone{testing::slotted(values), {}};
      // Unsorted, repeated, before and after the data.
      zone.starts.push_back(zone.intensity.first_slot_utc - std::chrono::hours(1));
      for (size_t s = 0; s < values.size(); s += 1 + rng() % 6) {
        zone.starts.push_back(zone.intensity.slot_start(s) + std::chrono::minutes(2));
      }
      zone.starts.push_back(zone.starts[5]);
      zone.starts.push_back(zone.intensity.end_utc() + std::chrono::hours(1));
      std::shuffle(zone.starts.begin(), zone.starts.end(), rng);
      zones.push_back(std::move(zone));
    }
  }
};

// Blocks come zone by zone (or job by job), each cell's starts in ascending time, every start
// once; the results and their order do not depend on threads or block size, and equal
// sweep_cell's.
TEST(Sweep, BlocksAreOrderedAndIndependentOfThreadsAndBlockSize) {
  BlockFixture f;
  std::vector<RecordingSink::Seen> reference;
  for (SweepOrder order : {SweepOrder::kZoneMajor, SweepOrder::kJobMajor}) {
    for (auto [threads, block] : {std::pair<unsigned, size_t>{1, 100000}, {2, 7}, {3, 1}}) {
      SCOPED_TRACE(::testing::Message() << "threads " << threads << " block " << block);
      RecordingSink sink;
      SweepOptions options;
      options.threads = threads;
      options.block_starts = block;
      options.order = order;
      ASSERT_TRUE(run_sweep_blocks(f.jobs, f.zones, f.windows, options, sink).ok());
      // Cells in order, blocks of a cell consecutive and numbered, starts ascending.
      size_t next_block = 0;
      std::vector<std::pair<size_t, size_t>> cells;
      for (const auto& b : sink.seen) {
        if (next_block == 0) cells.emplace_back(b.zone, b.job);
        EXPECT_EQ(b.block_in_cell, next_block);
        EXPECT_LE(b.start_index.size(), block);
        next_block = b.last_in_cell ? 0 : next_block + 1;
      }
      ASSERT_EQ(cells.size(), 9u);
      for (size_t c = 0; c < cells.size(); ++c) {
        const size_t outer = c / 3, inner = c % 3;
        EXPECT_EQ(cells[c], order == SweepOrder::kZoneMajor ? std::pair(outer, inner)
                                                            : std::pair(inner, outer));
      }
      // Flatten per cell, in zone-major order, to compare across configurations.
      std::map<std::pair<size_t, size_t>, RecordingSink::Seen> flat;
      for (const auto& b : sink.seen) {
        auto& cell = flat[{b.zone, b.job}];
        cell.start_index.insert(cell.start_index.end(), b.start_index.begin(), b.start_index.end());
        cell.start_slot.insert(cell.start_slot.end(), b.start_slot.begin(), b.start_slot.end());
        cell.results.insert(cell.results.end(), b.results.begin(), b.results.end());
      }
      std::vector<RecordingSink::Seen> cells_flat;
      for (auto& [key, cell] : flat) {
        const SweepZone& zone = f.zones[key.first];
        ASSERT_EQ(cell.start_index.size(), zone.starts.size());
        EXPECT_TRUE(std::is_sorted(cell.start_slot.begin(), cell.start_slot.end()));
        std::vector<uint32_t> sorted = cell.start_index;
        std::sort(sorted.begin(), sorted.end());
        for (uint32_t q = 0; q < sorted.size(); ++q) EXPECT_EQ(sorted[q], q);
        cells_flat.push_back(std::move(cell));
      }
      if (reference.empty()) {
        reference = cells_flat;
        // The first configuration against sweep_cell, start by start.
        for (size_t c = 0; c < reference.size(); ++c) {
          const size_t z = c / 3, j = c % 3;
          FlatSweepIndex index(f.zones[z].intensity);
          FlatSweepWorkspace ws;
          SweepCell cell = sweep_cell(f.jobs[j], f.zones[z], index, f.windows, minutes(5), ws);
          const double grams_per_ug = cell.energy_kwh_per_slot / kMicrogramsPerGram;
          for (size_t i = 0; i < reference[c].start_index.size(); ++i) {
            const size_t q = reference[c].start_index[i];
            for (size_t w = 0; w < f.windows.size(); ++w) {
              const SweepResult& r = reference[c].results[i * f.windows.size() + w];
              ASSERT_EQ(r.status, cell.windows[w].status[q]);
              if (r.status != StartStatus::kOk) continue;
              EXPECT_EQ(static_cast<double>(r.fs_ug) * grams_per_ug, cell.windows[w].fs_g[q]);
              EXPECT_EQ(static_cast<double>(r.pr_ug) * grams_per_ug, cell.windows[w].pr_g[q]);
              EXPECT_EQ(r.fs_offset, cell.windows[w].fs_offset[q]);
              EXPECT_EQ(r.pr_pauses, cell.windows[w].pr_pauses[q]);
            }
          }
        }
        continue;
      }
      ASSERT_EQ(cells_flat.size(), reference.size());
      for (size_t c = 0; c < reference.size(); ++c) {
        EXPECT_EQ(cells_flat[c].start_index, reference[c].start_index);
        ASSERT_EQ(cells_flat[c].results.size(), reference[c].results.size());
        for (size_t i = 0; i < reference[c].results.size(); ++i) {
          EXPECT_TRUE(same(cells_flat[c].results[i], reference[c].results[i])) << i;
        }
      }
    }
  }
}

// A block's totals are its rows added up; without rows (one block per cell), a cell's totals
// are the same.
TEST(Sweep, BlockTotalsAddUpTheRows) {
  BlockFixture f;
  RecordingSink rows(true);
  RecordingSink totals_only(false);
  SweepOptions options;
  options.threads = 2;
  options.block_starts = 13;
  ASSERT_TRUE(run_sweep_blocks(f.jobs, f.zones, f.windows, options, rows).ok());
  ASSERT_TRUE(run_sweep_blocks(f.jobs, f.zones, f.windows, options, totals_only).ok());
  ASSERT_EQ(totals_only.seen.size(), 9u);  // one block per cell
  std::map<std::pair<size_t, size_t>, std::vector<SweepWindowTotals>> by_cell;
  size_t outside = 0, gap = 0;
  for (const RecordingSink::Seen& blk : rows.seen) {
    const double grams_per_ug = f.jobs[blk.job].energy_kwh /
                                static_cast<double>(job_slots(
                                    from_seconds(f.jobs[blk.job].duration_h * 3600), minutes(5))) /
                                kMicrogramsPerGram;
    auto& cell = by_cell[{blk.zone, blk.job}];
    cell.resize(f.windows.size());
    for (size_t w = 0; w < f.windows.size(); ++w) {
      SweepWindowTotals expect;
      for (size_t i = 0; i < blk.start_index.size(); ++i) {
        const SweepResult& r = blk.results[i * f.windows.size() + w];
        if (r.status == StartStatus::kOutsideData) ++expect.outside;
        if (r.status == StartStatus::kGap) ++expect.gap;
        if (r.status != StartStatus::kOk) continue;
        const double base = static_cast<double>(r.baseline_ug) * grams_per_ug;
        ++expect.ok;
        expect.fs_reduction_pct += reduction_pct(base, static_cast<double>(r.fs_ug) * grams_per_ug);
        expect.pr_reduction_pct += reduction_pct(base, static_cast<double>(r.pr_ug) * grams_per_ug);
        expect.pr_pauses += r.pr_pauses;
      }
      const SweepWindowTotals& got = blk.totals[w];
      EXPECT_EQ(got.ok, expect.ok);
      EXPECT_EQ(got.outside, expect.outside);
      EXPECT_EQ(got.gap, expect.gap);
      EXPECT_EQ(got.fs_reduction_pct, expect.fs_reduction_pct);
      EXPECT_EQ(got.pr_reduction_pct, expect.pr_reduction_pct);
      EXPECT_EQ(got.pr_pauses, expect.pr_pauses);
      cell[w].add(got);
      outside += expect.outside;
      gap += expect.gap;
    }
  }
  for (const RecordingSink::Seen& blk : totals_only.seen) {
    EXPECT_TRUE(blk.results.empty());
    const auto& cell = by_cell[{blk.zone, blk.job}];
    for (size_t w = 0; w < f.windows.size(); ++w) {
      const SweepWindowTotals& got = blk.totals[w];
      EXPECT_EQ(got.ok, cell[w].ok);
      EXPECT_EQ(got.outside, cell[w].outside);
      EXPECT_EQ(got.gap, cell[w].gap);
      EXPECT_NEAR(got.fs_reduction_pct, cell[w].fs_reduction_pct, 1e-9);
      EXPECT_NEAR(got.pr_reduction_pct, cell[w].pr_reduction_pct, 1e-9);
      EXPECT_EQ(got.pr_pauses, cell[w].pr_pauses);
    }
  }
  EXPECT_GT(outside, 0u);
  EXPECT_GT(gap, 0u);
}

TEST(Sweep, SinkErrorStopsTheSweepAndProgressCountsCells) {
  BlockFixture f;
  RecordingSink failing(true, 4);
  SweepOptions options;
  options.threads = 2;
  options.block_starts = 5;
  Status s = run_sweep_blocks(f.jobs, f.zones, f.windows, options, failing);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "disk full");
  EXPECT_EQ(failing.seen.size(), 4u);

  RecordingSink sink;
  std::vector<size_t> done;
  options.progress = [&](size_t d, size_t total) {
    EXPECT_EQ(total, 9u);
    done.push_back(d);
  };
  ASSERT_TRUE(run_sweep_blocks(f.jobs, f.zones, f.windows, options, sink).ok());
  EXPECT_EQ(done, (std::vector<size_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(Sweep, SlotMismatchAndBadJobsAreErrors) {
  BlockFixture f;
  RecordingSink sink;
  SweepOptions options;
  options.slot = std::chrono::minutes(15);
  Status s = run_sweep_blocks(f.jobs, f.zones, f.windows, options, sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("slots of 5m"), std::string::npos) << s.error().message();
  f.jobs[1].duration_h = 0;
  options.slot = minutes(5);
  EXPECT_FALSE(run_sweep_blocks(f.jobs, f.zones, f.windows, options, sink).ok());
  EXPECT_TRUE(sink.seen.empty());
}

}  // namespace
}  // namespace carbonclock

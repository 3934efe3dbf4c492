#include "reports/sweep_output.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "shifting/test_support.h"

namespace carbonclock {
namespace {

using std::chrono::hours;

TEST(Sweep, CsvRowsAndMarkdownTables) {
  // Intensities 4 4 1 1 4 4 (× 100) hourly; a 2-hour 2 kWh job; start 00:00, window 2h.
  SweepZone zone{testing::slotted({400, 400, 100, 100, 400, 400}, hours(1)), {}};
  zone.starts.push_back(zone.intensity.first_slot_utc);
  std::vector<SweepJob> jobs{{"job, quoted", 2, 2}};
  auto windows = parse_windows("2h").value();
  SweepOptions options;
  options.slot = hours(1);
  std::vector<SweepCell> cells;
  ASSERT_TRUE(run_sweep(jobs, {zone}, windows, options, [&](SweepCell&& c) {
                cells.push_back(std::move(c));
              }).ok());
  SweepLabels labels{{"job, quoted"}, {"TEST"}, {"2h"}, {zone.starts}, {"TEST average/lifecycle"},
                     hours(1)};
  std::string csv = sweep_csv_header();
  append_sweep_csv(cells[0], labels, csv);
  std::string start = format_utc_minutes(zone.intensity.first_slot_utc);
  EXPECT_EQ(csv,
            "job,zone,start_utc,window,algorithm,baseline_g,shifted_g,reduction_pct,pauses\n"
            "\"job, quoted\",TEST," +
                start +
                ",2h,flexible-start,800.000000,200.000000,75.0000,0\n"
                "\"job, quoted\",TEST," +
                start + ",2h,pause-resume,800.000000,200.000000,75.0000,0\n");
  SweepSummary summary(1, 1, 1);
  summary.add(cells[0]);
  std::string md = sweep_markdown(summary, labels, true);
  EXPECT_NE(md.find("## Window +2h"), std::string::npos);
  EXPECT_NE(md.find("| job, quoted | 75.0 | 75.0 | 0.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| job, quoted | TEST | 1 | 75.0 | 75.0 | 0.00 |"), std::string::npos) << md;
}

// A shifted emission a hair above the baseline (summation order) gives a reduction that rounds
// to zero from below: the CSV says 0.0000, never -0.0000, in the cell writer and the streamed
// rows alike.
TEST(Sweep, CsvNeverWritesNegativeZero) {
  const SysTime t0 = parse_utc("2026-03-01T00:00Z").value();
  SweepCell cell;
  SweepCell::Window win;
  win.status = {StartStatus::kOk};
  win.baseline_g = {100.0};
  win.fs_g = {100.0000000001};  // reduction -1e-10 %
  win.pr_g = {100.00003};       // reduction -3e-5 %: "-0.0000" at four decimals
  win.fs_offset = {0};
  win.pr_pauses = {0};
  cell.windows.push_back(win);
  SweepLabels labels{{"job"}, {"Z"}, {"1h"}, {{t0}}, {"Z average/lifecycle"}, hours(1)};
  std::string csv;
  append_sweep_csv(cell, labels, csv);
  EXPECT_EQ(csv,
            "job,Z,2026-03-01T00:00Z,1h,flexible-start,100.000000,100.000000,0.0000,0\n"
            "job,Z,2026-03-01T00:00Z,1h,pause-resume,100.000000,100.000030,0.0000,0\n");

  // The streamed rows: 1 µg more than a 1000 g baseline (1 kWh per slot at 10^9 µg/kWh).
  const size_t window_slots[] = {1};
  const uint32_t start_index[] = {0};
  const int64_t start_slot[] = {0};
  const SweepResult results[] = {{1'000'000'000, 1'000'000'001, 1'000'000'002, 0, 0}};
  SweepBlock block;
  block.energy_kwh_per_slot = 1;
  block.first_slot_utc = t0;
  block.slot = hours(1);
  block.window_slots = window_slots;
  block.start_index = start_index;
  block.start_slot = start_slot;
  block.results = results;
  std::string streamed;
  SweepCsvRows(labels.jobs, labels.zones, labels.windows).append(block, streamed);
  EXPECT_EQ(streamed,
            "job,Z,2026-03-01T00:00Z,1h,flexible-start,1000.000000,1000.000001,0.0000,0\n"
            "job,Z,2026-03-01T00:00Z,1h,pause-resume,1000.000000,1000.000002,0.0000,0\n");
  EXPECT_EQ((csv + streamed).find(",-0"), std::string::npos);
}

/// Runs a sweep through the streaming writer in `format`; returns what it wrote.
std::string stream(Format format, const std::vector<SweepJob>& jobs,
                   const std::vector<SweepZone>& zones, const std::vector<ShiftWindow>& windows,
                   const SweepLabels& labels, SweepOrder order) {
  std::string out;
  SweepStreamWriter writer(format, labels, {}, jobs.size(), false, [&out](std::string_view b) {
    out += b;
    return Status::ok_status();
  });
  EXPECT_TRUE(writer.begin().ok());
  SweepOptions options;
  options.order = order;
  options.block_starts = 7;  // several blocks per cell
  EXPECT_TRUE(run_sweep_blocks(jobs, zones, windows, options, writer).ok());
  EXPECT_TRUE(writer.finish().ok());
  return out;
}

TEST(SweepStream, MarkdownMeansAgreeWithTheCsvRowsOfTheSameSweep) {
  std::mt19937_64 rng(11);
  std::vector<SweepZone> zones;
  SweepLabels labels;
  labels.slot = std::chrono::minutes(5);
  for (int z = 0; z < 2; ++z) {
    SweepZone zone{testing::slotted(testing::random_tied_values(rng, 600, 5)), {}};
    for (size_t s = 0; s < 500; s += 13) zone.starts.push_back(zone.intensity.slot_start(s));
    labels.zones.push_back("Z" + std::to_string(z));
    labels.zone_series.push_back("Z" + std::to_string(z));
    labels.zone_starts.push_back(zone.starts);
    zones.push_back(std::move(zone));
  }
  std::vector<SweepJob> jobs{{"a", 1, 2}, {"b", 3, 5}};
  labels.jobs = {"a", "b"};
  auto windows = parse_windows("2h,50%").value();
  labels.windows = {"2h", "50%"};
  std::string csv = stream(Format::kCsv, jobs, zones, windows, labels, SweepOrder::kZoneMajor);
  std::string md = stream(Format::kMarkdown, jobs, zones, windows, labels, SweepOrder::kZoneMajor);
  // Means from the CSV rows: per (job, window), the mean over zones of the mean over starts.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::pair<double, int>>
      acc;  // (job, window, algorithm, zone) -> (sum, n)
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  size_t rows = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) f.push_back(cell);
    ASSERT_EQ(f.size(), 9u) << line;
    auto& a = acc[{f[0], f[3], f[4], f[1]}];
    a.first += std::stod(f[7]);
    ++a.second;
    ++rows;
  }
  ASSERT_GT(rows, 100u);
  for (const std::string& job : labels.jobs) {
    for (const std::string& window : labels.windows) {
      double means[2] = {0, 0};
      int i = 0;
      for (const char* algorithm : {"flexible-start", "pause-resume"}) {
        double sum = 0;
        int zones_used = 0;
        for (const std::string& zone : labels.zones) {
          auto it = acc.find({job, window, algorithm, zone});
          if (it == acc.end()) continue;
          sum += it->second.first / it->second.second;
          ++zones_used;
        }
        means[i++] = sum / zones_used;
      }
      // The CSV rounds each reduction to 4 decimals; the tables print 1.
      std::string row = fmt::format("| {} | {:.1f} | {:.1f} |", job, means[0], means[1]);
      EXPECT_NE(md.find(row), std::string::npos) << row << "\n" << md;
    }
  }
  // The same sweep in either order writes the same rows.
  std::string job_major = stream(Format::kCsv, jobs, zones, windows, labels, SweepOrder::kJobMajor);
  std::multiset<std::string> a, b;
  for (std::istringstream x(csv); std::getline(x, line);) a.insert(line);
  for (std::istringstream x(job_major); std::getline(x, line);) b.insert(line);
  EXPECT_EQ(a, b);
}

TEST(SweepStream, JsonIsOneValidDocumentWithEveryRow) {
  std::mt19937_64 rng(3);
  SweepZone zone{testing::slotted(testing::random_tied_values(rng, 200, 4)), {}};
  for (size_t s = 0; s < 150; s += 5) zone.starts.push_back(zone.intensity.slot_start(s));
  SweepLabels labels{{"job \"q\""}, {"Z"}, {"1h"}, {zone.starts}, {"Z"}, std::chrono::minutes(5)};
  std::vector<SweepJob> jobs{{"job \"q\"", 1, 2}};
  auto windows = parse_windows("1h").value();
  std::string csv = stream(Format::kCsv, jobs, {zone}, windows, labels, SweepOrder::kZoneMajor);
  std::string json = stream(Format::kJson, jobs, {zone}, windows, labels, SweepOrder::kZoneMajor);
  auto doc = nlohmann::json::parse(json);
  size_t csv_rows = static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n')) - 1;
  EXPECT_EQ(doc["rows"].size(), csv_rows);
  EXPECT_EQ(doc["rows"][0]["job"], "job \"q\"");
  EXPECT_TRUE(doc.contains("skipped_gap"));
}

}  // namespace
}  // namespace carbonclock

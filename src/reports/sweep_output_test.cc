#include "reports/sweep_output.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace carbonclock

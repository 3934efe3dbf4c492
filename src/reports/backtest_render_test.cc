#include "reports/backtest_render.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

const SysTime kStart = parse_utc("2024-03-01T00:00:00Z").value();

BacktestRun one_cell_run() {
  BacktestRun run;
  run.labels.jobs = {"job"};
  run.labels.zones = {"DE"};
  run.labels.windows = {"12h"};
  run.summary = BacktestSummary(1, 1, 1);
  return run;
}

BacktestRow row(double baseline_g, double realised_g, double oracle_g) {
  BacktestRow r;
  r.start_utc = kStart;
  r.baseline_g = baseline_g;
  r.realised_g = realised_g;
  r.oracle_g = oracle_g;
  return r;
}

TEST(BacktestRenderTest, CsvNeverPrintsNegativeZero) {
  BacktestRun run = one_cell_run();
  // captured = 100 × (100 − 100.0000001) / (100 − 90) = −1e-6 %: "0.0000", not "-0.0000"; a
  // realised -1e-9 g (a rounding residue) is "0.000000"; a real loss keeps its sign.
  std::string csv;
  append_backtest_csv(run, {row(100, 100.0000001, 90), row(1, -1e-9, 0.5), row(100, 105, 90)}, csv);
  EXPECT_EQ(csv,
            "job,DE,2024-03-01T00:00Z,12h,flexible-start,auto,100.000000,100.000000,90.000000,"
            "0.0000,0\n"
            "job,DE,2024-03-01T00:00Z,12h,flexible-start,auto,1.000000,0.000000,0.500000,"
            "200.0000,0\n"
            "job,DE,2024-03-01T00:00Z,12h,flexible-start,auto,100.000000,105.000000,90.000000,"
            "-50.0000,0\n");
}

TEST(BacktestRenderTest, MarkdownNeverPrintsNegativeZero) {
  BacktestRun run = one_cell_run();
  // Realised reduction −1e-7 %, oracle 10 %: the cell reads 0.0 / 10.0 (0.0).
  run.summary.add(row(100, 100.0000001, 90));
  const std::string md = backtest_markdown(run);
  EXPECT_NE(md.find("| job | 0.0 / 10.0 (0.0) | 0.0 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("-0.0"), std::string::npos) << md;
}

}  // namespace
}  // namespace carbonclock

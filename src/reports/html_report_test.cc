#include "reports/html_report.h"

#include <gtest/gtest.h>

#include <cmath>

#include "accounting/test_run.h"
#include "app/report.h"
#include "grid/test_util.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
using testing::make_run;
using testing::utc;

// The area under a step series: each y holds from its x to the next point's x.
double drawn_energy_j(const ChartSeries& s) {
  double j = 0;
  for (size_t i = 0; i + 1 < s.xy.size(); ++i) {
    j += (s.xy[i + 1].first - s.xy[i].first) * s.xy[i].second;
  }
  return j;
}

// The quick-start run as its journal records it: an estimated CPU, 0.613 of a core busy all
// along (6.13 W), whose CPU time (in 10 ms clock ticks) is refreshed only when a second has
// passed since the last refresh, so the samples 0.99 s after one see it flat and the next sees
// two seconds at once; the last sample, 5 ms after the one before, has the kernel's exact total.
// A GPU's fine energy counter reads 100 W, then 250 W from 3 s on. The chart draws the CPU near
// 6.13 W all along (not 6, 0, 12 W, nor a spike at the end) and the GPU sample by sample, and
// the area under each line is the device's energy.
TEST(HtmlPowerChartTest, CoarseCounterIsDrawnOverTheSpansItAdvancedIn) {
  auto run = make_run(utc("2026-12-01T04:08:42Z"), 8005ms, 5min, {0});
  run.timeline.devices.push_back(
      {"cpu-estimate", DeviceKind::kCpu, "job CPU time model", Method::kEstimate, "", ""});
  const double cpu_w = 6.13;
  const std::vector<double> t_s = {1.0, 2.0, 2.99, 4.0, 5.0, 5.98, 7.0, 8.0, 8.005};
  auto gpu_j = [](double t) { return t < 3 ? 100 * t : 300 + 250 * (t - 3); };
  std::vector<JournalSample> samples;
  double refreshed_s = 0, cpu_j = 0;
  for (double t : t_s) {
    if (t == t_s.back()) {
      cpu_j = cpu_w * t;  // the job's end: the kernel's exact total
    } else if (t - refreshed_s >= 1.0) {
      refreshed_s = t;
      cpu_j = std::floor(cpu_w / 10 * t * 100) / 100 * 10;  // whole ticks of CPU time
    }
    samples.push_back({t, {gpu_j(t), cpu_j}});
  }
  ASSERT_EQ(samples[2].cumulative_j[1], samples[1].cumulative_j[1]);  // flat at 2.99 s
  ASSERT_EQ(samples[5].cumulative_j[1], samples[4].cumulative_j[1]);  // and at 5.98 s
  HtmlExtras x;
  x.power = power_from_samples(samples, run.timeline.devices, kMaxPowerSamples);
  const LineChart chart = power_line_chart(run, x);
  ASSERT_EQ(chart.series.size(), 2u);
  const ChartSeries& gpu = chart.series[0];
  const ChartSeries& cpu = chart.series[1];
  ASSERT_EQ(cpu.xy.size(), t_s.size() + 1);  // a point per step, and one at the end
  for (size_t i = 0; i + 1 < cpu.xy.size(); ++i) {
    const auto [at_s, w] = cpu.xy[i];
    // Never above the CPU's power (a doubled step, a tick caught up in 5 ms); within a tick
    // per second of it on every step of a sample interval's length.
    EXPECT_LE(w, cpu_w + 0.1) << "at " << at_s << " s";
    if (cpu.xy[i + 1].first - at_s > 0.5) {
      EXPECT_NEAR(w, cpu_w, 0.1) << "at " << at_s << " s";
    }
  }
  EXPECT_DOUBLE_EQ(cpu.xy.back().first, 8.005);
  // The fine counter: each step is its own difference of readings, as before.
  double from_s = 0, from_j = 0;
  ASSERT_EQ(gpu.xy.size(), t_s.size() + 1);
  for (size_t i = 0; i < t_s.size(); ++i) {
    EXPECT_DOUBLE_EQ(gpu.xy[i].first, from_s);
    EXPECT_NEAR(gpu.xy[i].second, (gpu_j(t_s[i]) - from_j) / (t_s[i] - from_s), 1e-9);
    from_s = t_s[i];
    from_j = gpu_j(t_s[i]);
  }
  EXPECT_NEAR(drawn_energy_j(gpu), gpu_j(8.005), 1e-9);
  EXPECT_NEAR(drawn_energy_j(cpu), cpu_w * 8.005, 1e-9);
}

// A long run's chart comes from its buckets; its last bucket is drawn too, so the area under
// each line is the device's energy.
TEST(HtmlPowerChartTest, BucketChartKeepsEveryBucketsEnergy) {
  auto run = make_run(utc("2026-03-01T00:02:00Z"), 20min, 5min, {600, 1500, 1500, 1500, 240},
                      {"NVIDIA A100", "NVIDIA A100"});
  const LineChart chart = power_line_chart(run, {});
  ASSERT_EQ(chart.series.size(), 2u);
  for (const auto& s : chart.series) {
    EXPECT_NEAR(drawn_energy_j(s), 5340.0 / 2, 1e-9) << s.label;
    EXPECT_DOUBLE_EQ(s.xy.back().first, 20 * 60.0);
  }
}

}  // namespace
}  // namespace carbonclock

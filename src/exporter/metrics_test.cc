#include "exporter/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace carbonclock {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

NodeSnapshot example() {
  NodeSnapshot s;
  s.zone = "DE";
  s.pue = 1.2;
  s.devices = {{{"gpu0", DeviceKind::kGpu, "NVIDIA H100", Method::kCounter, "GPU-8c2e", ""},
                1234.5,
                250,
                true},
               {{"cpu-estimate", DeviceKind::kCpu, "CPU (estimated)", Method::kEstimate, "", ""},
                10,
                2,
                true}};
  s.intensity = {"DE", "average", "lifecycle", "stored", 380};
  s.emissions_g = {{{"average", "lifecycle"}, 0.125}};
  s.priced_energy_j = {{{"average", "lifecycle", "stored"}, 1244.5}};
  s.jobs = {{{Scheduler::kSlurm, "4242"}, {1000, 0}, {{{"average", "lifecycle"}, 0.1}}}};
  s.steps = 10;
  s.attributing_steps = 4;
  s.errors = {{"nvml", 1}};
  return s;
}

TEST(Metrics, TheContractsNamesLabelsAndValues) {
  ExporterStats self;
  self.version = "0.1.0";
  self.process.cpu_s = 0.5;
  self.process.resident_b = 6e6;
  self.scrape_duration.observe(0.0003);
  self.feed.store_errors = 2;
  const std::string text = render_metrics(example(), self);
  EXPECT_TRUE(has_line(text, "# TYPE carbonclock_device_energy_joules_total counter")) << text;
  EXPECT_TRUE(has_line(text,
                       "carbonclock_device_energy_joules_total{device=\"gpu0\",kind=\"gpu\","
                       "method=\"counter\",name=\"NVIDIA H100\",uuid=\"GPU-8c2e\"} 1234.5"))
      << text;
  EXPECT_TRUE(has_line(text,
                       "carbonclock_device_power_watts{device=\"cpu-estimate\",kind=\"cpu\","
                       "method=\"estimate\",name=\"CPU (estimated)\",uuid=\"\"} 2"));
  EXPECT_TRUE(has_line(text,
                       "carbonclock_grid_carbon_intensity_grams_per_kwh{zone=\"DE\",signal="
                       "\"average\",factor=\"lifecycle\",provenance=\"stored\"} 380"));
  EXPECT_TRUE(has_line(text,
                       "carbonclock_emissions_grams_total{zone=\"DE\",signal=\"average\","
                       "factor=\"lifecycle\"} 0.125"));
  EXPECT_TRUE(has_line(text,
                       "carbonclock_job_energy_joules_total{job=\"4242\",scheduler=\"slurm\","
                       "device=\"gpu0\",kind=\"gpu\"} 1000"));
  // A device the job never used gets no series.
  EXPECT_EQ(text.find("job=\"4242\",scheduler=\"slurm\",device=\"cpu-estimate\""),
            std::string::npos);
  EXPECT_TRUE(has_line(text,
                       "carbonclock_job_emissions_grams_total{job=\"4242\",scheduler=\"slurm\","
                       "zone=\"DE\",signal=\"average\",factor=\"lifecycle\"} 0.1"));
  EXPECT_TRUE(has_line(text, "process_cpu_seconds_total 0.5"));
  EXPECT_TRUE(has_line(text, "process_resident_memory_bytes 6000000"));
  EXPECT_TRUE(has_line(text, "# TYPE carbonclock_exporter_scrape_duration_seconds histogram"));
  EXPECT_TRUE(has_line(text, "carbonclock_exporter_scrape_duration_seconds_count 1"));
  EXPECT_TRUE(
      has_line(text, "carbonclock_exporter_scrape_duration_seconds_bucket{le=\"0.0005\"} 1"));
  EXPECT_TRUE(
      has_line(text, "carbonclock_exporter_scrape_duration_seconds_bucket{le=\"0.00025\"} 0"));
  EXPECT_TRUE(has_line(text, "carbonclock_exporter_samples_total{kind=\"scrape\"} 6"));
  EXPECT_TRUE(has_line(text, "carbonclock_exporter_samples_total{kind=\"sample\"} 4"));
  EXPECT_TRUE(has_line(text, "carbonclock_exporter_errors_total{source=\"nvml\"} 1"));
  EXPECT_TRUE(has_line(text, "carbonclock_exporter_errors_total{source=\"store\"} 2"));
  EXPECT_TRUE(has_line(text, "carbonclock_exporter_build_info{version=\"0.1.0\"} 1"));
}

TEST(Metrics, UnpricedIntensityIsNaN) {
  NodeSnapshot s = example();
  s.intensity = {"DE", "average", "", "unpriced", std::nan("")};
  const std::string text = render_metrics(s, ExporterStats{});
  EXPECT_NE(text.find("provenance=\"unpriced\"} Nan"), std::string::npos) << text;
}

TEST(Metrics, TheTableFollowsThePrometheusConventions) {
  std::set<std::string> names;
  for (const MetricSpec& m : kMetrics) {
    const std::string name = m.name;
    EXPECT_TRUE(names.insert(name).second) << name << " twice";
    EXPECT_EQ(m.type == MetricType::kCounter, name.ends_with("_total")) << name;
    EXPECT_FALSE(std::string(m.help).empty()) << name;
  }
}

}  // namespace
}  // namespace carbonclock

#include "exporter/metrics.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <limits>
#include <map>

namespace carbonclock {
namespace {

// Indices into kMetrics, in its order.
enum M : size_t {
  kDeviceEnergy,
  kDevicePower,
  kDeviceUp,
  kIntensity,
  kEmissions,
  kPricedEnergy,
  kPue,
  kJobEnergy,
  kJobEmissions,
  kProcessCpu,
  kProcessRss,
  kProcessVms,
  kProcessOpenFds,
  kProcessMaxFds,
  kProcessStart,
  kProcessThreads,
  kScrapeDuration,
  kSampleDuration,
  kSamples,
  kErrors,
  kJobsTracked,
  kJobsExpired,
  kHttpConnections,
  kHttpClosed,
  kStoreRefreshes,
  kForecastFetches,
  kBuildInfo,
  kMetricCount
};

using Labels = std::vector<prometheus::ClientMetric::Label>;

class Families {
 public:
  Families() : families_(kMetricCount) {
    for (size_t i = 0; i < kMetricCount; ++i) {
      const MetricSpec& spec = kMetrics[i];
      families_[i].name = spec.name;
      families_[i].help = spec.help;
      families_[i].type = spec.type == MetricType::kCounter ? prometheus::MetricType::Counter
                          : spec.type == MetricType::kGauge ? prometheus::MetricType::Gauge
                                                            : prometheus::MetricType::Histogram;
    }
  }

  void add(size_t metric, Labels labels, double value) {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    if (kMetrics[metric].type == MetricType::kCounter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    families_[metric].metric.push_back(std::move(m));
  }

  void add(size_t metric, const DurationHistogram& h) {
    prometheus::ClientMetric m;
    m.histogram.sample_count = h.count();
    m.histogram.sample_sum = h.sum();
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.counts().size(); ++i) {
      cumulative += h.counts()[i];
      const double bound =
          i < h.bounds().size() ? h.bounds()[i] : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back({cumulative, bound});
    }
    families_[metric].metric.push_back(std::move(m));
  }

  std::string text() {
    std::erase_if(families_, [](const auto& f) { return f.metric.empty(); });
    return prometheus::TextSerializer().Serialize(families_);
  }

 private:
  std::vector<prometheus::MetricFamily> families_;
};

}  // namespace

const std::vector<MetricSpec> kMetrics = {
    {"carbonclock_device_energy_joules_total", MetricType::kCounter,
     "device, kind, method, name, uuid",
     "Energy of the device since the exporter started: NVML counter or power integration, RAPL, "
     "or a labelled estimate (method)."},
    {"carbonclock_device_power_watts", MetricType::kGauge, "device, kind, method, name, uuid",
     "Mean power of the device over the last sampling interval."},
    {"carbonclock_device_up", MetricType::kGauge, "device, kind",
     "1 while the device answers, 0 while a GPU is lost (its energy is held)."},
    {"carbonclock_grid_carbon_intensity_grams_per_kwh", MetricType::kGauge,
     "zone, signal, factor, provenance",
     "Grid carbon intensity in force now and what it rests on (stored, forecast, embedded, "
     "unpriced)."},
    {"carbonclock_emissions_grams_total", MetricType::kCounter, "zone, signal, factor",
     "Operational emissions of the node's energy, integrated against the intensity in force at "
     "each moment, times PUE."},
    {"carbonclock_priced_energy_joules_total", MetricType::kCounter,
     "zone, signal, factor, provenance",
     "The node's energy by the intensity data that priced it (unpriced: no data)."},
    {"carbonclock_pue", MetricType::kGauge, "zone", "Power usage effectiveness applied."},
    {"carbonclock_job_energy_joules_total", MetricType::kCounter, "job, scheduler, device, kind",
     "Energy attributed to the job: GPU by its processes' utilisation, CPU and DRAM by CPU time "
     "(a model, see docs/exporter.md)."},
    {"carbonclock_job_emissions_grams_total", MetricType::kCounter,
     "job, scheduler, zone, signal, factor",
     "Operational emissions of the job's attributed energy, times PUE."},
    {"process_cpu_seconds_total", MetricType::kCounter, "",
     "User and system CPU time of the exporter."},
    {"process_resident_memory_bytes", MetricType::kGauge, "", "Resident memory of the exporter."},
    {"process_virtual_memory_bytes", MetricType::kGauge, "", "Virtual memory of the exporter."},
    {"process_open_fds", MetricType::kGauge, "", "Open file descriptors of the exporter."},
    {"process_max_fds", MetricType::kGauge, "", "The exporter's file descriptor limit."},
    {"process_start_time_seconds", MetricType::kGauge, "",
     "When the exporter started, seconds since the Unix epoch."},
    {"process_threads", MetricType::kGauge, "", "Threads of the exporter."},
    {"carbonclock_exporter_scrape_duration_seconds", MetricType::kHistogram, "",
     "Time to answer /metrics (devices read, grams integrated, text rendered)."},
    {"carbonclock_exporter_sample_duration_seconds", MetricType::kHistogram, "",
     "Time of one periodic sample (devices, processes, attribution)."},
    {"carbonclock_exporter_samples_total", MetricType::kCounter, "kind",
     "Steps taken: kind=\"scrape\" (devices and grams) or \"sample\" (also jobs)."},
    {"carbonclock_exporter_errors_total", MetricType::kCounter, "source",
     "Problems met: a sensor (nvml, rapl, estimate), the process scan (proc), the grid store "
     "(store), a forecast fetch (fetch)."},
    {"carbonclock_exporter_jobs", MetricType::kGauge, "", "Jobs with series now."},
    {"carbonclock_exporter_jobs_expired_total", MetricType::kCounter, "",
     "Jobs whose series ended after the grace period."},
    {"carbonclock_exporter_http_connections", MetricType::kGauge, "", "Open HTTP connections."},
    {"carbonclock_exporter_http_connections_closed_total", MetricType::kCounter, "reason",
     "HTTP connections closed by the exporter: evicted (limits), idle, refused (bad requests)."},
    {"carbonclock_exporter_intensity_refreshes_total", MetricType::kCounter, "",
     "Times the intensity in force was re-read from the provider."},
    {"carbonclock_exporter_forecast_fetches_total", MetricType::kCounter, "",
     "Forecasts fetched from --forecast-source."},
    {"carbonclock_exporter_build_info", MetricType::kGauge, "version", "Always 1."},
};

DurationHistogram::DurationHistogram()
    : bounds_{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1},
      counts_(bounds_.size() + 1, 0) {}

void DurationHistogram::observe(double seconds) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);
  ++counts_[static_cast<size_t>(it - bounds_.begin())];
  sum_ += seconds;
  ++count_;
}

std::string render_metrics(const NodeSnapshot& node, const ExporterStats& self) {
  Families f;
  for (const DeviceSnapshot& d : node.devices) {
    Labels labels{{"device", d.info.id},
                  {"kind", to_string(d.info.kind)},
                  {"method", to_string(d.info.method)},
                  {"name", d.info.name},
                  {"uuid", d.info.uuid}};
    f.add(kDeviceEnergy, labels, d.energy_j);
    f.add(kDevicePower, labels, d.power_w);
    f.add(kDeviceUp, {{"device", d.info.id}, {"kind", to_string(d.info.kind)}}, d.up ? 1 : 0);
  }
  const CurrentIntensity& in = node.intensity;
  f.add(kIntensity,
        {{"zone", in.zone},
         {"signal", in.signal},
         {"factor", in.factor},
         {"provenance", in.provenance}},
        in.g_per_kwh);
  for (const auto& [key, grams] : node.emissions_g) {
    f.add(kEmissions, {{"zone", node.zone}, {"signal", key.signal}, {"factor", key.factor}}, grams);
  }
  for (const auto& [key, joules] : node.priced_energy_j) {
    f.add(kPricedEnergy,
          {{"zone", node.zone},
           {"signal", key.signal},
           {"factor", key.factor},
           {"provenance", key.provenance}},
          joules);
  }
  f.add(kPue, {{"zone", node.zone}}, node.pue);
  for (const JobSnapshot& job : node.jobs) {
    const char* scheduler = to_string(job.key.scheduler);
    for (size_t i = 0; i < job.device_energy_j.size() && i < node.devices.size(); ++i) {
      if (job.device_energy_j[i] <= 0) continue;
      const DeviceInfo& d = node.devices[i].info;
      f.add(kJobEnergy,
            {{"job", job.key.id},
             {"scheduler", scheduler},
             {"device", d.id},
             {"kind", to_string(d.kind)}},
            job.device_energy_j[i]);
    }
    for (const auto& [key, grams] : job.grams) {
      f.add(kJobEmissions,
            {{"job", job.key.id},
             {"scheduler", scheduler},
             {"zone", node.zone},
             {"signal", key.signal},
             {"factor", key.factor}},
            grams);
    }
  }
  const ProcessStats& p = self.process;
  f.add(kProcessCpu, {}, p.cpu_s);
  f.add(kProcessRss, {}, p.resident_b);
  f.add(kProcessVms, {}, p.virtual_b);
  f.add(kProcessOpenFds, {}, p.open_fds);
  f.add(kProcessMaxFds, {}, p.max_fds);
  f.add(kProcessStart, {}, p.start_time_s);
  f.add(kProcessThreads, {}, p.threads);
  f.add(kScrapeDuration, self.scrape_duration);
  f.add(kSampleDuration, self.sample_duration);
  f.add(kSamples, {{"kind", "scrape"}}, static_cast<double>(node.steps - node.attributing_steps));
  f.add(kSamples, {{"kind", "sample"}}, static_cast<double>(node.attributing_steps));
  std::map<std::string, uint64_t> errors = node.errors;
  errors["store"] += self.feed.store_errors;
  errors["fetch"] += self.feed.fetch_errors;
  for (const auto& [source, n] : errors) {
    f.add(kErrors, {{"source", source}}, static_cast<double>(n));
  }
  f.add(kJobsTracked, {}, static_cast<double>(node.jobs.size()));
  f.add(kJobsExpired, {}, static_cast<double>(node.jobs_expired));
  f.add(kHttpConnections, {}, static_cast<double>(self.http.open));
  f.add(kHttpClosed, {{"reason", "evicted"}}, static_cast<double>(self.http.evicted));
  f.add(kHttpClosed, {{"reason", "idle"}}, static_cast<double>(self.http.timed_out));
  f.add(kHttpClosed, {{"reason", "refused"}}, static_cast<double>(self.http.refused));
  f.add(kStoreRefreshes, {}, static_cast<double>(self.feed.refreshes));
  f.add(kForecastFetches, {}, static_cast<double>(self.feed.fetches));
  f.add(kBuildInfo, {{"version", self.version}}, 1);
  return f.text();
}

}  // namespace carbonclock

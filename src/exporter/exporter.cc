#include "exporter/exporter.h"

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "exporter/http_server.h"
#include "exporter/intensity_feed.h"
#include "exporter/job_tracker.h"
#include "exporter/metrics.h"
#include "exporter/node_estimate.h"
#include "exporter/node_meter.h"
#include "exporter/self_stats.h"
#include "intensity/intensity_provider.h"
#include "sensors/nvml_sensor.h"
#include "sensors/rapl_sensor.h"

namespace carbonclock {
namespace {

struct Checked {
  Nanos interval{};
  Nanos job_grace{};
  Nanos job_rescan{};
  AccountingInputs inputs;
  std::optional<Factor> factor;
  GpuSelection gpus;
};

Result<Checked> check(const ExporterRequest& r) {
  Checked c;
  auto interval = parse_duration(r.interval);
  if (!interval) return interval.error().with_context("--interval");
  if (*interval < std::chrono::milliseconds(100) || *interval > std::chrono::hours(1)) {
    return make_error("--interval {}: must be between 100ms and 1h", r.interval);
  }
  c.interval = *interval;
  auto grace = parse_duration(r.job_grace);
  if (!grace) return grace.error().with_context("--job-grace");
  c.job_grace = *grace;
  auto rescan = parse_duration(r.job_rescan);
  if (!rescan) return rescan.error().with_context("--job-rescan");
  if (*rescan < Nanos::zero() || *rescan > std::chrono::hours(1)) {
    return make_error("--job-rescan {}: must be between 0 and 1h", r.job_rescan);
  }
  c.job_rescan = *rescan;
  if (r.max_jobs < 1) return make_error("--max-jobs must be at least 1");
  if (r.max_connections < 2) return make_error("--max-connections must be at least 2");
  if (!(r.cpu_w_per_core >= 0) || !(r.dram_w_per_gb >= 0)) {
    return make_error("--cpu-watts-per-core and --dram-watts-per-gb must be >= 0");
  }
  auto inputs = resolve_inputs(r.choices, nullptr);
  if (!inputs) return inputs.error();
  c.inputs = std::move(*inputs);
  if (!r.factor.empty()) {
    auto f = parse_factor(r.factor);
    if (!f) return f.error().with_context("--factor");
    c.factor = *f;
  }
  auto gpus = parse_gpu_selection(r.gpus);
  if (!gpus) return gpus.error();
  if (gpus->mode == GpuSelection::Mode::kUsed) {
    return make_error("--gpus used: the exporter meters GPUs, not one job; use all or a list");
  }
  c.gpus = *gpus;
  return c;
}

// The same sensors as `run`, for the whole node: NVML (retrying a lost GPU), RAPL, and the
// node estimate for what RAPL lacks.
std::vector<std::unique_ptr<Sensor>> open_node_sensors(const ExporterRequest& r, const Checked& c,
                                                       std::vector<std::string>& notes) {
  std::vector<std::unique_ptr<Sensor>> sensors;
  if (!r.no_gpu) {
    NvmlOptions nvml;
    nvml.gpus = c.gpus;
    nvml.retry_lost_after = std::max<Nanos>(c.interval, std::chrono::seconds(1));
    if (auto gpu = open_nvml_sensor(nvml)) {
      sensors.push_back(std::move(*gpu));
    } else {
      notes.push_back(fmt::format("no GPUs metered: {}", gpu.error().message()));
    }
  }
  RaplProbe rapl = probe_rapl(r.sysfs_root);
  EstimateModel model;
  model.cpu_w_per_core = r.cpu_w_per_core;
  model.dram_w_per_gb = r.dram_w_per_gb;
  model.proc_root = r.proc_root;
  model.estimate_cpu = !rapl.has_package;
  model.estimate_dram = !rapl.has_dram;
  if (rapl.sensor) sensors.push_back(std::move(rapl.sensor));
  if (model.estimate_cpu || model.estimate_dram) {
    const char* what = model.estimate_cpu && model.estimate_dram ? "CPU and DRAM"
                       : model.estimate_cpu                      ? "CPU"
                                                                 : "DRAM";
    notes.push_back(
        fmt::format("{} energy is estimated from the node's {} ({})", what,
                    model.estimate_cpu ? "busy CPU time and memory in use" : "memory in use",
                    rapl.message.empty() ? "no RAPL domain for it" : rapl.message));
    sensors.push_back(make_node_estimate_sensor(model));
  }
  return sensors;
}

}  // namespace

struct Exporter::Impl {
  Impl(AppContext context, const Checked& c, const ExporterRequest& r)
      : ctx(context), interval(c.interval), version(r.version), self(r.proc_root) {}

  AppContext ctx;
  Nanos interval;
  std::string version;
  std::vector<std::string> notes;
  std::string zone_text;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<IntensityFeed> feed;
  std::unique_ptr<NodeMeter> meter;

  std::mutex stats_mu;  // guards the histograms and self
  DurationHistogram scrape_duration;
  DurationHistogram sample_duration;
  SelfStats self;

  std::mutex mu;  // guards stopping
  std::condition_variable wake;
  bool stopping = false;
  std::atomic<int64_t> last_sample_ns{0};  // monotonic, of the last sampler step
  std::thread sampler;

  void sample_loop() {
    std::unique_lock lock(mu);
    auto next = std::chrono::steady_clock::now() + interval;
    while (!wake.wait_until(lock, next, [this] { return stopping; })) {
      lock.unlock();
      const auto t0 = std::chrono::steady_clock::now();
      feed->refresh_if_due(ctx.clock.system_now());
      const auto t1 = std::chrono::steady_clock::now();
      meter->step(true);
      const auto t2 = std::chrono::steady_clock::now();
      last_sample_ns = t2.time_since_epoch().count();
      {
        std::lock_guard stats(stats_mu);
        sample_duration.observe(std::chrono::duration<double>(t2 - t1).count());
      }
      // Keep the cadence; after a long stall (a store locked for seconds) start afresh.
      next += interval;
      if (next < t0) next = t2 + interval;
      lock.lock();
    }
  }

  std::string scrape() {
    const auto t0 = std::chrono::steady_clock::now();
    meter->step(false);
    const NodeSnapshot node = meter->snapshot();
    ExporterStats stats;
    stats.version = version;
    stats.http = server ? server->stats() : HttpStats{};
    stats.feed = feed->stats();
    std::string text;
    {
      std::lock_guard lock(stats_mu);
      stats.process = self.read();
      stats.scrape_duration = scrape_duration;
      stats.sample_duration = sample_duration;
    }
    text = render_metrics(node, stats);
    std::lock_guard lock(stats_mu);
    scrape_duration.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return text;
  }

  HttpServerResponse handle(const HttpServerRequest& request) {
    if (request.path == "/metrics") {
      return {200, "text/plain; version=0.0.4; charset=utf-8", scrape()};
    }
    if (request.path == "/healthz") {
      // Healthy while the sampler keeps its cadence: three intervals of slack, and at least
      // 30 s (a refresh may wait seconds for a store an import has locked).
      const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
      const int64_t last = last_sample_ns;
      const int64_t slack = std::max<int64_t>(
          3 * interval.count(), std::chrono::nanoseconds(std::chrono::seconds(30)).count());
      if (last != 0 && now - last > slack) {
        return {503, "text/plain; charset=utf-8",
                fmt::format("sampler stalled: last sample {:.1f} s ago\n",
                            static_cast<double>(now - last) * 1e-9)};
      }
      return {200, "text/plain; charset=utf-8", "ok\n"};
    }
    if (request.path == "/") {
      return {200, "text/html; charset=utf-8",
              "<html><head><title>carbonclock exporter</title></head><body>"
              "<h1>carbonclock exporter</h1><p><a href=\"/metrics\">/metrics</a> "
              "<a href=\"/healthz\">/healthz</a></p></body></html>\n"};
    }
    return {404, "text/plain; charset=utf-8", "not found: try /metrics or /healthz\n"};
  }
};

Exporter::Exporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Exporter::~Exporter() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->sampler.joinable()) impl_->sampler.join();
}

Result<std::unique_ptr<Exporter>> Exporter::start(const ExporterRequest& r, AppContext& ctx) {
  auto checked = check(r);
  if (!checked) return checked.error();
  {
    auto opened = open_store(r.db, StoreMode::kIfExists, ctx.env);
    IntensityProvider provider(opened ? opened->get() : nullptr);
    if (Status s = provider.check_zone(checked->inputs.selection); !s) return s.error();
  }
  auto impl = std::make_unique<Impl>(ctx, *checked, r);
  Impl* self = impl.get();
  // Bound first: an address in use fails at once, before any device is opened.
  HttpServerOptions http;
  http.listen = r.listen;
  http.max_connections = r.max_connections;
  auto server =
      HttpServer::listen(http, [self](const HttpServerRequest& q) { return self->handle(q); });
  if (!server) return server.error();
  impl->server = std::move(*server);
  impl->zone_text = fmt::format("{} ({})", checked->inputs.zone, checked->inputs.zone_origin);

  IntensityFeedOptions feed;
  feed.zone = checked->inputs.selection;
  if (checked->inputs.signal) feed.signal = *checked->inputs.signal;
  feed.factor = checked->factor;
  feed.db = r.db;
  feed.forecast_source = r.forecast_source;
  impl->feed = std::make_unique<IntensityFeed>(feed, impl->ctx);
  impl->feed->refresh(ctx.clock.system_now());

  auto sensors = open_node_sensors(r, *checked, impl->notes);
  JobTrackerOptions jobs;
  jobs.proc_root = r.proc_root;
  jobs.cgroup_root = r.cgroup_root;
  jobs.rescan = checked->job_rescan;
  NodeMeterOptions meter;
  meter.pue = checked->inputs.pue;
  meter.job_grace = checked->job_grace;
  meter.max_jobs = r.max_jobs;
  impl->meter = std::make_unique<NodeMeter>(std::move(sensors), std::make_unique<JobTracker>(jobs),
                                            *impl->feed, ctx.clock, ctx.observer, meter);
  impl->meter->step(true);  // baselines
  impl->last_sample_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  impl->sampler = std::thread([self] { self->sample_loop(); });
  return std::unique_ptr<Exporter>(new Exporter(std::move(impl)));
}

const std::string& Exporter::address() const { return impl_->server->address(); }
int Exporter::port() const { return impl_->server->port(); }
const std::vector<std::string>& Exporter::notes() const { return impl_->notes; }
std::vector<DeviceInfo> Exporter::devices() const { return impl_->meter->devices(); }
const std::string& Exporter::zone_text() const { return impl_->zone_text; }
std::string Exporter::scrape() { return impl_->scrape(); }
int Exporter::serve(const sigset_t* stop_signals) { return impl_->server->serve(stop_signals); }
void Exporter::stop() { impl_->server->stop(); }

}  // namespace carbonclock

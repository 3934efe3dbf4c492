// carbonclock exporter: serve the node's and its jobs' energy and emissions to Prometheus until
// SIGTERM or SIGINT (src/exporter, docs/exporter.md).
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <memory>

#include "cli/commands.h"
#include "exporter/exporter.h"

#ifndef CARBONCLOCK_VERSION
#define CARBONCLOCK_VERSION "0.0.0"
#endif

namespace carbonclock::cli {
namespace {

struct ExporterOptions {
  ExporterRequest request;
  std::string signal;
};

// Whether HOST:PORT names a loopback host (the default); anything else was asked for.
bool loopback(const std::string& listen) {
  return listen.starts_with("127.") || listen.starts_with("[::1]:") ||
         listen.starts_with("localhost:");
}

void run_exporter(ExporterOptions o, CommandContext& ctx) {
  ExporterRequest& r = o.request;
  load_zone_defaults_into(ctx, r.choices);
  if (!o.signal.empty()) r.choices.signal = o.signal;
  if (auto v = ctx.env.env("CARBONCLOCK_SYSFS_ROOT")) r.sysfs_root = *v;
  if (auto v = ctx.env.env("CARBONCLOCK_PROC_ROOT")) r.proc_root = *v;
  if (auto v = ctx.env.env("CARBONCLOCK_CGROUP_ROOT")) r.cgroup_root = *v;
  std::unique_ptr<HttpTransport> http;
  if (!r.forecast_source.empty()) http = ctx.env.make_http(std::chrono::seconds(60));
  AppContext app = ctx.app(http.get());

  // Blocked before any thread starts, so every thread inherits the mask and only the HTTP
  // loop's signalfd sees SIGTERM and SIGINT.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);
  int stopped_by = 0;
  {
    auto exporter = Exporter::start(r, app);
    if (!exporter) {
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      return ctx.fail(exporter.error(), CommandKind::kDaemon);
    }
    for (const std::string& note : (*exporter)->notes()) ctx.observer.note(note);
    if (!loopback(r.listen)) {
      ctx.observer.note(
          fmt::format("listening on {}: whoever reaches it can read this node's job ids and energy",
                      (*exporter)->address()));
    }
    ctx.observer.note(
        fmt::format("exporter serving http://{}/metrics: {} devices, zone {}, sampling every {}",
                    (*exporter)->address(), (*exporter)->devices().size(), (*exporter)->zone_text(),
                    r.interval));
    stopped_by = (*exporter)->serve(&stop_signals);
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ctx.observer.note(stopped_by > 0
                        ? fmt::format("exporter stopped by {}", ::sigabbrev_np(stopped_by))
                        : "exporter stopped");
}

}  // namespace

void register_exporter_command(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<ExporterOptions>();
  ExporterRequest& r = o->request;
  r.version = CARBONCLOCK_VERSION;
  auto* cmd = app.add_subcommand(
      "exporter",
      "Serve this node's device, job and grid-carbon metrics to Prometheus (GET /metrics, "
      "/healthz) until SIGTERM or SIGINT");
  cmd->add_option("--listen", r.listen,
                  "HOST:PORT to serve on; loopback unless another address is given "
                  "(0.0.0.0:9464 or :9464 for every interface)")
      ->capture_default_str();
  cmd->add_option("--interval", r.interval,
                  "Sampling period for job attribution and integration, 100ms to 1h (scrapes "
                  "read the counters themselves)")
      ->capture_default_str();
  cmd->add_option("--zone", r.choices.zone,
                  "Grid zone (DE, US-CAL-CISO, an Electricity Maps alias, an imported zone)");
  cmd->add_option("--region", r.choices.region, "Cloud region (e.g. us-west-2, europe-west4)");
  cmd->add_option("--pue", r.choices.pue,
                  "Power usage effectiveness, 1 to 3, applied to emissions (default 1.0)");
  add_signal_options(cmd, o->signal, r.factor, "default: marginal when stored, else average");
  cmd->add_option("--gpus", r.gpus, "GPUs to meter: all, or a list of indices/UUIDs like 0,2")
      ->capture_default_str();
  cmd->add_flag("--no-gpu", r.no_gpu, "Do not load NVML");
  cmd->add_option("--cpu-watts-per-core", r.cpu_w_per_core,
                  "Estimate model: watts per busy core where RAPL is missing")
      ->capture_default_str();
  cmd->add_option("--dram-watts-per-gb", r.dram_w_per_gb,
                  "Estimate model: watts per GB in use where RAPL has no DRAM domain")
      ->capture_default_str();
  add_db_option(cmd, r.db);
  cmd->add_option("--forecast-source", r.forecast_source,
                  "Fetch this provider's forecast every hour: watttime, electricitymaps or ukci "
                  "(credentials as for `grid fetch`)");
  cmd->add_option("--job-grace", r.job_grace,
                  "How long an ended job's series stay before they drop out")
      ->capture_default_str();
  cmd->add_option("--job-rescan", r.job_rescan,
                  "How often to list /proc for new processes and jobs, 0 to 1h (0: every "
                  "sample); in between only the known jobs' CPU time is read, so a process "
                  "started meanwhile counts from the next listing")
      ->capture_default_str();
  cmd->add_option("--max-jobs", r.max_jobs,
                  "Jobs with their own series at once; more are counted under job=\"overflow\"")
      ->capture_default_str();
  cmd->add_option("--max-connections", r.max_connections,
                  "Open HTTP connections at once; past it the least recently active is closed")
      ->capture_default_str();
  cmd->footer(
      "Example: carbonclock exporter --zone DE --pue 1.2   (then scrape "
      "http://127.0.0.1:9464/metrics; docs/exporter.md)\n"
      "Environment: CARBONCLOCK_NVML_LIBRARY, CARBONCLOCK_SYSFS_ROOT, CARBONCLOCK_PROC_ROOT, "
      "CARBONCLOCK_CGROUP_ROOT (test roots), CARBONCLOCK_REGION/CARBONCLOCK_ZONE, "
      "CARBONCLOCK_DB.\nExit status: 0 when stopped by SIGTERM or SIGINT, 125 when it cannot "
      "start (bad option, unknown zone, address in use).");
  cmd->callback([o, &ctx] { run_exporter(*o, ctx); });
}

}  // namespace carbonclock::cli

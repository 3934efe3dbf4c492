#include "app/run_common.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <random>

#include "accounting/history.h"
#include "app/store_access.h"
#include "intensity/intensity_provider.h"

namespace carbonclock {

ZoneDefaults zone_defaults_or_environment(const EnvLookup& env, Observer& observer) {
  auto defaults = load_zone_defaults(env);
  if (defaults) return *defaults;
  observer.warning("config file ignored: " + defaults.error().message());
  auto value = [&](const char* n) -> std::optional<std::string> {
    auto v = env(n);
    return v && !v->empty() ? v : std::nullopt;
  };
  ZoneDefaults from_env;
  from_env.env_zone = value("CARBONCLOCK_ZONE");
  from_env.env_region = value("CARBONCLOCK_REGION");
  return from_env;
}

Result<MeteringPlan> check_metering(const std::string& interval_text,
                                    const std::string& bucket_text, const std::string& gpus_text,
                                    double cpu_w_per_core, double dram_w_per_gb,
                                    const AccountingChoices& choices) {
  MeteringPlan c;
  auto interval = parse_duration(interval_text);
  if (!interval) return interval.error().with_context("--interval");
  if (*interval < std::chrono::milliseconds(50)) {
    return make_error("--interval {} is below the 50ms minimum", interval_text);
  }
  c.interval = *interval;
  auto bucket = parse_duration(bucket_text);
  if (!bucket) return bucket.error().with_context("--bucket");
  if (*bucket < std::chrono::seconds(1) || std::chrono::hours(24) % *bucket != Nanos(0)) {
    return make_error(
        "--bucket {} must be at least 1s and divide a day evenly (e.g. 1m, 5m, 15m, 1h)",
        bucket_text);
  }
  c.bucket = *bucket;
  auto gpus = parse_gpu_selection(gpus_text);
  if (!gpus) return gpus.error();
  c.gpus = *gpus;
  if (!(cpu_w_per_core >= 0 && std::isfinite(cpu_w_per_core)) ||
      !(dram_w_per_gb >= 0 && std::isfinite(dram_w_per_gb))) {
    return make_error(
        "--cpu-watts-per-core and --dram-watts-per-gb must be finite numbers, not negative");
  }
  auto inputs = resolve_inputs(choices, nullptr);
  if (!inputs) return inputs.error();
  c.inputs = std::move(*inputs);
  return c;
}

Status check_zone_known(const AccountingInputs& inputs, const std::string& db, AppContext& ctx) {
  auto opened = open_store(db, StoreMode::kIfExists, ctx.env);
  IntensityProvider provider(opened ? opened->get() : nullptr);
  return provider.check_zone(inputs.selection);
}

SensorSet open_run_sensors(const RunSensors& o, const EnvLookup& env) {
  SensorSetup setup;
  setup.use_gpus = !o.no_gpu;
  setup.nvml.gpus = o.gpus;
  if (o.honour_cuda_visible) {
    if (auto cvd = env("CUDA_VISIBLE_DEVICES")) setup.nvml.cuda_visible_devices = *cvd;
  }
  if (auto root = env("CARBONCLOCK_SYSFS_ROOT")) setup.sysfs_root = *root;
  setup.estimate.cpu_w_per_core = o.cpu_w_per_core;
  setup.estimate.dram_w_per_gb = o.dram_w_per_gb;
  setup.estimate.job_already_running = o.job_already_running;
  return open_sensors(setup);
}

std::string new_run_id(SysTime start) {
  std::string t = format_utc(start);  // 2026-11-27T23:59:01Z -> 20261127T235901Z
  std::string compact;
  for (char c : t) {
    if (c != '-' && c != ':') compact.push_back(c);
  }
  std::random_device rd;
  return fmt::format("{}-{:06x}", compact, rd() & 0xffffff);
}

std::map<std::string, std::string> scheduler_env(const EnvLookup& env) {
  std::map<std::string, std::string> out;
  for (const char* name :
       {"SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID",
        "SLURM_CLUSTER_NAME", "PBS_JOBID", "LSB_JOBID", "JOB_ID", "KUBERNETES_POD_NAME"}) {
    if (auto v = env(name)) out[name] = *v;
  }
  return out;
}

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

RunOverhead self_overhead(int64_t samples, double interval_s) {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  return {cpu, static_cast<double>(ru.ru_maxrss) / 1024.0, samples, interval_s};
}

RunRecord start_run_record(const Meter& meter, const RunStart& start, const EnvLookup& env) {
  RunRecord run;
  run.id = new_run_id(meter.start_utc());
  run.carbonclock_version = start.version;
  run.command = start.command;
  run.start_utc = meter.start_utc();
  run.host = host_name();
  run.scheduler = scheduler_env(env);
  run.tags = start.tags;
  run.timeline.bucket = start.plan->bucket;
  run.timeline.devices = meter.devices();
  run.overhead.interval_s = to_seconds(start.plan->interval);
  run.warnings = start.notes;
  const AccountingChoices& choices = *start.choices;
  const AccountingInputs& inputs = start.plan->inputs;
  if (choices.region) run.region = inputs.region.value_or(*choices.region);
  if (choices.zone || choices.region) run.zone = inputs.zone;
  run.pue = choices.pue;
  run.per = choices.per;
  run.work = choices.work;
  return run;
}

Result<std::filesystem::path> create_run_dir(const std::string& out, const std::string& runs_dir,
                                             const std::string& run_id) {
  std::filesystem::path dir =
      out.empty() ? std::filesystem::path(runs_dir) / run_id : std::filesystem::path(out);
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    return make_error("{}: run directory exists and is not empty", dir.string());
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "{}: cannot create run directory: {}", dir.string(),
                      ec.message());
  }
  return dir;
}

void finish_run_record(RunRecord& run, const Meter& meter, JournalWriter& journal,
                       std::optional<int> exit_code, RunOverhead overhead) {
  run.timeline = meter.timeline();
  run.end_utc = run.start_utc + meter.elapsed();
  run.exit_code = exit_code;
  for (const auto& w : meter.warnings()) run.warnings.push_back(w);
  overhead.samples = meter.samples();
  run.overhead = overhead;
  journal.end(meter.elapsed(), exit_code, run.overhead);
  (void)journal.flush();  // a failure is in problem(): what the journal lost, if anything
  if (std::string p = journal.problem(); !p.empty()) run.warnings.push_back(p);
}

void account_and_record(const RunRecord& run, const std::filesystem::path& run_dir,
                        const AccountingInputs& inputs, const std::string& db, AppContext& ctx,
                        std::optional<CarbonAccount>& account, bool record_history) {
  auto opened = open_store(db, record_history ? StoreMode::kCreate : StoreMode::kIfExists, ctx.env);
  if (!opened) {
    ctx.observer.warning(opened.error().message() +
                         (record_history ? " (emissions use the embedded profiles; the run is not "
                                           "recorded in the history)"
                                         : " (emissions use the embedded profiles)"));
  }
  GridStore* store = opened ? opened->get() : nullptr;
  IntensityProvider provider(store);
  auto priced = account_run(run, inputs, provider);
  if (!priced) {
    ctx.observer.warning("no emissions for this run: " + priced.error().message());
  } else {
    account = std::move(*priced);
  }
  if (!store || !record_history) return;
  // Every run with a run directory is recorded; one that could not be priced says so.
  HistoryEntry entry = account ? history_entry(run, *account, run_dir.string())
                               : unpriced_history_entry(run, inputs.zone, run_dir.string());
  if (auto s = store->record_run(entry); !s) {
    ctx.observer.warning("run not recorded in the history: " + s.error().message());
  }
}

}  // namespace carbonclock

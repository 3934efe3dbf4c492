// carbonclock run -- CMD: meter a job's energy while it runs.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "accounting/accounting.h"
#include "accounting/history.h"
#include "cli/commands.h"
#include "cli/run_scheduling.h"  // carbon-aware execution (issue 6)
#include "common/clock.h"
#include "execution/supervisor.h"
#include "metering/journal.h"
#include "metering/meter.h"
#include "metering/sensor_setup.h"
#include "reports/carbon_report.h"
#include "reports/summary.h"

#ifndef CARBONCLOCK_VERSION
#define CARBONCLOCK_VERSION "0.0.0"
#endif

namespace carbonclock::cli {

namespace {

struct RunOptions {
  std::string interval = "1s";
  std::string bucket = "5m";
  std::string out;
  std::string runs_dir = "carbonclock-runs";
  std::string gpus = "all";
  bool no_gpu = false;
  bool quiet = false;
  std::vector<std::string> tags;
  double cpu_w_per_core = EstimateModel{}.cpu_w_per_core;
  double dram_w_per_gb = EstimateModel{}.dram_w_per_gb;
  std::vector<std::string> command;
  AccountingChoices choices;
  std::string db;
  ScheduleArgs schedule;  // carbon-aware execution: --flex-start/--pause-resume/--deadline
};

std::string new_run_id(SysTime start) {
  std::string t = format_utc(start);  // 2026-11-27T23:59:01Z -> 20261127T235901Z
  std::string compact;
  for (char c : t) {
    if (c != '-' && c != ':') compact.push_back(c);
  }
  std::random_device rd;
  return fmt::format("{}-{:06x}", compact, rd() & 0xffffff);
}

std::map<std::string, std::string> scheduler_env() {
  std::map<std::string, std::string> out;
  for (const char* name : {"SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_ARRAY_JOB_ID",
                           "SLURM_ARRAY_TASK_ID", "SLURM_CLUSTER_NAME", "PBS_JOBID", "LSB_JOBID",
                           "JOB_ID", "KUBERNETES_POD_NAME", "HOSTNAME"}) {
    if (const char* v = std::getenv(name); v != nullptr && std::string(name) != "HOSTNAME") {
      out[name] = v;
    }
  }
  return out;
}

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// The emissions of a finished run, printed after its energy, and its history record. Nothing
// here changes the run's exit status: a failure is a warning, the run directory stays.
void account_and_record(const RunRecord& run, const AccountingInputs& inputs,
                        const std::filesystem::path& dir, const RunOptions& o) {
  auto opened = open_grid_store(o.db, /*create=*/true);
  if (!opened) {
    fmt::print(stderr,
               "carbonclock: warning: {} (emissions use the embedded profiles; the run "
               "is not recorded in the history)\n",
               opened.error().message());
  }
  GridStore* store = opened && opened->store ? &*opened->store : nullptr;
  auto account = account_run(run, inputs, store);
  if (!account) {
    fmt::print(stderr, "carbonclock: warning: no emissions for this run: {}\n",
               account.error().message());
    return;
  }
  if (opened && !opened->note.empty()) account->notes.push_back(opened->note);
  if (!o.quiet) fmt::print(stderr, "{}", emissions_summary_text(*account));
  if (!store) return;
  if (auto s = record_run(*store, history_entry(run, *account, dir.string())); !s) {
    fmt::print(stderr, "carbonclock: warning: run not recorded in the history: {}\n",
               s.error().message());
  }
}

RunOverhead self_overhead(int64_t samples, double interval_s) {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  return {cpu, static_cast<double>(ru.ru_maxrss) / 1024.0, samples, interval_s};
}

int run_job(const RunOptions& o) {
  auto interval = parse_duration(o.interval);
  if (!interval) return print_error(interval.error().message()), 2;
  if (*interval < std::chrono::milliseconds(50)) {
    return print_error(fmt::format("--interval {} is below the 50ms minimum", o.interval)), 2;
  }
  auto bucket = parse_duration(o.bucket);
  if (!bucket) return print_error(bucket.error().message()), 2;
  if (*bucket < std::chrono::seconds(1) || std::chrono::hours(24) % *bucket != Nanos(0)) {
    return print_error(fmt::format(
               "--bucket {} must be at least 1s and divide a day evenly (e.g. 1m, 5m, 15m, 1h)",
               o.bucket)),
           2;
  }
  auto gpus = parse_gpu_selection(o.gpus);
  if (!gpus) return print_error(gpus.error().message()), 2;
  AccountingChoices choices = o.choices;
  if (auto st = add_default_zone_sources(choices); !st) {
    fmt::print(stderr, "carbonclock: warning: config file ignored: {}\n", st.error().message());
  }
  auto inputs = resolve_inputs(choices, nullptr);
  if (!inputs) return print_error(inputs.error().message()), 2;
  if (o.cpu_w_per_core < 0 || o.dram_w_per_gb < 0) {
    return print_error("--cpu-watts-per-core and --dram-watts-per-gb must not be negative"), 2;
  }

  // Before any thread exists, so every thread inherits the mask and only wait() sees them.
  Supervisor::block_signals();

  // Carbon-aware execution (run_scheduling.h): plan, then wait for the first planned slot.
  auto scheduled = ScheduledRun::prepare(o.schedule, inputs->zone, o.db, o.quiet);
  if (!scheduled) return print_error(scheduled.error().message()), 2;
  if (*scheduled) {
    if (int rc = (*scheduled)->wait_for_start(); rc != 0) return rc;
  }

  SensorSetup setup;
  setup.use_gpus = !o.no_gpu;
  setup.nvml.gpus = *gpus;
  if (const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES")) setup.nvml.cuda_visible_devices = cvd;
  if (const char* root = std::getenv("CARBONCLOCK_SYSFS_ROOT")) setup.sysfs_root = root;
  setup.estimate.cpu_w_per_core = o.cpu_w_per_core;
  setup.estimate.dram_w_per_gb = o.dram_w_per_gb;
  SensorSet sensors = open_sensors(setup);
  if (!o.quiet) {
    for (const auto& note : sensors.notes) fmt::print(stderr, "carbonclock: {}\n", note);
  }

  RealClock clock;
  Meter meter(std::move(sensors.sensors), clock, {*interval, *bucket, std::chrono::seconds(1)});
  meter.start();

  RunRecord run;
  run.id = new_run_id(meter.start_utc());
  run.carbonclock_version = CARBONCLOCK_VERSION;
  run.command = o.command;
  run.start_utc = meter.start_utc();
  run.host = host_name();
  run.scheduler = scheduler_env();
  run.tags = o.tags;
  run.timeline.bucket = *bucket;
  run.timeline.devices = meter.devices();
  run.overhead.interval_s = to_seconds(*interval);
  run.warnings = sensors.notes;
  if (o.choices.region) run.region = inputs->region.value_or(*o.choices.region);
  if (o.choices.zone || o.choices.region) run.zone = inputs->zone;
  run.pue = o.choices.pue;
  run.per = o.choices.per;
  run.work = o.choices.work;

  std::filesystem::path dir =
      o.out.empty() ? std::filesystem::path(o.runs_dir) / run.id : std::filesystem::path(o.out);
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    return print_error(fmt::format("{}: run directory exists and is not empty", dir.string())), 2;
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return print_error(
               fmt::format("{}: cannot create run directory: {}", dir.string(), ec.message())),
           2;
  }
  auto journal = JournalWriter::create(dir, run);
  if (!journal) return print_error(journal.error().message()), 2;
  meter.set_journal(journal->get());

  Supervisor supervisor;
  if (*scheduled) (*scheduled)->configure(supervisor);
  SpawnError spawn_error;
  if (!supervisor.spawn(o.command, &spawn_error)) {
    journal.value().reset();
    std::filesystem::remove_all(dir, ec);
    print_error(spawn_error.message);
    return spawn_error.exit_code;
  }
  meter.attach_job(supervisor.pid());

  const bool status_line = !o.quiet && ::isatty(STDERR_FILENO);
  if (status_line) {
    auto last_print = std::make_shared<Nanos>(-std::chrono::hours(1));
    meter.set_on_sample([last_print](const MeterStatus& s) {
      if (s.elapsed - *last_print < std::chrono::seconds(1)) return;
      *last_print = s.elapsed;
      fmt::print(stderr, "\r\033[K[carbonclock] {}  {:.0f} W  {}", format_duration(s.elapsed),
                 s.power_w, format_energy(s.energy_j));
      std::fflush(stderr);
    });
  }
  meter.start_thread();
  JobExit exit =
      *scheduled ? (*scheduled)->execute(supervisor, [&meter](pid_t pid) { meter.attach_job(pid); })
                 : supervisor.wait();
  meter.finish(exit.cpu_s);
  if (status_line) fmt::print(stderr, "\r\033[K");

  run.timeline = meter.timeline();
  run.end_utc = run.start_utc + meter.elapsed();
  run.exit_code = exit.exit_code;
  for (const auto& w : meter.warnings()) run.warnings.push_back(w);
  run.overhead = self_overhead(meter.samples(), to_seconds(*interval));
  (*journal)->end(meter.elapsed(), exit.exit_code, run.overhead);
  if (auto s = (*journal)->flush(); !s) run.warnings.push_back(s.error().message());
  if (*scheduled) (*scheduled)->record(run);
  if (auto s = save_run(run, dir); !s) {
    print_error(s.error().message() + " (the journal is kept; `carbonclock report " + dir.string() +
                "` rebuilds the run)");
  }
  if (!o.quiet) {
    // The sensor notes were shown when the run started; the summary repeats only new warnings.
    RunRecord shown = run;
    shown.warnings.erase(shown.warnings.begin(),
                         shown.warnings.begin() + static_cast<ptrdiff_t>(sensors.notes.size()));
    fmt::print(stderr, "{}", run_summary_text(shown, dir.string()));
  }
  account_and_record(run, *inputs, dir, o);
  return exit.exit_code;
}

}  // namespace

void register_run_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run a command and meter its energy (GPUs via NVML, CPU/DRAM via RAPL, or an "
      "estimate), writing a run directory with run.json and a crash-safe journal");
  cmd->add_option("--interval", o->interval, "Sampling interval, 50ms or more")
      ->capture_default_str();
  cmd->add_option("--bucket", o->bucket, "Timeline bucket, aligned to UTC")->capture_default_str();
  cmd->add_option("--out", o->out, "Run directory (default: RUNS_DIR/<UTC start>-<id>)");
  cmd->add_option("--runs-dir", o->runs_dir, "Where run directories go")->capture_default_str();
  cmd->add_option("--gpus", o->gpus,
                  "GPUs to meter: all (every GPU visible to the job, honouring "
                  "CUDA_VISIBLE_DEVICES), used (only GPUs where the job's processes appear), "
                  "or a list of indices/UUIDs like 0,2")
      ->capture_default_str();
  cmd->add_flag("--no-gpu", o->no_gpu, "Do not load NVML");
  cmd->add_flag("-q,--quiet", o->quiet, "No status line, notes or summary");
  cmd->add_option("--tag", o->tags, "Tag the run (repeatable)");
  cmd->add_option("--cpu-watts-per-core", o->cpu_w_per_core,
                  "Estimate model: watts per busy core where RAPL is missing")
      ->capture_default_str();
  cmd->add_option("--dram-watts-per-gb", o->dram_w_per_gb,
                  "Estimate model: watts per GB resident where RAPL has no DRAM domain")
      ->capture_default_str();
  add_accounting_options(cmd, o->choices);
  cmd->add_option("--db", o->db,
                  "Grid store and run history (default $CARBONCLOCK_DB, else the XDG data dir)");
  add_schedule_options(cmd, o->schedule, true);  // carbon-aware execution
  cmd->add_option("command", o->command, "The command to run, after --")->required();
  cmd->footer(
      "Example: carbonclock run --interval 100ms --region us-west-2 -- python3 train.py\n"
      "Environment: CARBONCLOCK_NVML_LIBRARY (NVML path), CARBONCLOCK_SYSFS_ROOT (sysfs root), "
      "CUDA_VISIBLE_DEVICES, CARBONCLOCK_REGION/CARBONCLOCK_ZONE (default zone), "
      "CARBONCLOCK_DB.\nExit status: the command's own (128+N if killed by signal N), 127 "
      "if it is not found.");
  cmd->callback([o, &exit_code] { exit_code = run_job(*o); });
}

}  // namespace carbonclock::cli

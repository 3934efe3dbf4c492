// carbonclock run -- CMD: meter a job's energy while it runs (optionally at planned times).
#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "app/measure.h"
#include "cli/commands.h"
#include "cli/status_line.h"
#include "reports/carbon_report.h"
#include "reports/summary.h"

#ifndef CARBONCLOCK_VERSION
#define CARBONCLOCK_VERSION "0.0.0"
#endif

namespace carbonclock::cli {
namespace {

/// Draws the run on stderr: sensor notes, the plan, and on a terminal a status line on the
/// terminal's last row (see StatusLine) with the meter's reading and what the job is doing.
class RunConsole final : public RunObserver {
 public:
  RunConsole(Console& console, bool quiet)
      : console_(console),
        quiet_(quiet),
        status_line_(!quiet && console.err_is_terminal()),
        status_(console) {}
  void note(std::string_view text) override {
    if (!quiet_) console_.err(fmt::format("carbonclock: {}\n", text));
  }
  void warning(std::string_view text) override {
    console_.err(fmt::format("carbonclock: warning: {}\n", text));
  }
  void sensors_opened(const std::vector<std::string>& notes) override {
    for (const auto& n : notes) note(n);
  }
  void planned(const std::string& summary) override {
    std::string_view rest = summary;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      note(rest.substr(0, nl));
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    }
  }
  void waiting(SysTime now, SysTime next_run_utc, double saving_pct) override {
    Nanos left = std::chrono::floor<Seconds>(next_run_utc - now);
    set_activity(fmt::format("paused: next run in {} at {} (expected saving {:.1f} %)",
                             format_duration(std::max(left, Nanos(0))), format_utc(next_run_utc),
                             saving_pct));
  }
  void waiting_done() override { set_activity(""); }
  void job_started(pid_t pid) override {
    std::lock_guard lock(mu_);
    job_pgid_ = pid;
  }
  void sample(const MeterStatus& s) override {
    {
      std::lock_guard lock(mu_);
      if (s.elapsed - last_print_ < std::chrono::seconds(1)) return;
      last_print_ = s.elapsed;
      reading_ = fmt::format("{}  {:.0f} W  {}", format_duration(s.elapsed), s.power_w,
                             format_energy(s.energy_j));
    }
    redraw();
  }
  void job_stopped(int sig) override {
    pid_t pgid;
    {
      std::lock_guard lock(mu_);
      pgid = job_pgid_;
    }
    std::string text = fmt::format(
        "the job was stopped by {} from another process; `kill -CONT -{}` continues it, Ctrl-C "
        "ends it",
        sigabbrev_np(sig) != nullptr ? std::string("SIG") + sigabbrev_np(sig)
                                     : fmt::format("signal {}", sig),
        pgid);
    // Off a terminal there is no status line: the notice is a line of its own.
    if (!status_line_) return note(text);
    set_activity(std::move(text));
  }
  void job_continued() override {
    if (!status_line_) return note("the job was continued and runs again");
    set_activity("");
  }
  void suspending(int) override { status_.restore(); }
  void job_ended() override { status_.restore(); }

 private:
  void set_activity(std::string text) {
    {
      std::lock_guard lock(mu_);
      if (activity_ == text) return;
      activity_ = std::move(text);
    }
    redraw();
  }
  void redraw() {
    if (!status_line_) return;
    std::string line = "[carbonclock]";
    {
      std::lock_guard lock(mu_);
      if (!reading_.empty()) line += " " + reading_;
      if (!activity_.empty()) line += (reading_.empty() ? " " : "  |  ") + activity_;
    }
    status_.show(line);
  }

  Console& console_;
  bool quiet_;
  bool status_line_;
  StatusLine status_;
  std::mutex mu_;
  Nanos last_print_ = -std::chrono::hours(1);
  std::string reading_;   ///< the meter's last reading
  std::string activity_;  ///< waiting, paused, stopped by someone else
  pid_t job_pgid_ = -1;
};

void run_job(MeasureRequest request, bool quiet, CommandContext& ctx) {
  load_zone_defaults_into(ctx, request.choices);
  RunConsole console(ctx.env.console, quiet);
  std::unique_ptr<HttpTransport> http;
  if (!request.schedule.forecast_source.empty()) http = ctx.env.make_http(std::chrono::seconds(60));
  AppContext app{ctx.env.clock, http.get(), ctx.env.env, console};
  auto result = measure_command(request, app, console);
  if (!result) return ctx.fail(result.error(), CommandKind::kJobWrapper);
  if (result->spawn_error) {
    ctx.env.console.err(fmt::format("carbonclock: error: {}\n", *result->spawn_error));
    ctx.exit_code = result->exit_code;
    return;
  }
  ctx.exit_code = result->exit_code;
  if (!result->job_ran || quiet) return;
  // A member of a distributed job meters nothing; it said so when it started.
  if (result->cluster && result->cluster->task.role == TaskRole::kMember) return;
  if (!result->schedule_summary.empty()) console.note(result->schedule_summary);
  RunRecord shown = result->run;
  shown.warnings = result->warnings;
  ctx.env.console.err(run_summary_text(shown, result->run_dir.string()));
  if (result->account) ctx.env.console.err(emissions_summary_text(*result->account));
  if (result->cluster) {
    console.note(fmt::format("this node only; the whole job: carbonclock report {}",
                             result->cluster->job_dir.string()));
  }
}

}  // namespace

void register_run_command(CLI::App& app, CommandContext& ctx) {
  struct Options {
    MeasureRequest request;
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  o->request.version = CARBONCLOCK_VERSION;
  MeasureRequest& r = o->request;
  auto* cmd = app.add_subcommand(
      "run",
      "Run a command and meter its energy (GPUs via NVML, CPU/DRAM via RAPL, or an "
      "estimate), writing a run directory with run.json and a crash-safe journal");
  cmd->add_option("--interval", r.interval, "Sampling interval, 50ms or more")
      ->capture_default_str();
  cmd->add_option("--bucket", r.bucket, "Timeline bucket, aligned to UTC")->capture_default_str();
  cmd->add_option("--out", r.out, "Run directory (default: RUNS_DIR/<UTC start>-<id>)");
  cmd->add_option("--runs-dir", r.runs_dir, "Where run directories go")->capture_default_str();
  cmd->add_option("--gpus", r.gpus,
                  "GPUs to meter: all (every GPU visible to the job, honouring "
                  "CUDA_VISIBLE_DEVICES), used (only GPUs where the job's processes appear), "
                  "or a list of indices/UUIDs like 0,2")
      ->capture_default_str();
  cmd->add_flag("--no-gpu", r.no_gpu, "Do not load NVML");
  cmd->add_flag("-q,--quiet", o->quiet, "No status line, notes or summary");
  // One value per --tag: a repeatable option must never swallow `--` or the command.
  cmd->add_option("--tag", r.tags, "Tag the run (repeat for several)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("--cpu-watts-per-core", r.cpu_w_per_core,
                  "Estimate model: watts per busy core where RAPL is missing")
      ->capture_default_str();
  cmd->add_option("--dram-watts-per-gb", r.dram_w_per_gb,
                  "Estimate model: watts per GB resident where RAPL has no DRAM domain")
      ->capture_default_str();
  add_accounting_options(cmd, r.choices);
  add_db_option(cmd, r.db);
  add_schedule_options(cmd, r.schedule, true);
  cmd->add_option("command", r.command, "The command to run, after --")->required();
  cmd->footer(
      "Example: carbonclock run --interval 100ms --region us-west-2 --tag bert -- python3 "
      "train.py\nEnvironment: CARBONCLOCK_NVML_LIBRARY (NVML path), CARBONCLOCK_SYSFS_ROOT (sysfs "
      "root), CUDA_VISIBLE_DEVICES, CARBONCLOCK_REGION/CARBONCLOCK_ZONE (default zone), "
      "CARBONCLOCK_DB.\nExit status: the command's own (128+N if killed by signal N), 127 if it "
      "is not found, 126 if it cannot be executed, 125 if carbonclock itself failed.");
  cmd->callback([o, &ctx] { run_job(o->request, o->quiet, ctx); });
}

}  // namespace carbonclock::cli

// carbonclock plan: print a carbon-aware plan (Flexible Start or Pause and Resume) for a job
// without running anything: text, JSON, or the --begin option for Slurm's sbatch.
#include <memory>

#include "app/schedule.h"
#include "cli/commands.h"
#include "reports/plan_render.h"

namespace carbonclock::cli {
namespace {

constexpr Format kFormats[] = {Format::kText, Format::kJson, Format::kSbatch};

struct PlanOptions {
  PlanRequest request;
  std::string format = "text";
  std::string output;
};

void run_plan(const PlanOptions& o, CommandContext& ctx) {
  auto format = parse_format(o.format, kFormats);
  if (!format) return ctx.fail(format.error());
  std::unique_ptr<HttpTransport> http;
  if (!o.request.schedule.forecast_source.empty()) {
    http = ctx.env.make_http(std::chrono::seconds(60));
  }
  AppContext app = ctx.app(http.get());
  auto plan = plan_job(o.request, app);
  if (!plan) return ctx.fail(plan.error());
  ctx.emit(render_plan(*plan, *format), o.output);
  if (*format == Format::kSbatch) {
    for (const auto& note : sbatch_notes(*plan)) ctx.observer.note(note);
  }
}

}  // namespace

void register_plan_command(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<PlanOptions>();
  PlanRequest& r = o->request;
  auto* cmd = app.add_subcommand(
      "plan",
      "Print a carbon-aware plan (Flexible Start or Pause and Resume) for a job without running "
      "anything");
  cmd->add_option("--zone", r.zone, "Grid zone id (e.g. DE)");
  cmd->add_option("--region", r.region, "Cloud region (e.g. eu-central-1)");
  cmd->add_option("--zones", r.zones, "Other zones to compare, comma-separated");
  cmd->add_option("--duration", r.duration, "The job's running time (e.g. 2h)");
  cmd->add_option("--energy-kwh", r.energy_kwh, "The job's energy in kWh");
  cmd->add_option("--profile", r.profile,
                  "A run directory written by `carbonclock run`: its duration and energy (laid "
                  "flat) describe the job")
      ->type_name(kRunDirName);
  add_db_option(cmd, r.db);
  add_format_option(cmd, o->format, kFormats,
                    "json: schemas/plan.schema.json; sbatch: --begin=LOCAL_TIME for Slurm");
  add_output_option(cmd, o->output, "Write to FILE (atomically) instead of stdout");
  add_schedule_options(cmd, r.schedule, false);
  cmd->footer(
      "Example: carbonclock plan --zone DE --duration 2h --energy-kwh 3 --pause-resume 50%\n"
      "         sbatch $(carbonclock plan --zone DE --duration 2h --energy-kwh 3 --flex-start "
      "12h --format sbatch) job.sh");
  cmd->callback([o, &ctx] { run_plan(*o, ctx); });
}

}  // namespace carbonclock::cli

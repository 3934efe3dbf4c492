// carbonclock merge JOB_DIR (and `report JOB_DIR`): one report for a distributed job from its
// per-node run directories (OUT/<job id>/<node>/), recorded in the history once.
#include <memory>

#include "app/cluster.h"
#include "cli/commands.h"
#include "reports/cluster_render.h"

namespace carbonclock::cli {
namespace {

constexpr Format kFormats[] = {Format::kText, Format::kJson};

struct MergeOptions {
  JobReportArgs args;
  std::string format = "text";
};

}  // namespace

void report_job(const JobReportArgs& a, const std::string& format_text, CommandContext& ctx) {
  auto format = parse_format(format_text, kFormats);
  if (!format) {
    return ctx.fail(format.error().with_context(a.job_dir +
                                                " is a job directory (per-node runs), reported as "
                                                "text or json"));
  }
  MergeRequest request;
  request.job_dir = a.job_dir;
  request.choices = a.choices;
  request.choices.signal = a.signal.empty() ? std::nullopt : std::optional(a.signal);
  request.db = a.db;
  load_zone_defaults_into(ctx, request.choices);
  AppContext app = ctx.app();
  auto report = merge_job(request, app);
  if (!report) return ctx.fail(report.error());
  ctx.emit(render_cluster_report(*report, *format), a.out);
}

void register_merge_command(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<MergeOptions>();
  JobReportArgs& a = o->args;
  auto* cmd = app.add_subcommand(
      "merge",
      "Merge a distributed job's per-node run directories (OUT/<job id>/<node>/, written by "
      "`srun carbonclock run --out OUT`) into one report, and record the job in the history "
      "once (same as `report OUT/<job id>`)");
  cmd->add_option("JOB_DIR", a.job_dir, "OUT/<job id>: the directory holding one folder per node")
      ->required();
  add_format_option(cmd, o->format, kFormats, "json: schemas/cluster-report.schema.json");
  add_output_option(cmd, a.out, "Write to FILE (atomically)");
  add_accounting_options(cmd, a.choices);
  cmd->add_option("--signal", a.signal,
                  "Headline signal: marginal | average (default: marginal when stored for every "
                  "node's zone, else average)");
  add_db_option(cmd, a.db);
  cmd->footer(
      "Each node is priced in its own zone (its run.json's, unless --zone/--region is given, "
      "which then applies to every node).\nExample: srun carbonclock run --out runs -- python "
      "train.py; carbonclock merge runs/$SLURM_JOB_ID");
  cmd->callback([o, &ctx] { report_job(o->args, o->format, ctx); });
}

}  // namespace carbonclock::cli

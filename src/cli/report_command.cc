// carbonclock report RUN_DIR: a measured run's energy and carbon account (rebuilt from its
// journal if carbonclock died) as text, JSON, CodeCarbon CSV, Markdown or HTML.
#include <fmt/format.h>

#include <memory>

#include "app/cluster.h"
#include "app/report.h"
#include "cli/commands.h"
#include "common/json_text.h"
#include "reports/carbon_report.h"

namespace carbonclock::cli {
namespace {

constexpr Format kFormats[] = {Format::kText,     Format::kJson, Format::kCsv,
                               Format::kMarkdown, Format::kHtml, Format::kRunJson};

struct ReportOptions {
  ReportRequest request;
  std::string run_dir;
  std::string format = "text";
  std::string out;
  std::string signal;
};

void run_report(ReportOptions o, CommandContext& ctx) {
  if (is_job_dir(o.run_dir)) {
    // OUT/<job id> of a distributed job: merge its nodes.
    JobReportArgs job{o.run_dir, o.out, o.signal, o.request.db, o.request.choices};
    return report_job(job, o.format, ctx);
  }
  auto format = parse_format(o.format, kFormats);
  if (!format) return ctx.fail(format.error());
  o.request.run_dir = o.run_dir;
  if (*format == Format::kRunJson) {
    auto run = load_run(o.run_dir);
    if (!run) return ctx.fail(run.error());
    return ctx.emit(dump_json(run_to_json(*run), 2) + "\n", o.out);
  }
  o.request.choices.signal = o.signal.empty() ? std::nullopt : std::optional(o.signal);
  o.request.charts = *format == Format::kHtml;
  load_zone_defaults_into(ctx, o.request.choices);
  AppContext app = ctx.app();
  auto data = build_report(o.request, app);
  if (!data) return ctx.fail(data.error());
  const RunRecord& run = data->run;
  const CarbonAccount& account = data->account;
  switch (*format) {
    case Format::kCsv:
      if (o.out.empty()) {
        return ctx.emit(codecarbon_csv_header() + codecarbon_csv_row(run, account));
      }
      if (auto s = append_codecarbon_csv(o.out, run, account); !s) ctx.fail(s.error());
      return;
    case Format::kJson: {
      auto doc = report_json(run, account, o.run_dir);
      if (run.schedule && run.schedule->contains("savings")) {
        doc["schedule_savings"] = (*run.schedule)["savings"];
      }
      return ctx.emit(json_text(doc), o.out);
    }
    case Format::kMarkdown:
      return ctx.emit(report_markdown(run, account), o.out);
    case Format::kHtml:
      return ctx.emit(report_html(run, account, {data->by_zone, data->by_hour, o.run_dir}), o.out);
    default:
      return ctx.emit(report_text(run, account, o.run_dir), o.out);
  }
}

}  // namespace

void register_report_command(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand(
      "report",
      "Report a measured run's energy and carbon (SCI); rebuilds the run from its journal if "
      "carbonclock was killed");
  cmd->add_option("RUN_DIR", o->run_dir,
                  "A run directory written by `carbonclock run`, or a distributed job's "
                  "OUT/<job id> (its nodes are merged, as by `carbonclock merge`)")
      ->required();
  add_format_option(cmd, o->format, kFormats,
                    "json: schemas/report.schema.json; csv: CodeCarbon's emissions.csv; "
                    "run-json: run.json as stored");
  add_output_option(cmd, o->out,
                    "Write to FILE (atomically); csv appends, writing the header when new");
  add_accounting_options(cmd, o->request.choices);
  cmd->add_option("--signal", o->signal,
                  "Headline signal: marginal | average (default: marginal when stored for the "
                  "zone, else average)");
  add_db_option(cmd, o->request.db);
  EmbodiedOptions& e = o->request.choices.embodied;
  cmd->add_option("--embodied-kg", e.embodied_kg,
                  "Total embodied kgCO2eq of the reserved hardware (replaces the catalogue)");
  cmd->add_option("--lifetime-years", e.lifetime_years,
                  "Hardware lifetime EL in years (default 4)");
  cmd->add_option("--machine-share", e.machine_share,
                  "Share of the machine the run reserved, RR/ToR in (0, 1]")
      ->capture_default_str();
  cmd->add_option("--dram-gb", e.dram_gb,
                  "Installed DRAM in GB, for embodied emissions (default unknown)");
  cmd->footer(
      "Zone: --region/--zone, else the run's own, else CARBONCLOCK_REGION/CARBONCLOCK_ZONE, "
      "else the config file, else us-east-1 (said in the report).\nExample: carbonclock report "
      "runs/X --region us-west-2 --pue 1.1 --per '1000 inferences' --work 50000 --format html "
      "-o report.html");
  cmd->callback([o, &ctx] { run_report(*o, ctx); });
}

}  // namespace carbonclock::cli

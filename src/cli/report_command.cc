// carbonclock report RUN_DIR: a measured run's energy and carbon account (rebuilt from its
// journal if carbonclock died) as text, JSON, CodeCarbon CSV, Markdown or HTML.
#include <fmt/format.h>

#include <cstdlib>

#include "accounting/accounting.h"
#include "cli/commands.h"
#include "common/files.h"
#include "common/json_text.h"
#include "execution/schedule_record.h"
#include "grid/live_source.h"
#include "metering/run_record.h"
#include "reports/carbon_report.h"
#include "reports/summary.h"

namespace carbonclock::cli {
namespace {

struct ReportOptions {
  std::string run_dir;
  std::string format = "text";
  std::string out;
  std::string db;
  AccountingChoices choices;
};

// A scheduled run's savings were computed at its end, usually from forecasts; once actual
// intensities for its zone are stored, recompute them from the actuals and say so.
void refresh_schedule_savings(RunRecord& run, GridStore* store, std::vector<std::string>& notes) {
  if (!run.schedule || store == nullptr) return;
  const auto& planning = (*run.schedule)["plan"]["intensity"];
  auto signal = parse_signal(planning.value("signal", ""));
  auto factor = parse_factor(planning.value("factor", ""));
  auto requested = scheduled_requested_start(run);
  if (!signal || !factor || !requested) return;
  const std::string zone = planning.value("zone", run.zone.value_or(""));
  const Nanos slot = from_seconds(planning.value("slot_s", 300.0));
  SysTime from = floor_to(*requested, slot);
  SysTime to = std::max(run.end_utc, *requested + (run.end_utc - run.start_utc)) + slot;
  auto actual = store->read(SeriesQuery{zone, *signal, *factor}, from, to);
  if (!actual || actual->points.empty()) return;
  auto savings = schedule_savings(run, *actual);
  if (!savings) return;  // actuals do not cover the run yet: keep what was recorded
  (*run.schedule)["savings"] =
      savings_to_json(*savings, "actual", std::chrono::system_clock::now());
  notes.push_back(fmt::format(
      "schedule: {:.1f} g emitted vs {:.1f} g had it started at once, saved {:.1f} g ({:.1f}%), "
      "recomputed from stored actuals ({})",
      savings->emitted_g, savings->immediate_g, savings->saved_g, savings->saved_pct,
      savings->intensity_source));
}

int run_report(ReportOptions o) {
  auto run = load_run(o.run_dir);
  if (!run) return print_error(run.error().message()), 1;
  if (o.format == "run-json") {
    std::string doc = dump_json(run_to_json(*run), 2) + "\n";
    if (o.out.empty()) return fmt::print("{}", doc), 0;
    if (auto s = write_file_atomic(o.out, doc); !s) return print_error(s.error().message()), 1;
    return 0;
  }
  if (auto st = add_default_zone_sources(o.choices); !st) {
    fmt::print(stderr, "carbonclock: warning: config file ignored: {}\n", st.error().message());
  }
  auto inputs = resolve_inputs(o.choices, &*run);
  if (!inputs) return print_error(inputs.error().message()), 2;
  auto opened = open_grid_store(o.db, /*create=*/false);
  if (!opened) return print_error(opened.error().message()), 1;
  GridStore* store = opened->store ? &*opened->store : nullptr;
  auto account = account_run(*run, *inputs, store);
  if (!account) return print_error(account.error().message()), 1;
  if (!opened->note.empty()) account->notes.push_back(opened->note);
  refresh_schedule_savings(*run, store, account->notes);

  if (o.format == "csv") {
    if (o.out.empty()) {
      fmt::print("{}{}", codecarbon_csv_header(), codecarbon_csv_row(*run, *account));
      return 0;
    }
    if (auto s = append_codecarbon_csv(o.out, *run, *account); !s) {
      return print_error(s.error().message()), 1;
    }
    return 0;
  }
  std::string doc;
  if (o.format == "json") {
    auto json_doc = report_json(*run, *account, o.run_dir);
    if (run->schedule && run->schedule->contains("savings")) {
      json_doc["schedule_savings"] = (*run->schedule)["savings"];
    }
    doc = dump_json(std::move(json_doc), 2) + "\n";
  } else if (o.format == "md") {
    doc = report_markdown(*run, *account);
  } else if (o.format == "html") {
    HtmlExtras extras;
    extras.run_dir = o.run_dir;
    extras.by_zone = emissions_by_zone(*run, account->pue, store);
    extras.by_hour = emissions_by_start_hour(*run, account->zone, account->headline_signal().signal,
                                             inputs->watttime_region, account->pue, store);
    doc = report_html(*run, *account, extras);
  } else {
    doc = report_text(*run, *account, o.run_dir);
  }
  if (o.out.empty()) return fmt::print("{}", doc), 0;
  if (auto s = write_file_atomic(o.out, doc); !s) return print_error(s.error().message()), 1;
  return 0;
}

}  // namespace

Status add_default_zone_sources(AccountingChoices& choices) {
  auto env = [](const char* name) -> std::optional<std::string> {
    auto v = process_env(name);
    return v && !v->empty() ? v : std::nullopt;
  };
  choices.env_zone = env("CARBONCLOCK_ZONE");
  choices.env_region = env("CARBONCLOCK_REGION");
  auto config = default_config_path(process_env);
  auto settings = load_live_settings(process_env, config);
  if (!settings) return settings.error();
  if (!settings->default_zone.empty()) choices.config_zone = settings->default_zone;
  if (!settings->default_region.empty()) choices.config_region = settings->default_region;
  choices.config_origin = settings->config_origin;
  return {};
}

void add_accounting_options(CLI::App* cmd, AccountingChoices& c) {
  cmd->add_option("--zone", c.zone, "Grid zone id (e.g. DE, US-CAL-CISO, an imported zone)");
  cmd->add_option("--region", c.region, "Cloud region (e.g. us-west-2, westus2, europe-west4)");
  cmd->add_option("--pue", c.pue, "Power usage effectiveness, 1 to 3 (default 1.0, stated)");
  cmd->add_option("--per", c.per,
                  "Functional unit R: '1000 inferences', epoch, '1e6 tokens' (default: the run)");
  cmd->add_option("--work", c.work, "How many of --per's unit the run did (default: one R)");
}

void register_report_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand(
      "report",
      "Report a measured run's energy and carbon (SCI); rebuilds the run from its journal if "
      "carbonclock was killed");
  cmd->add_option("RUN_DIR", o->run_dir, "A run directory written by `carbonclock run`")
      ->required();
  cmd->add_option("--format", o->format,
                  "text | json (schemas/report.schema.json) | csv (CodeCarbon emissions.csv) | md "
                  "| html | run-json (run.json as stored)")
      ->check(CLI::IsMember({"text", "json", "csv", "md", "html", "run-json"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", o->out,
                  "Write to FILE (atomically); csv appends, writing the header when new");
  add_accounting_options(cmd, o->choices);
  cmd->add_option("--signal", o->choices.signal,
                  "Headline signal: marginal | average (default marginal when stored)");
  cmd->add_option("--db", o->db, "Grid store (default $CARBONCLOCK_DB, else the XDG data dir)");
  cmd->add_option("--embodied-kg", o->choices.embodied.embodied_kg,
                  "Total embodied kgCO2eq of the reserved hardware (replaces the catalogue)");
  cmd->add_option("--lifetime-years", o->choices.embodied.lifetime_years,
                  "Hardware lifetime EL in years (default 4)");
  cmd->add_option("--machine-share", o->choices.embodied.machine_share,
                  "Share of the machine the run reserved, RR/ToR in (0, 1]")
      ->capture_default_str();
  cmd->add_option("--dram-gb", o->choices.embodied.dram_gb,
                  "Installed DRAM in GB, for embodied emissions (default unknown)");
  cmd->footer(
      "Zone: --region/--zone, else the run's own, else CARBONCLOCK_REGION/CARBONCLOCK_ZONE, "
      "else us-east-1 (said in the report).\nExample: carbonclock report runs/X --region "
      "us-west-2 --pue 1.1 --per '1000 inferences' --work 50000 --format html -o report.html");
  cmd->callback([o, &exit_code] { exit_code = run_report(*o); });
}

}  // namespace carbonclock::cli

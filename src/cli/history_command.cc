// carbonclock history: the runs recorded in the store, with energy and emissions, and totals
// per month and per tag.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "accounting/accounting.h"
#include "accounting/history.h"
#include "cli/commands.h"
#include "common/json_text.h"
#include "reports/carbon_report.h"

namespace carbonclock::cli {
namespace {

struct HistoryOptions {
  std::string since, tag, db, format = "text";
};

std::string totals_table(const std::string& title,
                         const std::map<std::string, HistoryTotals>& totals) {
  std::string out = fmt::format("{}\n", title);
  for (const auto& [key, t] : totals) {
    out += fmt::format("  {:<20} {:>4} run(s) {:>12.6f} kWh {:>12} operational {:>12} embodied\n",
                       key, t.runs, t.energy_kwh, format_grams(t.operational_g),
                       format_grams(t.embodied_g));
  }
  return out;
}

int run_history(const HistoryOptions& o) {
  std::optional<SysTime> since;
  if (!o.since.empty()) {
    auto t = parse_utc(o.since);
    if (!t) return print_error(t.error().with_context("--since").message()), 2;
    since = *t;
  }
  auto opened = open_grid_store(o.db, /*create=*/false);
  if (!opened) return print_error(opened.error().message()), 1;
  std::vector<HistoryEntry> runs;
  if (opened->store) {
    auto listed = list_runs(*opened->store, since,
                            o.tag.empty() ? std::nullopt : std::optional<std::string>(o.tag));
    if (!listed) return print_error(listed.error().message()), 1;
    runs = std::move(*listed);
  }
  if (o.format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : runs) {
      list.push_back({{"run_id", e.run_id},
                      {"start_utc", format_utc(e.start_utc)},
                      {"duration_s", e.duration_s},
                      {"energy_kwh", e.energy_kwh},
                      {"operational_g", e.operational_g},
                      {"embodied_g", e.embodied_g},
                      {"signal", e.signal},
                      {"zone", e.zone},
                      {"pue", e.pue},
                      {"stored_share", e.stored_share},
                      {"tags", e.tags},
                      {"run_dir", e.run_dir},
                      {"command", e.command}});
    }
    auto totals = [](const std::map<std::string, HistoryTotals>& m) {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& [k, t] : m) {
        j[k] = {{"runs", t.runs},
                {"energy_kwh", t.energy_kwh},
                {"operational_g", t.operational_g},
                {"embodied_g", t.embodied_g}};
      }
      return j;
    };
    nlohmann::json doc = {{"runs", list},
                          {"by_month", totals(totals_by_month(runs))},
                          {"by_tag", totals(totals_by_tag(runs))}};
    fmt::print("{}\n", dump_json(std::move(doc), 2));
    return 0;
  }
  if (runs.empty()) {
    fmt::print("no runs recorded{}\n", opened->note.empty() ? "" : " (" + opened->note + ")");
    return 0;
  }
  fmt::print("{:<20} {:<25} {:>9} {:>12} {:>12} {:>10} {:<8} {:<12} {}\n", "start (UTC)", "run",
             "duration", "energy kWh", "operational", "embodied", "signal", "zone", "tags");
  for (const auto& e : runs) {
    std::string tags;
    for (const auto& t : e.tags) tags += (tags.empty() ? "" : ",") + t;
    fmt::print("{:<20} {:<25} {:>9} {:>12.6f} {:>12} {:>10} {:<8} {:<12} {}\n",
               format_utc(e.start_utc), e.run_id, format_duration(from_seconds(e.duration_s)),
               e.energy_kwh, format_grams(e.operational_g), format_grams(e.embodied_g), e.signal,
               e.zone, tags);
  }
  fmt::print("\n{}\n{}", totals_table("totals per month (UTC):", totals_by_month(runs)),
             totals_table("totals per tag:", totals_by_tag(runs)));
  return 0;
}

}  // namespace

void register_history_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<HistoryOptions>();
  auto* cmd = app.add_subcommand(
      "history", "List recorded runs with energy and emissions, and totals per month and tag");
  cmd->add_option("--since", o->since, "Only runs started at or after this time (UTC)");
  cmd->add_option("--tag", o->tag, "Only runs tagged so at run time (`run --tag`)");
  cmd->add_option("--db", o->db, "Store (default $CARBONCLOCK_DB, else the XDG data dir)");
  cmd->add_option("--format", o->format, "text | json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = run_history(*o); });
}

}  // namespace carbonclock::cli

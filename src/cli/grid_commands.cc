// grid import | list | show | fetch: grid data in and out of the store.
#include <fmt/format.h>

#include <memory>

#include "app/grid_data.h"
#include "app/shift.h"
#include "cli/commands.h"
#include "reports/grid_render.h"

namespace carbonclock::cli {
namespace {

constexpr Format kSeriesFormats[] = {Format::kCsv, Format::kJson};

void run_import(const ImportArgs& a, CommandContext& ctx) {
  auto options = import_options(a);
  if (!options) return ctx.fail(options.error());
  AppContext app = ctx.app();
  auto imported = import_files(a.files, *options, a.db, app,
                               a.replace ? ImportMode::kReplace : ImportMode::kRefuseConflicts);
  if (!imported) return ctx.fail(imported.error());
  ctx.emit(render_import(*imported));
}

void run_list(const std::string& db, const std::string& format_text, const std::string& output,
              CommandContext& ctx) {
  auto format = parse_format(format_text, kSeriesFormats);
  if (!format) return ctx.fail(format.error());
  AppContext app = ctx.app();
  auto list = list_series(db, app);
  if (!list) return ctx.fail(list.error());
  ctx.emit(render_series_list(*list, *format), output);
}

struct ShowArgs {
  std::string zone, signal, factor, from, to, format = "csv", db, forecast_as_of, output;
};

void run_show(const ShowArgs& a, CommandContext& ctx) {
  if (a.zone.empty()) return run_list(a.db, a.format, a.output, ctx);
  auto format = parse_format(a.format, kSeriesFormats);
  if (!format) return ctx.fail(format.error());
  ShowRequest r;
  r.zone = a.zone;
  r.db = a.db;
  if (Status s = parse_signal_options(a.signal, a.factor, r.signal, r.factor); !s) {
    return ctx.fail(s.error());
  }
  for (auto [text, field, option] :
       {std::tuple{&a.from, &r.from, "--from"}, std::tuple{&a.to, &r.to, "--to"},
        std::tuple{&a.forecast_as_of, &r.forecast_as_of, "--forecast-as-of"}}) {
    if (text->empty()) continue;
    auto t = parse_utc(*text);
    if (!t) return ctx.fail(t.error().with_context(option));
    *field = *t;
  }
  AppContext app = ctx.app();
  auto s = show_series(r, app);
  if (!s) return ctx.fail(s.error());
  ctx.env.console.err(fmt::format("{}, source {}, {} points\n",
                                  describe_series(s->zone, s->signal, s->factor, s->issued_at),
                                  s->source, s->points.size()));
  ctx.emit(render_series(*s, *format), a.output);
}

struct FetchOptions {
  FetchArgs args;
  std::string timeout = "60s";
};

void run_fetch(const FetchOptions& o, CommandContext& ctx) {
  auto timeout = parse_duration(o.timeout);
  if (!timeout) return ctx.fail(timeout.error().with_context("--timeout"));
  auto http = ctx.env.make_http(*timeout);
  AppContext app = ctx.app(http.get());
  auto fetched = fetch_series(o.args, app);
  if (!fetched) return ctx.fail(fetched.error());
  ctx.emit(render_fetch(*fetched));
  if (!fetched->report.from_cache && fetched->report.stored.empty()) {
    ctx.observer.warning(
        fmt::format("{} returned no data for this range", to_string(fetched->request.source)));
  }
}

void register_fetch(CLI::App& grid, CommandContext& ctx) {
  auto o = std::make_shared<FetchOptions>();
  FetchArgs& a = o->args;
  auto* cmd = grid.add_subcommand(
      "fetch",
      "Download carbon intensity from WattTime, Electricity Maps or the UK Carbon Intensity API "
      "into the store (times already stored are not requested again). Credentials: "
      "WATTTIME_USERNAME/WATTTIME_PASSWORD, ELECTRICITYMAPS_API_KEY or the config file "
      "(mode 600), see docs/live-sources.md");
  cmd->add_option("--source", a.source, "watttime, electricitymaps or ukci")->required();
  cmd->add_option(
      "--zone", a.zone,
      "Zone: Electricity Maps zone (DE), WattTime region (CAISO_NORTH), GB or GB-1..17");
  cmd->add_option("--region", a.region, "Cloud region (us-west-2, westus2, europe-west4)");
  cmd->add_option("--from", a.from, "Start (UTC), e.g. 2024-03-01T00:00Z; default 24 h ago");
  cmd->add_option("--to", a.to, "End (UTC); default now (forecast: now + 24 h)");
  cmd->add_flag("--forecast", a.forecast, "Fetch the provider's current forecast");
  add_db_option(cmd, a.db);
  cmd->add_option("--base-url", a.base_url, "Provider base URL (tests, proxies)");
  cmd->add_option("--config", a.config,
                  "Credentials file (default $CARBONCLOCK_CONFIG, "
                  "$XDG_CONFIG_HOME/carbonclock/config)");
  cmd->add_option("--factor", a.factor, "Electricity Maps emission factor: lifecycle or direct")
      ->capture_default_str();
  cmd->add_option("--timeout", o->timeout, "Total time one request may take")
      ->capture_default_str();
  cmd->callback([o, &ctx] { run_fetch(*o, ctx); });
}

}  // namespace

void register_grid_commands(CLI::App& app, CommandContext& ctx) {
  auto* grid =
      app.add_subcommand("grid", "Import, fetch, list and show grid carbon-intensity data");
  grid->require_subcommand(1);

  auto ia = std::make_shared<ImportArgs>();
  auto* imp = grid->add_subcommand(
      "import",
      "Import intensity series from files (Electricity Maps CSV/JSON, WattTime JSON, UK Carbon "
      "Intensity JSON, generic CSV) into the store; all files in one transaction");
  imp->add_option("FILE", ia->files, "Files to import")->required();
  imp->add_option("--format", ia->format,
                  "Input format: auto | electricitymaps-csv | electricitymaps-json | "
                  "watttime-json | ukci-json | csv")
      ->capture_default_str()
      ->check(one_of({"auto", "electricitymaps-csv", "electricitymaps-json", "watttime-json",
                      "ukci-json", "csv"},
                     "FORMAT"));
  imp->add_flag("--replace", ia->replace,
                "Replace stored points the imported ones overlap (same zone, signal, factor), in "
                "the same all-or-nothing transaction; without it a differing value is refused");
  imp->add_option("--zone", ia->zone, "Zone id (generic CSV; renames a single-zone file)");
  imp->add_option("--signal", ia->signal, "marginal | average (generic CSV default: average)");
  imp->add_option("--factor", ia->factor,
                  "lifecycle | direct (generic CSV default: lifecycle, direct with --signal "
                  "marginal; picks one of the Electricity Maps series)");
  imp->add_option("--source", ia->source, "Source label stored with the series");
  imp->add_option("--tz", ia->tz, "IANA time zone of offset-less timestamps (default UTC)");
  imp->add_option("--time-column", ia->time_column, "Generic CSV: timestamp (or index) column");
  imp->add_option("--value-column", ia->value_column, "Generic CSV: intensity column");
  imp->add_option("--unit", ia->unit, "Generic CSV: g/kWh (default), kg/MWh, t/MWh, lbs/MWh, ...");
  imp->add_option("--duration-column", ia->duration_column, "Generic CSV: per-row duration column");
  imp->add_option("--duration-unit", ia->duration_unit, "Unit of the duration column (default 1m)");
  imp->add_option("--zone-column", ia->zone_column, "Generic CSV: per-row zone column");
  imp->add_option("--step", ia->step, "Fixed point duration / index step, e.g. 1h, 15m");
  imp->add_option("--index-origin", ia->index_origin,
                  "Time of index 0 for files with interval numbers, e.g. 2020-01-01T00:00+01:00");
  add_db_option(imp, ia->db);
  imp->callback([ia, &ctx] { run_import(*ia, ctx); });

  auto sa = std::make_shared<ShowArgs>();
  auto* show = grid->add_subcommand(
      "show",
      "Print a stored series (CSV start_utc,duration_s,g_per_kwh,signal,factor,estimated "
      "or JSON); the zone may be given by any of its names; without --zone, list the series");
  show->add_option("--zone", sa->zone, "Zone (catalogue id, alias such as DE-LU, WattTime region)");
  add_signal_options(show, sa->signal, sa->factor, "average");
  show->add_option("--from", sa->from, "Start (UTC unless an offset is given); default unbounded");
  show->add_option("--to", sa->to, "End (exclusive); default unbounded");
  add_format_option(show, sa->format, kSeriesFormats, "json: schemas/grid-series.schema.json");
  add_output_option(show, sa->output, "Write to FILE (atomically) instead of stdout");
  show->add_option("--forecast-as-of", sa->forecast_as_of,
                   "Show the latest forecast issued at or before this time instead of actuals");
  add_db_option(show, sa->db);
  show->callback([sa, &ctx] { run_show(*sa, ctx); });

  struct ListArgs {
    std::string db, format = "csv", output;
  };
  auto la = std::make_shared<ListArgs>();
  auto* list = grid->add_subcommand("list", "List the stored series (zone, signal, factor, ...)");
  add_db_option(list, la->db);
  add_format_option(list, la->format, kSeriesFormats, "json: schemas/grid-list.schema.json");
  add_output_option(list, la->output, "Write to FILE (atomically) instead of stdout");
  list->callback([la, &ctx] { run_list(la->db, la->format, la->output, ctx); });

  register_fetch(*grid, ctx);
}

}  // namespace carbonclock::cli

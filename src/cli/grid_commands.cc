// grid import | show | list: parse arguments, call the grid library, print. `grid fetch` is
// registered by the live-sources work (register_grid_fetch_command).
#include <fmt/format.h>

#include <cstdio>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/json_text.h"
#include "grid/importers.h"
#include "grid/query.h"
#include "grid/store.h"

namespace carbonclock::cli {
namespace {

struct ImportArgs {
  std::vector<std::string> files;
  std::string format = "auto", zone, signal, factor, source, tz, time_column, value_column, unit,
              duration_column, duration_unit, zone_column, step, index_origin, db;
};

struct ShowArgs {
  std::string zone, signal, factor, from, to, format = "csv", db, forecast_as_of;
};

Result<ImportOptions> import_options(const ImportArgs& a) {
  ImportOptions o;
  auto format = parse_import_format(a.format);
  if (!format) return format.error();
  o.format = *format;
  if (!a.zone.empty()) o.zone = a.zone;
  if (!a.signal.empty()) {
    auto s = parse_signal(a.signal);
    if (!s) return s.error();
    o.signal = *s;
  }
  if (!a.factor.empty()) {
    auto f = parse_factor(a.factor);
    if (!f) return f.error();
    o.factor = *f;
  }
  if (!a.source.empty()) o.source = a.source;
  o.csv.tz = a.tz;
  o.csv.time_column = a.time_column;
  o.csv.value_column = a.value_column;
  o.csv.unit = a.unit;
  o.csv.duration_column = a.duration_column;
  o.csv.zone_column = a.zone_column;
  if (!a.duration_unit.empty()) {
    auto d = parse_duration(a.duration_unit);
    if (!d) return d.error().with_context("--duration-unit");
    if (*d <= Nanos(0)) return make_error("--duration-unit must be positive");
    o.csv.duration_unit = *d;
  }
  if (!a.step.empty()) {
    auto d = parse_duration(a.step);
    if (!d) return d.error().with_context("--step");
    if (*d <= Nanos(0)) return make_error("--step must be positive");
    o.csv.step = *d;
  }
  if (!a.index_origin.empty()) {
    auto t = parse_utc(a.index_origin);
    if (!t) return t.error().with_context("--index-origin");
    o.csv.index_origin = *t;
  }
  return o;
}

std::string describe(const std::string& zone, Signal s, Factor f, std::optional<SysTime> issued) {
  std::string out = fmt::format("{} {}/{}", zone, to_string(s), to_string(f));
  if (issued) out += fmt::format(" (forecast issued {})", format_utc(*issued));
  return out;
}

int run_import(const ImportArgs& a) {
  auto options = import_options(a);
  if (!options) {
    print_error(options.error().message());
    return 2;
  }
  // Parse everything first: a bad file anywhere means nothing is stored.
  std::vector<ImportBatch> batches;
  for (const std::string& file : a.files) {
    auto series = read_series_file(file, *options);
    if (!series) {
      print_error(series.error().message());
      return 1;
    }
    batches.push_back({file, std::move(*series)});
  }
  auto store = GridStore::open_or_default(a.db);
  if (!store) {
    print_error(store.error().message());
    return 1;
  }
  auto results = store->import(batches);
  if (!results) {
    print_error(results.error().message() + " (nothing was imported)");
    return 1;
  }
  size_t k = 0;
  for (const ImportBatch& b : batches) {
    for (const IntensitySeries& s : b.series) {
      const SeriesImportResult& r = (*results)[k++];
      auto gaps = find_gaps(s);
      Nanos largest{0};
      for (const Gap& g : gaps) largest = std::max(largest, g.duration);
      fmt::print("{}: {}: {} points ({} new, {} already stored), {} to {}, source {}", b.origin,
                 describe(s.zone, s.signal, s.factor, s.issued_at), s.points.size(), r.points_added,
                 r.points_already_stored, format_utc(s.points.front().start),
                 format_utc(s.points.back().end()), s.source);
      if (gaps.empty()) {
        fmt::print(", no gaps\n");
      } else {
        fmt::print(
            ", {} gap{} (largest {} at {})\n", gaps.size(), gaps.size() == 1 ? "" : "s",
            format_duration(largest),
            format_utc(std::max_element(gaps.begin(), gaps.end(), [](const Gap& x, const Gap& y) {
                         return x.duration < y.duration;
                       })->start));
      }
    }
  }
  return 0;
}

int run_list(const std::string& db) {
  auto store = GridStore::open_or_default(db);
  if (!store) {
    print_error(store.error().message());
    return 1;
  }
  auto list = store->list();
  if (!list) {
    print_error(list.error().message());
    return 1;
  }
  fmt::print("zone,signal,factor,source,issued_at,points,first_start_utc,last_end_utc\n");
  for (const StoredSeriesInfo& i : *list) {
    fmt::print("{},{},{},\"{}\",{},{},{},{}\n", i.zone, to_string(i.signal), to_string(i.factor),
               i.source, i.issued_at ? format_utc(*i.issued_at) : "", i.point_count,
               format_utc(i.first_start), format_utc(i.last_end));
  }
  return 0;
}

Result<SysTime> time_or(const std::string& text, SysTime fallback, const char* option) {
  if (text.empty()) return fallback;
  auto t = parse_utc(text);
  if (!t) return t.error().with_context(option);
  return t;
}

void print_series(const IntensitySeries& s, const std::string& format) {
  if (format == "json") {
    nlohmann::ordered_json j;
    j["zone"] = s.zone;
    j["signal"] = to_string(s.signal);
    j["factor"] = to_string(s.factor);
    j["source"] = s.source;
    j["issued_at"] = s.issued_at ? nlohmann::ordered_json(format_utc(*s.issued_at))
                                 : nlohmann::ordered_json(nullptr);
    auto& points = j["points"] = nlohmann::ordered_json::array();
    for (const IntensityPoint& p : s.points) {
      points.push_back({{"start_utc", format_utc(p.start)},
                        {"duration_s", std::chrono::duration_cast<Seconds>(p.duration).count()},
                        {"g_per_kwh", p.g_per_kwh},
                        {"estimated", p.estimated}});
    }
    fmt::print("{}\n", dump_json(std::move(j), 2));
    return;
  }
  std::string out = "start_utc,duration_s,g_per_kwh,signal,factor,estimated\n";
  for (const IntensityPoint& p : s.points) {
    out += fmt::format("{},{},{},{},{},{}\n", format_utc(p.start),
                       std::chrono::duration_cast<Seconds>(p.duration).count(), p.g_per_kwh,
                       to_string(s.signal), to_string(s.factor), p.estimated);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

int run_show(const ShowArgs& a) {
  if (a.zone.empty()) return run_list(a.db);
  if (a.format != "csv" && a.format != "json") {
    print_error(fmt::format("unknown --format '{}' (csv or json)", a.format));
    return 2;
  }
  SeriesQuery query{a.zone, std::nullopt, std::nullopt};
  if (!a.signal.empty()) {
    auto s = parse_signal(a.signal);
    if (!s) {
      print_error(s.error().message());
      return 2;
    }
    query.signal = *s;
  }
  if (!a.factor.empty()) {
    auto f = parse_factor(a.factor);
    if (!f) {
      print_error(f.error().message());
      return 2;
    }
    query.factor = *f;
  }
  // Unbounded by default: from the epoch to far in the future.
  auto from = time_or(a.from, SysTime{}, "--from");
  auto to = time_or(a.to, SysTime{} + std::chrono::hours(24 * 365 * 200), "--to");
  if (!from || !to) {
    print_error((!from ? from.error() : to.error()).message());
    return 2;
  }
  auto store = GridStore::open_or_default(a.db);
  if (!store) {
    print_error(store.error().message());
    return 1;
  }
  if (!a.forecast_as_of.empty()) {
    auto as_of = parse_utc(a.forecast_as_of);
    if (!as_of) {
      print_error(as_of.error().with_context("--forecast-as-of").message());
      return 2;
    }
    auto f = store->latest_forecast(query, *as_of, *from, *to);
    if (!f) {
      print_error(f.error().message());
      return 1;
    }
    if (!*f) {
      print_error(fmt::format("no forecast for zone {} issued at or before {}", a.zone,
                              format_utc(*as_of)));
      return 1;
    }
    fmt::print(stderr, "{}, source {}, {} points\n",
               describe((*f)->zone, (*f)->signal, (*f)->factor, (*f)->issued_at), (*f)->source,
               (*f)->points.size());
    print_series(**f, a.format);
    return 0;
  }
  auto s = store->read(query, *from, *to);
  if (!s) {
    print_error(s.error().message());
    return 1;
  }
  fmt::print(stderr, "{}, source {}, {} points\n",
             describe(s->zone, s->signal, s->factor, std::nullopt), s->source, s->points.size());
  print_series(*s, a.format);
  return 0;
}

}  // namespace

void register_grid_commands(CLI::App& app, int& exit_code) {
  auto* grid = app.add_subcommand("grid", "Import, fetch and show grid carbon-intensity data");
  grid->require_subcommand(1);

  auto ia = std::make_shared<ImportArgs>();
  auto* imp = grid->add_subcommand(
      "import",
      "Import intensity series from files (Electricity Maps CSV/JSON, WattTime JSON, UK Carbon "
      "Intensity JSON, generic CSV) into the store; all files in one transaction");
  imp->add_option("files", ia->files, "Files to import")->required();
  imp->add_option("--format", ia->format,
                  "auto | electricitymaps-csv | electricitymaps-json | watttime-json | ukci-json "
                  "| csv");
  imp->add_option("--zone", ia->zone, "Zone id (generic CSV; renames a single-zone file)");
  imp->add_option("--signal", ia->signal, "marginal | average (generic CSV default: average)");
  imp->add_option("--factor", ia->factor,
                  "lifecycle | direct (generic CSV default: lifecycle; picks one of the "
                  "Electricity Maps series)");
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
  imp->add_option("--db", ia->db,
                  "Database (default $CARBONCLOCK_DB, else "
                  "$XDG_DATA_HOME/carbonclock/carbonclock.db)");
  imp->callback([ia, &exit_code] { exit_code = run_import(*ia); });

  auto sa = std::make_shared<ShowArgs>();
  auto* show = grid->add_subcommand(
      "show",
      "Print a stored series (CSV start_utc,duration_s,g_per_kwh,signal,factor,estimated "
      "or JSON); without --zone, list the stored series");
  show->add_option("--zone", sa->zone, "Zone id");
  show->add_option("--signal", sa->signal, "marginal | average (default average)");
  show->add_option("--factor", sa->factor,
                   "lifecycle | direct (default lifecycle, else the one stored)");
  show->add_option("--from", sa->from, "Start (UTC unless an offset is given); default unbounded");
  show->add_option("--to", sa->to, "End (exclusive); default unbounded");
  show->add_option("--format", sa->format, "csv | json");
  show->add_option("--forecast-as-of", sa->forecast_as_of,
                   "Show the latest forecast issued at or before this time instead of actuals");
  show->add_option("--db", sa->db, "Database");
  show->callback([sa, &exit_code] { exit_code = run_show(*sa); });

  auto list_db = std::make_shared<std::string>();
  auto* list = grid->add_subcommand("list", "List the stored series (zone, signal, factor, ...)");
  list->add_option("--db", *list_db, "Database");
  list->callback([list_db, &exit_code] { exit_code = run_list(*list_db); });

  register_grid_fetch_command(*grid, exit_code);
}

}  // namespace carbonclock::cli

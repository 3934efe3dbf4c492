#include "app/grid_data.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "app/store_access.h"
#include "common/strings.h"
#include "intensity/intensity_provider.h"
#include "regions/catalogue.h"

namespace carbonclock {
namespace {

// The provider's id for the zone or region the user gave.
Result<std::string> provider_zone(LiveSourceKind kind, const FetchArgs& a) {
  std::optional<std::string> region, zone;
  if (!a.region.empty()) region = a.region;
  if (!a.zone.empty()) zone = a.zone;
  auto selection = select_zone(region, zone);
  if (!selection.ok()) return selection.error();
  switch (kind) {
    case LiveSourceKind::kWattTime:
      if (!selection->watttime_region.empty()) return selection->watttime_region;
      if (selection->region) {
        return make_error(
            "no WattTime region is known for {} (zone {}): pass --zone with the WattTime region",
            selection->region->name, selection->zone);
      }
      return selection->zone;
    case LiveSourceKind::kElectricityMaps:
      return selection->zone;
    case LiveSourceKind::kUkCarbonIntensity:
      if (selection->region && selection->zone != "GB") {
        return make_error("{} is not in Great Britain (zone {}): ukci covers GB only",
                          selection->region->name, selection->zone);
      }
      return selection->zone;
  }
  return selection->zone;
}

Result<FetchRequest> fetch_request(const FetchArgs& a, Clock& clock) {
  auto kind = parse_live_source(a.source);
  if (!kind.ok()) return kind.error();
  FetchRequest r;
  r.source = *kind;
  r.forecast = a.forecast;
  auto zone = provider_zone(*kind, a);
  if (!zone.ok()) return zone.error();
  r.zone = *zone;
  auto factor = parse_factor(a.factor);
  if (!factor.ok()) return factor.error();
  r.electricitymaps_factor = *factor;
  SysTime now = floor_to(clock.system_now(), std::chrono::minutes(5));
  r.from = a.forecast ? now : now - std::chrono::hours(24);
  r.to = a.forecast ? now + std::chrono::hours(24) : now;
  if (!a.from.empty()) {
    auto t = parse_utc(a.from);
    if (!t.ok()) return t.error().with_context("--from");
    r.from = *t;
  }
  if (!a.to.empty()) {
    auto t = parse_utc(a.to);
    if (!t.ok()) return t.error().with_context("--to");
    r.to = *t;
  }
  if (r.to <= r.from) {
    return make_error("--to {} is not after --from {}", format_utc(r.to), format_utc(r.from));
  }
  return r;
}

}  // namespace

Result<ImportOptions> import_options(const ImportArgs& a) {
  ImportOptions o;
  auto format = parse_import_format(a.format);
  if (!format) return format.error();
  o.format = *format;
  if (!a.zone.empty()) o.zone = a.zone;
  if (!a.signal.empty()) {
    auto signal = parse_signal(a.signal);
    if (!signal) return signal.error().with_context("--signal");
    o.signal = *signal;
  }
  if (!a.factor.empty()) {
    auto factor = parse_factor(a.factor);
    if (!factor) return factor.error().with_context("--factor");
    o.factor = *factor;
  }
  if (!a.source.empty()) o.source = a.source;
  o.csv.tz = a.tz;
  o.csv.time_column = a.time_column;
  o.csv.value_column = a.value_column;
  o.csv.unit = a.unit;
  o.csv.duration_column = a.duration_column;
  o.csv.zone_column = a.zone_column;
  auto positive = [](const std::string& text, const char* option) -> Result<Nanos> {
    auto d = parse_duration(text);
    if (!d) return d.error().with_context(option);
    if (*d <= Nanos(0)) return make_error("{} must be positive", option);
    return *d;
  };
  if (!a.duration_unit.empty()) {
    auto d = positive(a.duration_unit, "--duration-unit");
    if (!d) return d.error();
    o.csv.duration_unit = *d;
  }
  if (!a.step.empty()) {
    auto d = positive(a.step, "--step");
    if (!d) return d.error();
    o.csv.step = *d;
  }
  if (!a.index_origin.empty()) {
    auto t = parse_utc(a.index_origin);
    if (!t) return t.error().with_context("--index-origin");
    o.csv.index_origin = *t;
  }
  return o;
}

Result<std::vector<ImportedSeries>> import_files(const std::vector<std::string>& files,
                                                 const ImportOptions& options,
                                                 const std::string& db, AppContext& ctx,
                                                 ImportMode mode) {
  std::vector<ImportBatch> batches;
  for (const std::string& file : files) {
    auto series = read_series_file(file, options);
    if (!series) return series.error();
    batches.push_back({file, std::move(*series)});
  }
  auto opened = open_store(db, StoreMode::kCreate, ctx.env);
  if (!opened) return opened.error();
  auto results = opened->get()->import(batches, mode);
  if (!results) {
    return mode == ImportMode::kReplace
               ? results.error().with_context("nothing was imported")
               : results.error().with_context(
                     "nothing was imported (to replace stored values, import with --replace)");
  }
  std::vector<ImportedSeries> out;
  size_t k = 0;
  for (ImportBatch& b : batches) {
    for (IntensitySeries& s : b.series) {
      ImportedSeries one{b.origin, std::move(s), (*results)[k++], {}};
      one.gaps = find_gaps(one.series);
      out.push_back(std::move(one));
    }
  }
  return out;
}

Result<std::vector<StoredSeriesInfo>> list_series(const std::string& db, AppContext& ctx) {
  auto opened = open_store(db, StoreMode::kIfExists, ctx.env);
  if (!opened) return opened.error();
  if (!opened->get()) return std::vector<StoredSeriesInfo>{};
  return opened->get()->list();
}

Result<IntensitySeries> show_series(const ShowRequest& r, AppContext& ctx) {
  auto zone = select_zone(std::nullopt, r.zone);
  if (!zone) return zone.error();
  auto opened = open_store(r.db, StoreMode::kIfExists, ctx.env);
  if (!opened) return opened.error();
  if (!opened->get()) return make_error(ErrorCode::kNotFound, "{}", opened->note);
  IntensityProvider provider(opened->get());
  const Signal signal = r.signal.value_or(Signal::kAverage);
  auto candidates = provider.stored_series(*zone, signal, r.factor, r.forecast_as_of.has_value());
  if (!candidates) return candidates.error();
  if (candidates->empty()) {
    auto listed = opened->get()->list();
    std::string held;
    if (listed) {
      for (const auto& i : *listed) {
        bool ours = std::any_of(zone->store_ids.begin(), zone->store_ids.end(),
                                [&](const std::string& id) { return iequals(id, i.zone); });
        if (!ours) continue;
        held += fmt::format("{}{} {}/{}{}", held.empty() ? "" : ", ", i.zone, to_string(i.signal),
                            to_string(i.factor), i.issued_at ? " (forecast)" : "");
      }
    }
    return make_error(
        ErrorCode::kNotFound, "no series stored for zone '{}' ({}{}{}; looked up as {}){}", r.zone,
        to_string(signal), r.factor ? "/" + std::string(to_string(*r.factor)) : "",
        r.forecast_as_of ? " forecast" : "", fmt::format("{}", fmt::join(zone->store_ids, ", ")),
        held.empty() ? "" : "; stored: " + held);
  }
  const SysTime from = r.from.value_or(SysTime{} - std::chrono::hours(24 * 365 * 100));
  const SysTime to = r.to.value_or(SysTime{} + std::chrono::hours(24 * 365 * 200));
  const SeriesQuery& q = candidates->front();
  if (r.forecast_as_of) {
    auto f = opened->get()->latest_forecast(q, *r.forecast_as_of, from, to);
    if (!f) return f.error();
    if (!*f) {
      return make_error(ErrorCode::kNotFound, "no forecast for zone {} issued at or before {}",
                        r.zone, format_utc(*r.forecast_as_of));
    }
    return std::move(**f);
  }
  return opened->get()->read(q, from, to);
}

Result<FetchResult> fetch_series(const FetchArgs& a, AppContext& ctx) {
  if (ctx.http == nullptr) return make_error(ErrorCode::kUnavailable, "no network transport");
  auto request = fetch_request(a, ctx.clock);
  if (!request.ok()) return request.error();
  auto config = a.config.empty() ? default_config_path(ctx.env)
                                 : std::optional<std::filesystem::path>(a.config);
  auto settings = load_live_settings(ctx.env, config);
  if (!settings.ok()) return settings.error();
  if (!a.base_url.empty()) {
    switch (request->source) {
      case LiveSourceKind::kWattTime:
        settings->watttime_base_url = a.base_url;
        break;
      case LiveSourceKind::kElectricityMaps:
        settings->electricitymaps_base_url = a.base_url;
        break;
      case LiveSourceKind::kUkCarbonIntensity:
        settings->ukci_base_url = a.base_url;
        break;
    }
  }
  auto opened = open_store(a.db, StoreMode::kCreate, ctx.env);
  if (!opened.ok()) return opened.error();
  LiveSource source(*ctx.http, *settings, ctx.clock);
  auto report = source.fetch(*request, *opened->get());
  if (!report.ok()) return report.error();
  return FetchResult{*request, std::move(*report)};
}

}  // namespace carbonclock

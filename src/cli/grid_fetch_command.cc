// grid fetch: download carbon intensity from WattTime, Electricity Maps or the UK Carbon
// Intensity API into the grid store (which caches: covered times are not requested again).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "common/clock.h"
#include "grid/live_source.h"
#include "grid/store.h"
#include "http/http_transport.h"
#include "regions/catalogue.h"

#ifndef CARBONCLOCK_VERSION
#define CARBONCLOCK_VERSION "0.0.0"
#endif

namespace carbonclock::cli {
namespace {

struct FetchArgs {
  std::string source, zone, region, from, to, db, base_url, config, factor = "lifecycle";
  std::string timeout = "60s";
  bool forecast = false;
};

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

Status run_fetch(const FetchArgs& a) {
  RealClock clock;
  auto request = fetch_request(a, clock);
  if (!request.ok()) return request.error();
  auto config = a.config.empty() ? default_config_path(process_env)
                                 : std::optional<std::filesystem::path>(a.config);
  auto settings = load_live_settings(process_env, config);
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
  auto timeout = parse_duration(a.timeout);
  if (!timeout.ok()) return timeout.error().with_context("--timeout");
  auto store = GridStore::open_or_default(a.db);
  if (!store.ok()) return store.error();

  CurlOptions options;
  options.total_timeout = *timeout;
  options.connect_timeout = std::min<Nanos>(*timeout, std::chrono::seconds(10));
  options.user_agent = std::string("carbonclock/") + CARBONCLOCK_VERSION;
  CurlTransport transport(options);
  LiveSource source(transport, *settings, clock);
  auto report = source.fetch(*request, *store);
  if (!report.ok()) return report.error();

  const SeriesQuery& q = report->query;
  std::string what =
      fmt::format("{} {} {}/{}{}", to_string(request->source), q.zone, to_string(*q.signal),
                  to_string(*q.factor), request->forecast ? " forecast" : "");
  if (report->from_cache) {
    fmt::print("{}: already stored for {} .. {} (no request made)\n", what,
               format_utc(request->from), format_utc(request->to));
    return {};
  }
  int64_t added = 0, already = 0;
  for (const auto& s : report->stored) {
    added += s.points_added;
    already += s.points_already_stored;
  }
  fmt::print("{}: {} points stored ({} already stored) from {} request{}, {} .. {}\n", what, added,
             already, report->requests, report->requests == 1 ? "" : "s", format_utc(request->from),
             format_utc(request->to));
  if (report->stored.empty()) {
    fmt::print(stderr, "carbonclock: warning: {} returned no data for this range\n",
               to_string(request->source));
  }
  return {};
}

}  // namespace

void register_grid_fetch_command(CLI::App& grid, int& exit_code) {
  auto a = std::make_shared<FetchArgs>();
  auto* cmd = grid.add_subcommand(
      "fetch",
      "Download carbon intensity from WattTime, Electricity Maps or the UK Carbon Intensity API "
      "into the store (times already stored are not requested again). Credentials: "
      "WATTTIME_USERNAME/WATTTIME_PASSWORD, ELECTRICITYMAPS_API_KEY or the config file "
      "(mode 600), see docs/live-sources.md");
  cmd->add_option("--source", a->source, "watttime, electricitymaps or ukci")->required();
  cmd->add_option(
      "--zone", a->zone,
      "Zone: Electricity Maps zone (DE), WattTime region (CAISO_NORTH), GB or GB-1..17");
  cmd->add_option("--region", a->region, "Cloud region (us-west-2, westus2, europe-west4)");
  cmd->add_option("--from", a->from, "Start (UTC), e.g. 2024-03-01T00:00Z; default 24 h ago");
  cmd->add_option("--to", a->to, "End (UTC); default now (forecast: now + 24 h)");
  cmd->add_flag("--forecast", a->forecast, "Fetch the provider's current forecast");
  cmd->add_option("--db", a->db, "Grid store (default $CARBONCLOCK_DB or XDG data dir)");
  cmd->add_option("--base-url", a->base_url, "Provider base URL (tests, proxies)");
  cmd->add_option("--config", a->config,
                  "Credentials file (default $CARBONCLOCK_CONFIG, "
                  "$XDG_CONFIG_HOME/carbonclock/config)");
  cmd->add_option("--factor", a->factor, "Electricity Maps emission factor: lifecycle or direct")
      ->capture_default_str();
  cmd->add_option("--timeout", a->timeout, "Timeout of each request")->capture_default_str();
  cmd->callback([a, &exit_code] {
    if (auto st = run_fetch(*a); !st.ok()) {
      print_error(st.error().message());
      exit_code = 1;
    }
  });
}

}  // namespace carbonclock::cli

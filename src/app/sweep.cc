#include "app/sweep.h"

#include <fmt/format.h>

#include <set>

#include "app/store_access.h"
#include "common/files.h"
#include "common/strings.h"
#include "intensity/intensity_provider.h"
#include "regions/catalogue.h"

namespace carbonclock {
namespace {

std::string describe(const SlottedIntensity& in) {
  return fmt::format("{} {}/{} ({})", in.zone, to_string(in.signal), to_string(in.factor),
                     in.source);
}

/// Zones of `all`: every zone with actuals of the chosen signal (default average).
Result<std::vector<std::string>> all_zones(GridStore& store, std::optional<Signal> signal) {
  auto list = store.list();
  if (!list) return list.error();
  Signal want = signal.value_or(Signal::kAverage);
  std::set<std::string> zones;
  for (const StoredSeriesInfo& i : *list) {
    if (!i.issued_at && i.signal == want) zones.insert(i.zone);
  }
  if (zones.empty()) {
    return make_error(ErrorCode::kNotFound, "the store holds no {} series", to_string(want));
  }
  return std::vector<std::string>(zones.begin(), zones.end());
}

}  // namespace

Result<SweepInputs> prepare_sweep(const SweepRequest& a, AppContext& ctx) {
  int start_modes =
      (a.starts_file.empty() ? 0 : 1) + (a.every.empty() ? 0 : 1) + (a.starts_per_month ? 1 : 0);
  if (start_modes > 1) {
    return make_error("give at most one of --starts FILE, --starts-per-month K and --every STEP");
  }
  if (a.starts_per_month && *a.starts_per_month <= 0) {
    return make_error("--starts-per-month must be positive");
  }
  SweepInputs in;
  if (a.jobs == "paper") {
    in.jobs = paper_jobs();
  } else {
    auto content = read_file(a.jobs);
    if (!content) return content.error();
    auto parsed = parse_jobs_csv(*content, a.jobs);
    if (!parsed) return parsed.error();
    in.jobs = std::move(*parsed);
  }
  auto windows = parse_windows(a.windows);
  if (!windows) return windows.error().with_context("--windows");
  in.windows = std::move(*windows);
  SysTime from = SysTime{}, to = SysTime{} + std::chrono::hours(24 * 365 * 200);
  if (!a.from.empty()) {
    auto t = parse_utc(a.from);
    if (!t) return t.error().with_context("--from");
    from = *t;
  }
  if (!a.to.empty()) {
    auto t = parse_utc(a.to);
    if (!t) return t.error().with_context("--to");
    to = *t;
  }
  std::optional<std::vector<SysTime>> fixed_starts;
  std::optional<Nanos> every;
  if (!a.starts_file.empty()) {
    auto content = read_file(a.starts_file);
    if (!content) return content.error();
    auto s = parse_starts(*content, a.starts_file);
    if (!s) return s.error();
    fixed_starts = std::move(*s);
  } else if (!a.every.empty()) {
    auto d = parse_duration(a.every);
    if (!d || *d <= Nanos(0)) return make_error("--every: invalid step '{}'", a.every);
    every = *d;
  }
  auto opened = open_store(a.db, StoreMode::kIfExists, ctx.env);
  if (!opened) return opened.error();
  if (!opened->get()) return make_error(ErrorCode::kNotFound, "{}: nothing to sweep", opened->note);
  std::vector<ZoneSelection> zones;
  if (a.zones == "all") {
    auto all = all_zones(*opened->get(), a.signal);
    if (!all) return all.error();
    for (const auto& z : *all) {
      auto sel = select_zone(std::nullopt, z);
      if (!sel) return sel.error();
      zones.push_back(std::move(*sel));
    }
  } else {
    for (const std::string& z : split_list(a.zones)) {
      auto sel = select_zone(std::nullopt, z);
      if (!sel) return sel.error();
      zones.push_back(std::move(*sel));
    }
  }
  if (zones.empty()) return make_error("give --zones Z1,Z2,... or --zones all");
  IntensityProvider provider(opened->get());
  in.labels.slot = a.slot;
  for (const ShiftWindow& w : in.windows) in.labels.windows.push_back(w.label);
  for (const SweepJob& j : in.jobs) in.labels.jobs.push_back(j.name);
  for (const ZoneSelection& z : zones) {
    auto slotted = provider.slotted(z, a.signal.value_or(Signal::kAverage), a.factor, a.slot, from,
                                    to, Fallback::kNone);
    if (!slotted) return slotted.error();
    SweepZone zone{std::move(*slotted), {}};
    SysTime lo = std::max(from, zone.intensity.first_slot_utc);
    SysTime hi = std::min(to, zone.intensity.end_utc());
    if (fixed_starts) {
      zone.starts = *fixed_starts;
    } else if (every) {
      zone.starts = starts_every(lo, hi, *every);
    } else {
      zone.starts = starts_per_month(lo, hi, a.starts_per_month.value_or(5));
    }
    in.labels.zones.push_back(zone.intensity.zone);
    in.labels.zone_series.push_back(describe(zone.intensity));
    in.labels.zone_starts.push_back(zone.starts);
    in.zones.push_back(std::move(zone));
  }
  return in;
}

Status run_sweep_streaming(const SweepInputs& in, Nanos slot, SweepOrder order, AppContext& ctx,
                           SweepSink& sink) {
  SweepOptions options;
  options.slot = slot;
  options.order = order;
  options.progress = [&ctx](size_t done, size_t total) { ctx.observer.progress(done, total); };
  return run_sweep_blocks(in.jobs, in.zones, in.windows, options, sink);
}

}  // namespace carbonclock

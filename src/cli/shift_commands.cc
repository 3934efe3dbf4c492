// shift | whatif | sweep: parse arguments, read the grid store, call the shifting library,
// print. The definitions (slots, windows, both algorithms, the sweep's starts) are in
// docs/shifting.md.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "cli/commands.h"
#include "common/files.h"
#include "common/json_text.h"
#include "grid/store.h"
#include "metering/run_record.h"
#include "regions/catalogue.h"
#include "shifting/plan.h"
#include "shifting/slots.h"
#include "shifting/sweep.h"
#include "shifting/sweep_output.h"

namespace carbonclock::cli {
namespace {

using ojson = nlohmann::ordered_json;

/// Options every shifting command shares.
struct SeriesArgs {
  std::string signal, factor, db, slot = "5m";
};

void add_series_options(CLI::App* cmd, SeriesArgs& a) {
  cmd->add_option("--signal", a.signal, "marginal | average (default average)");
  cmd->add_option("--factor", a.factor,
                  "lifecycle | direct (default lifecycle, else the one stored)");
  cmd->add_option("--db", a.db,
                  "Database (default $CARBONCLOCK_DB, else "
                  "$XDG_DATA_HOME/carbonclock/carbonclock.db)");
  cmd->add_option("--slot", a.slot, "Slot length, UTC-aligned (default 5m)");
}

/// The parsed shared options.
struct SeriesChoice {
  std::optional<Signal> signal;
  std::optional<Factor> factor;
  Nanos slot = kDefaultSlot;
};

Result<SeriesChoice> parse_series_args(const SeriesArgs& a) {
  SeriesChoice c;
  if (!a.signal.empty()) {
    auto s = parse_signal(a.signal);
    if (!s) return s.error();
    c.signal = *s;
  }
  if (!a.factor.empty()) {
    auto f = parse_factor(a.factor);
    if (!f) return f.error();
    c.factor = *f;
  }
  auto slot = parse_duration(a.slot);
  if (!slot) return slot.error().with_context("--slot");
  if (*slot < std::chrono::seconds(1)) return make_error("--slot must be at least 1s");
  c.slot = *slot;
  return c;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    if (!item.empty()) out.push_back(item);
    pos = comma + 1;
  }
  return out;
}

std::string describe(const SlottedIntensity& in) {
  return fmt::format("{} {}/{} ({})", in.zone, to_string(in.signal), to_string(in.factor),
                     in.source);
}

/// Reads a zone's series over [from, to) and cuts it into slots.
Result<SlottedIntensity> load_zone(GridStore& store, const std::string& zone,
                                   const SeriesChoice& choice, SysTime from, SysTime to) {
  SeriesQuery query{zone, choice.signal, choice.factor};
  auto series = store.read(query, from, to);
  if (!series) return series.error();
  if (series->points.empty()) {
    return make_error("zone {}: no {} data between {} and {}", zone, to_string(series->signal),
                      format_utc(from), format_utc(to));
  }
  return slot_series(*series, choice.slot);
}

// ---- shift and whatif -------------------------------------------------------------------

/// One algorithm with its window, as asked on the command line.
struct Shifting {
  Algorithm algorithm;
  ShiftWindow window;
};

/// A zone's outcome for one job at one requested start.
struct ZoneOutcome {
  std::string zone;
  std::optional<SlottedIntensity> intensity;
  std::optional<Error> error;
  double baseline_g = 0;
  std::vector<Result<Plan>> plans;  ///< one per Shifting
};

ZoneOutcome evaluate_zone(GridStore& store, const std::string& zone, const SeriesChoice& choice,
                          const JobProfile& job, SysTime start,
                          const std::vector<Shifting>& shiftings) {
  ZoneOutcome out;
  out.zone = zone;
  size_t widest = 0;
  for (const Shifting& s : shiftings) {
    widest = std::max(widest, window_slots(s.window, job.slots(), choice.slot));
  }
  SysTime from = floor_to(start, choice.slot);
  SysTime to = from + choice.slot * static_cast<int64_t>(job.slots() + widest);
  auto in = load_zone(store, zone, choice, from, to);
  if (!in) {
    out.error = in.error();
    return out;
  }
  out.intensity = std::move(*in);
  const SlottedIntensity& intensity = *out.intensity;
  auto index = intensity.index_of(from);
  if (!index) {
    out.error = make_error("zone {}: the requested start {} is outside the data ({} to {})", zone,
                           format_utc(from), format_utc(intensity.first_slot_utc),
                           format_utc(intensity.end_utc()));
    return out;
  }
  if (Status s = check_window(intensity, *index, job.slots()); !s) {
    out.error = s.error();
    return out;
  }
  std::vector<size_t> baseline(job.slots());
  for (size_t k = 0; k < job.slots(); ++k) baseline[k] = *index + k;
  out.baseline_g = emissions_g(job, intensity, baseline);
  for (const Shifting& s : shiftings) {
    out.plans.push_back(make_plan(s.algorithm, job, intensity, *index,
                                  window_slots(s.window, job.slots(), choice.slot)));
  }
  return out;
}

/// "00:00Z–01:30Z, 03:00Z–04:00Z" style runs of consecutive chosen slots.
std::vector<std::pair<SysTime, SysTime>> runs_of(const Plan& plan, const SlottedIntensity& in) {
  std::vector<std::pair<SysTime, SysTime>> runs;
  for (size_t k = 0; k < plan.slots.size(); ++k) {
    SysTime a = in.slot_start(plan.slots[k]), b = in.slot_start(plan.slots[k] + 1);
    if (k > 0 && plan.slots[k] == plan.slots[k - 1] + 1) {
      runs.back().second = b;
    } else {
      runs.emplace_back(a, b);
    }
  }
  return runs;
}

ojson plan_json(const Plan& plan, const SlottedIntensity& in, const JobProfile& job,
                const ShiftWindow& window) {
  ojson j;
  j["algorithm"] = to_string(plan.algorithm);
  j["window"] = window.label;
  j["window_slots"] = plan.window_slots;
  j["baseline_g"] = plan.baseline_g;
  j["shifted_g"] = plan.shifted_g;
  j["reduction_pct"] = plan.reduction_pct();
  j["chosen_start_utc"] = format_utc_minutes(in.slot_start(plan.slots.front()));
  j["end_utc"] = format_utc_minutes(in.slot_start(plan.slots.back() + 1));
  auto& runs = j["runs"] = ojson::array();
  for (auto [a, b] : runs_of(plan, in)) {
    runs.push_back({{"start_utc", format_utc_minutes(a)}, {"end_utc", format_utc_minutes(b)}});
  }
  j["pauses"] = plan.pauses;
  j["pauses_per_hour"] = static_cast<double>(plan.pauses) / job.hours();
  return j;
}

std::string plan_text(const Plan& plan, const SlottedIntensity& in, const JobProfile& job,
                      const ShiftWindow& window) {
  std::string runs;
  for (auto [a, b] : runs_of(plan, in)) {
    if (!runs.empty()) runs += ", ";
    runs += fmt::format("{}–{}", format_utc_minutes(a), format_utc_minutes(b));
  }
  return fmt::format(
      "    {} +{} ({} slots): {:.3f} g ({:+.2f} % vs baseline), start {}, {} pause{} "
      "({:.3f}/h)\n      runs: {}\n",
      to_string(plan.algorithm), window.label, plan.window_slots, plan.shifted_g,
      -plan.reduction_pct(), format_utc_minutes(in.slot_start(plan.slots.front())), plan.pauses,
      plan.pauses == 1 ? "" : "s", static_cast<double>(plan.pauses) / job.hours(), runs);
}

/// Prints every zone's result, then the spatial and spatio-temporal best. Returns the exit code:
/// 1 when the first (home) zone or one of its plans failed.
int report_outcomes(const std::string& title, const JobProfile& job, SysTime start,
                    const std::vector<Shifting>& shiftings, const std::vector<ZoneOutcome>& zones,
                    const std::string& format) {
  // Spatial: lowest unshifted baseline; spatio-temporal: lowest shifted over zones, per
  // algorithm.
  const ZoneOutcome* best_spatial = nullptr;
  std::vector<std::pair<const ZoneOutcome*, const Plan*>> best_shifted(shiftings.size());
  for (const ZoneOutcome& z : zones) {
    if (z.error) continue;
    if (!best_spatial || z.baseline_g < best_spatial->baseline_g) best_spatial = &z;
    for (size_t i = 0; i < shiftings.size(); ++i) {
      if (!z.plans[i]) continue;
      const Plan* p = &z.plans[i].value();
      if (!best_shifted[i].second || p->shifted_g < best_shifted[i].second->shifted_g) {
        best_shifted[i] = {&z, p};
      }
    }
  }
  const ZoneOutcome& home = zones.front();
  if (format == "json") {
    ojson j;
    j["job"] = {{"name", job.name},     {"profile", job.flat ? "flat" : "measured"},
                {"slots", job.slots()}, {"slot_s", to_seconds(job.slot)},
                {"hours", job.hours()}, {"energy_kwh", job.total_kwh()}};
    j["requested_start_utc"] = format_utc_minutes(start);
    auto& jz = j["zones"] = ojson::array();
    for (const ZoneOutcome& z : zones) {
      ojson e;
      e["zone"] = z.zone;
      if (z.intensity) {
        e["signal"] = to_string(z.intensity->signal);
        e["factor"] = to_string(z.intensity->factor);
        e["source"] = z.intensity->source;
      }
      if (z.error) {
        e["error"] = z.error->message();
        jz.push_back(std::move(e));
        continue;
      }
      e["baseline_g"] = z.baseline_g;
      auto& plans = e["plans"] = ojson::array();
      for (size_t i = 0; i < shiftings.size(); ++i) {
        if (!z.plans[i]) {
          plans.push_back({{"algorithm", to_string(shiftings[i].algorithm)},
                           {"window", shiftings[i].window.label},
                           {"error", z.plans[i].error().message()}});
        } else {
          plans.push_back(plan_json(*z.plans[i], *z.intensity, job, shiftings[i].window));
        }
      }
      jz.push_back(std::move(e));
    }
    if (best_spatial) {
      j["best_zone"] = {
          {"zone", best_spatial->zone},
          {"baseline_g", best_spatial->baseline_g},
          {"reduction_pct_vs_first_zone",
           home.error ? ojson(nullptr)
                      : ojson(reduction_pct(home.baseline_g, best_spatial->baseline_g))}};
    }
    auto& st = j["best_zone_with_shifting"] = ojson::array();
    for (size_t i = 0; i < shiftings.size(); ++i) {
      if (!best_shifted[i].second) continue;
      st.push_back({{"algorithm", to_string(shiftings[i].algorithm)},
                    {"window", shiftings[i].window.label},
                    {"zone", best_shifted[i].first->zone},
                    {"shifted_g", best_shifted[i].second->shifted_g},
                    {"reduction_pct_vs_first_zone",
                     home.error ? ojson(nullptr)
                                : ojson(reduction_pct(home.baseline_g,
                                                      best_shifted[i].second->shifted_g))}});
    }
    fmt::print("{}\n", dump_json(std::move(j), 2));
  } else {
    fmt::print("{}\n", title);
    fmt::print("job: {} profile, {} slots of {} ({:.3f} h), {:.6g} kWh\n",
               job.flat ? "flat" : "measured", job.slots(), format_duration(job.slot), job.hours(),
               job.total_kwh());
    fmt::print("requested start: {}\n", format_utc_minutes(start));
    for (const ZoneOutcome& z : zones) {
      if (z.error) {
        fmt::print("  {}: skipped: {}\n", z.zone, z.error->message());
        continue;
      }
      fmt::print("  {}: baseline {:.3f} g at the requested start\n", describe(*z.intensity),
                 z.baseline_g);
      for (size_t i = 0; i < shiftings.size(); ++i) {
        if (!z.plans[i]) {
          fmt::print("    {} +{}: skipped: {}\n", to_string(shiftings[i].algorithm),
                     shiftings[i].window.label, z.plans[i].error().message());
        } else {
          fmt::print("{}", plan_text(*z.plans[i], *z.intensity, job, shiftings[i].window));
        }
      }
    }
    if (zones.size() > 1 && best_spatial) {
      fmt::print("best zone unshifted (spatial): {} {:.3f} g", best_spatial->zone,
                 best_spatial->baseline_g);
      if (!home.error) {
        fmt::print(" ({:+.2f} % vs {})", -reduction_pct(home.baseline_g, best_spatial->baseline_g),
                   home.zone);
      }
      fmt::print("\n");
      for (size_t i = 0; i < shiftings.size(); ++i) {
        if (!best_shifted[i].second) continue;
        fmt::print("best zone with {} +{} (spatio-temporal): {} {:.3f} g",
                   to_string(shiftings[i].algorithm), shiftings[i].window.label,
                   best_shifted[i].first->zone, best_shifted[i].second->shifted_g);
        if (!home.error) {
          fmt::print(" ({:+.2f} % vs {} unshifted)",
                     -reduction_pct(home.baseline_g, best_shifted[i].second->shifted_g), home.zone);
        }
        fmt::print("\n");
      }
    }
  }
  if (home.error) {
    print_error(home.error->message());
    return 1;
  }
  int rc = 0;
  for (const Result<Plan>& p : home.plans) {
    if (p) continue;
    print_error(p.error().message());
    rc = 1;
  }
  return rc;
}

struct ShiftArgs {
  SeriesArgs series;
  std::optional<std::string> zone, region;
  std::string start, duration, profile, flex_start, pause_resume, zones, format = "text";
  std::optional<double> energy_kwh;
};

/// The home zone (from --zone / --region) followed by --zones, without repeats.
Result<std::vector<std::string>> zone_list(const std::optional<std::string>& region,
                                           const std::optional<std::string>& zone,
                                           const std::string& zones, bool home_required) {
  std::vector<std::string> out;
  if (region || zone || home_required) {
    auto sel = select_zone(region, zone);
    if (!sel) return sel.error();
    out.push_back(sel->zone);
  }
  for (const std::string& z : split_list(zones)) {
    auto sel = select_zone(std::nullopt, z);
    if (!sel) return sel.error();
    if (std::find(out.begin(), out.end(), sel->zone) == out.end()) out.push_back(sel->zone);
  }
  if (out.empty()) return make_error("give a zone: --zone, --region or --zones");
  return out;
}

Result<std::vector<Shifting>> shiftings_of(const std::string& flex, const std::string& pr) {
  std::vector<Shifting> out;
  if (!flex.empty()) {
    auto w = parse_window(flex);
    if (!w) return w.error().with_context("--flex-start");
    out.push_back({Algorithm::kFlexibleStart, *w});
  }
  if (!pr.empty()) {
    auto w = parse_window(pr);
    if (!w) return w.error().with_context("--pause-resume");
    out.push_back({Algorithm::kPauseResume, *w});
  }
  return out;
}

Result<JobProfile> load_measured(const std::string& dir, Nanos slot, SysTime* start) {
  auto run = load_run(dir);
  if (!run) return run.error();
  *start = run->start_utc;
  auto p = measured_profile(run->id.empty() ? dir : run->id, run->timeline, run->start_utc,
                            run->end_utc, slot);
  if (!p) return p.error().with_context(dir);
  return p;
}

int run_shift(const ShiftArgs& a) {
  auto choice = parse_series_args(a.series);
  if (!choice) {
    print_error(choice.error().message());
    return 2;
  }
  if (a.format != "text" && a.format != "json") {
    print_error(fmt::format("unknown --format '{}' (text or json)", a.format));
    return 2;
  }
  if (a.flex_start.empty() == a.pause_resume.empty()) {
    print_error("give exactly one of --flex-start N and --pause-resume N");
    return 2;
  }
  auto shiftings = shiftings_of(a.flex_start, a.pause_resume);
  if (!shiftings) {
    print_error(shiftings.error().message());
    return 2;
  }
  auto zones = zone_list(a.region, a.zone, a.zones, true);
  if (!zones) {
    print_error(zones.error().message());
    return 2;
  }
  auto start = parse_utc(a.start);
  if (!start) {
    print_error(start.error().with_context("--start").message());
    return 2;
  }
  Result<JobProfile> job = make_error("unset");
  if (!a.profile.empty()) {
    if (!a.duration.empty() || a.energy_kwh) {
      print_error("give either --profile RUN_DIR or --duration D --energy-kwh E, not both");
      return 2;
    }
    SysTime run_start;
    job = load_measured(a.profile, choice->slot, &run_start);
  } else {
    if (a.duration.empty() || !a.energy_kwh) {
      print_error("give --duration D and --energy-kwh E (a flat profile), or --profile RUN_DIR");
      return 2;
    }
    auto d = parse_duration(a.duration);
    if (!d) {
      print_error(d.error().with_context("--duration").message());
      return 2;
    }
    job = flat_profile("job", *d, *a.energy_kwh, choice->slot);
  }
  if (!job) {
    print_error(job.error().message());
    return 2;
  }
  auto store = GridStore::open_or_default(a.series.db);
  if (!store) {
    print_error(store.error().message());
    return 1;
  }
  SysTime requested = floor_to(*start, choice->slot);
  std::vector<ZoneOutcome> outcomes;
  for (const std::string& z : *zones) {
    outcomes.push_back(evaluate_zone(*store, z, *choice, *job, requested, *shiftings));
  }
  return report_outcomes("carbonclock shift", *job, requested, *shiftings, outcomes, a.format);
}

struct WhatifArgs {
  SeriesArgs series;
  std::string run_dir, zones, flex_start, pause_resume, format = "text";
  std::optional<std::string> zone, region;
};

int run_whatif(const WhatifArgs& a) {
  auto choice = parse_series_args(a.series);
  if (!choice) {
    print_error(choice.error().message());
    return 2;
  }
  if (a.format != "text" && a.format != "json") {
    print_error(fmt::format("unknown --format '{}' (text or json)", a.format));
    return 2;
  }
  auto shiftings = shiftings_of(a.flex_start, a.pause_resume);
  if (!shiftings) {
    print_error(shiftings.error().message());
    return 2;
  }
  auto zones = zone_list(a.region, a.zone, a.zones, false);
  if (!zones) {
    print_error(zones.error().message());
    return 2;
  }
  SysTime run_start;
  auto job = load_measured(a.run_dir, choice->slot, &run_start);
  if (!job) {
    print_error(job.error().message());
    return 1;
  }
  auto store = GridStore::open_or_default(a.series.db);
  if (!store) {
    print_error(store.error().message());
    return 1;
  }
  SysTime requested = floor_to(run_start, choice->slot);
  std::vector<ZoneOutcome> outcomes;
  for (const std::string& z : *zones) {
    outcomes.push_back(evaluate_zone(*store, z, *choice, *job, requested, *shiftings));
  }
  return report_outcomes(fmt::format("carbonclock whatif {} (run {})", a.run_dir, job->name), *job,
                         requested, *shiftings, outcomes, a.format);
}

// ---- sweep ------------------------------------------------------------------------------

struct SweepArgs {
  SeriesArgs series;
  std::string jobs = "paper", zones, windows = "6h,12h,18h,24h,25%,50%,75%,100%", starts_file,
              every, from, to, format = "csv", output;
  std::optional<int> starts_per_month;
  bool by_zone = false;
};

/// Zones of `all`: every zone with actuals of the chosen signal (default average).
Result<std::vector<std::string>> all_zones(GridStore& store, std::optional<Signal> signal) {
  auto list = store.list();
  if (!list) return list.error();
  Signal want = signal.value_or(Signal::kAverage);
  std::set<std::string> zones;
  for (const StoredSeriesInfo& i : *list) {
    if (!i.issued_at && i.signal == want) zones.insert(i.zone);
  }
  if (zones.empty()) return make_error("the store holds no {} series", to_string(want));
  return std::vector<std::string>(zones.begin(), zones.end());
}

/// A terminal progress bar on stderr.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  void update(size_t done, size_t total) {
    if (!enabled_) return;
    constexpr size_t kWidth = 40;
    size_t filled = total ? done * kWidth / total : kWidth;
    fmt::print(stderr, "\rsweep [{}{}] {}/{} job×zone tasks", std::string(filled, '#'),
               std::string(kWidth - filled, '.'), done, total);
    if (done == total) fmt::print(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
};

int run_sweep_command(const SweepArgs& a) {
  auto choice = parse_series_args(a.series);
  if (!choice) {
    print_error(choice.error().message());
    return 2;
  }
  if (a.format != "csv" && a.format != "md" && a.format != "json") {
    print_error(fmt::format("unknown --format '{}' (csv, md or json)", a.format));
    return 2;
  }
  int start_modes =
      (a.starts_file.empty() ? 0 : 1) + (a.every.empty() ? 0 : 1) + (a.starts_per_month ? 1 : 0);
  if (start_modes > 1) {
    print_error("give at most one of --starts FILE, --starts-per-month K and --every STEP");
    return 2;
  }
  if (a.starts_per_month && *a.starts_per_month <= 0) {
    print_error("--starts-per-month must be positive");
    return 2;
  }
  std::vector<SweepJob> jobs;
  if (a.jobs == "paper") {
    jobs = paper_jobs();
  } else {
    auto content = read_file(a.jobs);
    if (!content) {
      print_error(content.error().message());
      return 2;
    }
    auto parsed = parse_jobs_csv(*content, a.jobs);
    if (!parsed) {
      print_error(parsed.error().message());
      return 2;
    }
    jobs = std::move(*parsed);
  }
  auto windows = parse_windows(a.windows);
  if (!windows) {
    print_error(windows.error().with_context("--windows").message());
    return 2;
  }
  SysTime from = SysTime{}, to = SysTime{} + std::chrono::hours(24 * 365 * 200);
  if (!a.from.empty()) {
    auto t = parse_utc(a.from);
    if (!t) {
      print_error(t.error().with_context("--from").message());
      return 2;
    }
    from = *t;
  }
  if (!a.to.empty()) {
    auto t = parse_utc(a.to);
    if (!t) {
      print_error(t.error().with_context("--to").message());
      return 2;
    }
    to = *t;
  }
  std::optional<std::vector<SysTime>> fixed_starts;
  std::optional<Nanos> every;
  if (!a.starts_file.empty()) {
    auto content = read_file(a.starts_file);
    if (!content) {
      print_error(content.error().message());
      return 2;
    }
    auto s = parse_starts(*content, a.starts_file);
    if (!s) {
      print_error(s.error().message());
      return 2;
    }
    fixed_starts = std::move(*s);
  } else if (!a.every.empty()) {
    auto d = parse_duration(a.every);
    if (!d || *d <= Nanos(0)) {
      print_error(fmt::format("--every: invalid step '{}'", a.every));
      return 2;
    }
    every = *d;
  }
  auto store = GridStore::open_or_default(a.series.db);
  if (!store) {
    print_error(store.error().message());
    return 1;
  }
  std::vector<std::string> zone_names;
  if (a.zones == "all") {
    auto all = all_zones(*store, choice->signal);
    if (!all) {
      print_error(all.error().message());
      return 1;
    }
    zone_names = std::move(*all);
  } else {
    for (const std::string& z : split_list(a.zones)) {
      auto sel = select_zone(std::nullopt, z);
      if (!sel) {
        print_error(sel.error().message());
        return 2;
      }
      zone_names.push_back(sel->zone);
    }
  }
  if (zone_names.empty()) {
    print_error("give --zones Z1,Z2,... or --zones all");
    return 2;
  }
  std::vector<SweepZone> zones;
  SweepLabels labels;
  labels.slot = choice->slot;
  for (const ShiftWindow& w : *windows) labels.windows.push_back(w.label);
  for (const SweepJob& j : jobs) labels.jobs.push_back(j.name);
  for (const std::string& name : zone_names) {
    auto in = load_zone(*store, name, *choice, from, to);
    if (!in) {
      print_error(in.error().message());
      return 1;
    }
    SweepZone zone{std::move(*in), {}};
    SysTime lo = std::max(from, zone.intensity.first_slot_utc);
    SysTime hi = std::min(to, zone.intensity.end_utc());
    if (fixed_starts) {
      zone.starts = *fixed_starts;
    } else if (every) {
      zone.starts = starts_every(lo, hi, *every);
    } else {
      zone.starts = starts_per_month(lo, hi, a.starts_per_month.value_or(5));
    }
    labels.zones.push_back(zone.intensity.zone);
    labels.zone_series.push_back(describe(zone.intensity));
    labels.zone_starts.push_back(zone.starts);
    zones.push_back(std::move(zone));
  }
  for (const std::string& s : labels.zone_series) fmt::print(stderr, "sweep: using {}\n", s);

  SweepSummary summary(jobs.size(), zones.size(), windows->size());
  std::vector<std::optional<SweepCell>> cells(jobs.size() * zones.size());
  ProgressBar bar(isatty(STDERR_FILENO) && jobs.size() * zones.size() > 1);
  SweepOptions options;
  options.slot = choice->slot;
  options.progress = [&](size_t done, size_t total) { bar.update(done, total); };
  const bool keep_cells = a.format != "md";
  Status status = run_sweep(jobs, zones, *windows, options, [&](SweepCell&& cell) {
    summary.add(cell);
    if (keep_cells) cells[cell.job * zones.size() + cell.zone] = std::move(cell);
  });
  if (!status) {
    print_error(status.error().message());
    return 1;
  }
  fmt::print(stderr,
             "sweep: {} (job, zone, start, window) combinations computed, {} skipped (window "
             "outside the data), {} skipped (gap in the window)\n",
             summary.rows_ok, summary.skipped_outside, summary.skipped_gap);
  std::string out;
  if (a.format == "md") {
    out = sweep_markdown(summary, labels, a.by_zone);
  } else if (a.format == "csv") {
    out = sweep_csv_header();
    for (const auto& cell : cells) append_sweep_csv(*cell, labels, out);
  } else {
    ojson j;
    auto& series = j["series"] = ojson::array();
    for (const SweepZone& z : zones) {
      series.push_back({{"zone", z.intensity.zone},
                        {"signal", to_string(z.intensity.signal)},
                        {"factor", to_string(z.intensity.factor)},
                        {"source", z.intensity.source}});
    }
    j["slot_s"] = to_seconds(choice->slot);
    j["skipped_outside_data"] = summary.skipped_outside;
    j["skipped_gap"] = summary.skipped_gap;
    auto& rows = j["rows"] = ojson::array();
    for (const auto& cell : cells) append_sweep_json(*cell, labels, rows);
    out = dump_json(std::move(j), 2) + "\n";
  }
  if (!a.output.empty()) {
    if (Status s = write_file_atomic(a.output, out); !s) {
      print_error(s.error().message());
      return 1;
    }
    return 0;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

void register_shift_commands(CLI::App& app, int& exit_code) {
  auto sa = std::make_shared<ShiftArgs>();
  auto* shift = app.add_subcommand(
      "shift",
      "Plan one job with Flexible Start or Pause and Resume (oracle: the stored series is the "
      "future), in one zone or several (spatial / spatio-temporal)");
  shift->add_option("--zone", sa->zone, "Grid zone of the job");
  shift->add_option("--region", sa->region, "Cloud region (instead of --zone)");
  shift->add_option("--zones", sa->zones, "Other zones to compare, comma-separated");
  shift->add_option("--start", sa->start, "Requested start (UTC), e.g. 2023-03-01T00:00Z")
      ->required();
  shift->add_option("--duration", sa->duration, "Flat profile: job duration, e.g. 6h");
  shift->add_option("--energy-kwh", sa->energy_kwh, "Flat profile: job energy in kWh");
  shift->add_option("--profile", sa->profile, "Measured profile: a run directory (run.json)");
  shift->add_option("--flex-start", sa->flex_start, "Flexible Start window: 6h or 25%");
  shift->add_option("--pause-resume", sa->pause_resume, "Pause and Resume window: 6h or 25%");
  shift->add_option("--format", sa->format, "text | json");
  add_series_options(shift, sa->series);
  shift->callback([sa, &exit_code] { exit_code = run_shift(*sa); });

  auto wa = std::make_shared<WhatifArgs>();
  auto* whatif = app.add_subcommand(
      "whatif",
      "Replay a measured run in other zones and with shifting, using its measured profile");
  whatif->add_option("run_dir", wa->run_dir, "Run directory (run.json)")->required();
  whatif->add_option("--zone", wa->zone, "Zone the run ran in");
  whatif->add_option("--region", wa->region, "Cloud region the run ran in (instead of --zone)");
  whatif->add_option("--zones", wa->zones, "Zones to replay it in, comma-separated");
  whatif->add_option("--flex-start", wa->flex_start, "Also shift with Flexible Start: 6h or 25%");
  whatif->add_option("--pause-resume", wa->pause_resume,
                     "Also shift with Pause and Resume: 6h or 25%");
  whatif->add_option("--format", wa->format, "text | json");
  add_series_options(whatif, wa->series);
  whatif->callback([wa, &exit_code] { exit_code = run_whatif(*wa); });

  auto wp = std::make_shared<SweepArgs>();
  auto* sweep = app.add_subcommand(
      "sweep",
      "The paper's evaluation: jobs × zones × requested starts × windows × both algorithms "
      "(flat profiles); CSV rows, Markdown tables or JSON");
  sweep->add_option("--jobs", wp->jobs,
                    "paper (Table 2's eleven jobs) or a CSV name,duration_h,energy_kwh");
  sweep->add_option("--zones", wp->zones, "Zones, comma-separated, or all")->required();
  sweep->add_option("--windows", wp->windows,
                    "Windows, comma-separated (default 6h,12h,18h,24h,25%,50%,75%,100%)");
  sweep->add_option("--starts", wp->starts_file, "File of requested starts, one UTC time a line");
  sweep->add_option("--starts-per-month", wp->starts_per_month,
                    "K starts a month: evenly spaced days, rotating clock times (default 5)");
  sweep->add_option("--every", wp->every, "A start every STEP, e.g. 1h");
  sweep->add_option("--from", wp->from, "First requested start (default: each zone's data)");
  sweep->add_option("--to", wp->to, "End of the data used (exclusive)");
  sweep->add_option("--format", wp->format, "csv | md | json (default csv)");
  sweep->add_flag("--by-zone", wp->by_zone, "md: add a per-zone breakdown");
  sweep->add_option("-o,--output", wp->output, "Write to FILE (atomically) instead of stdout");
  add_series_options(sweep, wp->series);
  sweep->callback([wp, &exit_code] { exit_code = run_sweep_command(*wp); });
}

}  // namespace carbonclock::cli

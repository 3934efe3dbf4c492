#include "accounting/accounting.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "grid/store.h"
#include "regions/catalogue.h"
#include "regions/embedded_profile.h"

namespace carbonclock {
namespace {

constexpr double kJoulesPerKwh = 3.6e6;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Looks up stored actual series; one listing of the store serves many reads.
class StoredLookup {
 public:
  explicit StoredLookup(GridStore* store) : store_(store) {
    if (!store_) return;
    auto listed = store_->list();
    if (listed) {
      listed_ = std::move(*listed);
    } else {
      error_ = listed.error().message();
    }
  }

  /// The stored actuals for the first of `zones` holding `signal`, restricted to [from, to);
  /// nullopt when none is stored or none overlaps the interval.
  std::optional<IntensitySeries> read(const std::vector<std::string>& zones, Signal signal,
                                      SysTime from, SysTime to) {
    for (const auto& zone : zones) {
      if (zone.empty()) continue;
      for (const auto& info : listed_) {
        if (info.issued_at || info.signal != signal || !iequals(info.zone, zone)) continue;
        auto series = store_->read({info.zone, signal, std::nullopt}, from, to);
        if (series && !series->points.empty()) return std::move(*series);
        break;
      }
    }
    return std::nullopt;
  }
  const std::string& error() const { return error_; }

 private:
  GridStore* store_;
  std::vector<StoredSeriesInfo> listed_;
  std::string error_;
};

SysTime interval_end(const std::vector<EnergyInterval>& intervals, SysTime fallback) {
  SysTime end = fallback;
  for (const auto& e : intervals) end = std::max(end, e.start + e.duration);
  return end;
}

std::vector<EnergyInterval> shifted(const std::vector<EnergyInterval>& intervals, Nanos by) {
  std::vector<EnergyInterval> out = intervals;
  for (auto& e : out) e.start += by;
  return out;
}

std::string pct(double share) { return fmt::format("{:.1f}%", 100 * share); }

}  // namespace

Status validate_pue(double pue) {
  if (!std::isfinite(pue) || pue < 0) {
    return make_error("--pue {} is not a valid PUE: it must be a number from 1 to {}", pue,
                      kMaxPue);
  }
  if (pue < 1) {
    return make_error(
        "--pue {} is below 1: a facility cannot use less energy than its IT equipment "
        "(use 1.0 when unknown)",
        pue);
  }
  if (pue > kMaxPue) {
    return make_error(
        "--pue {} is absurd: above {} (typical values are 1.1 for hyperscale and about 1.6 "
        "on average)",
        pue, kMaxPue);
  }
  return {};
}

std::string FunctionalUnit::text() const {
  if (count == 1) return unit;
  return fmt::format("{:g} {}", count, unit);
}

Result<FunctionalUnit> parse_functional_unit(std::string_view text) {
  std::string t = trim(text);
  if (t.empty()) return make_error("--per: empty functional unit (e.g. '1000 inferences')");
  FunctionalUnit u;
  size_t space = t.find_first_of(" \t");
  std::string first = t.substr(0, space);
  char* end = nullptr;
  double count = std::strtod(first.c_str(), &end);
  if (end != first.c_str() && *end == '\0') {
    if (!(count > 0) || !std::isfinite(count)) {
      return make_error("--per '{}': the count must be a positive number", t);
    }
    u.count = count;
    u.unit = space == std::string::npos ? "" : trim(t.substr(space));
  } else {
    u.unit = t;
  }
  if (u.unit.empty()) {
    return make_error("--per '{}': name the unit too, e.g. '{} inferences'", t, first);
  }
  for (char c : u.unit) {
    if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ' ')) {
      return make_error("--per '{}': the unit may hold letters, '-', '_' and spaces only", t);
    }
  }
  return u;
}

double SignalAccount::mean_g_per_kwh() const {
  double priced_j = stored_energy_j + embedded_energy_j;
  return priced_j > 0 ? it_g / (priced_j / kJoulesPerKwh) : 0;
}

double CarbonAccount::sci_g_per_unit() const {
  double r = unit ? unit->units_done() : 1.0;
  return r > 0 ? total_g() / r : 0;
}

std::vector<EnergyInterval> run_energy_intervals(const RunRecord& run) {
  std::vector<EnergyInterval> out;
  for (const auto& b : run.timeline.buckets) {
    SysTime start = std::max(b.start_utc, run.start_utc);
    SysTime end = std::min(b.start_utc + run.timeline.bucket, run.end_utc);
    if (end < start) end = start;
    double energy_j = 0;
    for (double e : b.energy_j) energy_j += e;
    out.push_back({start, end - start, energy_j});
  }
  return out;
}

SignalAccount price_energy(const std::vector<EnergyInterval>& intervals,
                           const IntensitySeries& stored, const IntensitySeries* fallback,
                           double pue) {
  SignalAccount a;
  a.signal = stored.signal;
  a.factor = stored.factor;
  a.source = stored.points.empty() ? "" : stored.source;
  if (stored.points.empty() && fallback) a.factor = fallback->factor;
  if (intervals.empty()) return a;
  SysTime from = intervals.front().start;
  for (const auto& e : intervals) from = std::min(from, e.start);
  SysTime to = interval_end(intervals, from);
  if (to <= from) to = from + std::chrono::seconds(1);

  // The fallback's points restricted to the stored series' gaps.
  IntensitySeries fill;
  if (fallback) {
    fill.zone = fallback->zone;
    fill.signal = fallback->signal;
    fill.factor = fallback->factor;
    fill.source = fallback->source;
    for (const auto& gap : coverage(stored, from, to).gaps) {
      for (const auto& p : fallback->points) {
        SysTime s = std::max(p.start, gap.start), e = std::min(p.end(), gap.end());
        if (s < e) fill.points.push_back({s, e - s, p.g_per_kwh, p.estimated});
      }
    }
  }
  for (const auto& e : intervals) {
    a.energy_j += e.energy_j;
    std::span<const EnergyInterval> one(&e, 1);
    EmissionsIntegral s = integrate(stored, one);
    EmissionsIntegral f = integrate(fill, one);
    a.stored_energy_j += s.energy_matched_j;
    a.embedded_energy_j += f.energy_matched_j;
    a.estimated_energy_j += s.estimated_energy_j + f.estimated_energy_j;
    a.it_g += s.emissions_g + f.emissions_g;
    a.bucket_g.push_back((s.emissions_g + f.emissions_g) * pue);
  }
  a.unpriced_energy_j = std::max(a.energy_j - a.stored_energy_j - a.embedded_energy_j, 0.0);
  // Shares of tiny residues from floating point are noise.
  if (a.unpriced_energy_j < 1e-9 * std::max(a.energy_j, 1.0)) a.unpriced_energy_j = 0;
  a.operational_g = a.it_g * pue;
  if (a.embedded_energy_j > 0 && fallback) a.fallback_source = fallback->source;

  for (const auto& p : slice(stored, from, to).points) {
    a.intensity.push_back(p);
    a.intensity_embedded.push_back(false);
  }
  for (const auto& p : fill.points) {
    a.intensity.push_back(p);
    a.intensity_embedded.push_back(true);
  }
  std::vector<size_t> order(a.intensity.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t x, size_t y) { return a.intensity[x].start < a.intensity[y].start; });
  std::vector<IntensityPoint> points;
  std::vector<bool> embedded;
  for (size_t i : order) {
    points.push_back(a.intensity[i]);
    embedded.push_back(a.intensity_embedded[i]);
  }
  a.intensity = std::move(points);
  a.intensity_embedded = std::move(embedded);
  return a;
}

Result<CarbonAccount> account_run(const RunRecord& run, const AccountingInputs& in,
                                  GridStore* store) {
  if (auto s = validate_pue(in.pue); !s) return s.error();
  if (auto s = validate(in.embodied); !s) return s.error();
  CarbonAccount acc;
  acc.zone = in.zone;
  acc.region = in.region;
  acc.zone_origin = in.zone_origin;
  acc.pue = in.pue;
  acc.pue_origin = in.pue_origin;
  acc.unit = in.unit;
  acc.energy_j = run.timeline.total_j();
  if (in.unit && in.unit->work && !(*in.unit->work > 0)) {
    return make_error("--work {} must be a positive amount of {}", *in.unit->work, in.unit->unit);
  }

  const auto intervals = run_energy_intervals(run);
  const SysTime from = run.start_utc;
  const SysTime to = std::max(interval_end(intervals, run.end_utc), from + std::chrono::seconds(1));

  std::optional<IntensitySeries> profile;
  if (auto p = embedded_profile_series(in.zone, from, to); p) profile = std::move(*p);
  StoredLookup lookup(store);
  if (!lookup.error().empty()) acc.notes.push_back("grid store unreadable: " + lookup.error());
  if (!store) acc.notes.push_back("no grid store: only the embedded typical profiles were used");

  auto marginal = lookup.read({in.zone, in.watttime_region}, Signal::kMarginal, from, to);
  auto average = lookup.read({in.zone}, Signal::kAverage, from, to);
  const IntensitySeries* fallback = profile ? &*profile : nullptr;
  if (marginal) acc.signals.push_back(price_energy(intervals, *marginal, fallback, in.pue));
  if (average || profile) {
    IntensitySeries empty{in.zone, Signal::kAverage, Factor::kLifecycle, "", std::nullopt, {}};
    acc.signals.push_back(price_energy(intervals, average ? *average : empty, fallback, in.pue));
  }
  if (acc.signals.empty()) {
    return make_error(
        "no carbon-intensity data for zone '{}' over {} .. {}: nothing stored{} and no embedded "
        "profile for it; import data with `carbonclock grid import`, or pick a catalogued zone "
        "(`carbonclock regions`)",
        in.zone, format_utc(from), format_utc(to), store ? "" : " (no grid store)");
  }

  if (in.signal) {
    auto it = std::find_if(acc.signals.begin(), acc.signals.end(),
                           [&](const SignalAccount& s) { return s.signal == *in.signal; });
    if (it == acc.signals.end()) {
      return make_error(
          "--signal {}: no {} data stored for zone '{}'{} over the run ({} .. {}); import some "
          "with `carbonclock grid import` or use --signal average",
          to_string(*in.signal), to_string(*in.signal), in.zone,
          in.watttime_region.empty() ? "" : " or WattTime region '" + in.watttime_region + "'",
          format_utc(from), format_utc(to));
    }
    acc.headline = static_cast<size_t>(it - acc.signals.begin());
    acc.headline_reason = fmt::format("{} signal, as asked with --signal", to_string(*in.signal));
  } else if (marginal) {
    acc.headline = 0;
    acc.headline_reason =
        "marginal signal: the emissions the job's extra load caused, as in Dodge et al. 2022 "
        "(the average result is shown beside it)";
  } else {
    acc.headline = 0;
    acc.headline_reason = fmt::format(
        "average signal: no marginal data stored for zone '{}' over the run (import WattTime "
        "data to get it)",
        in.zone);
  }

  for (const auto& s : acc.signals) {
    if (s.energy_j > 0 && s.unpriced_energy_j >= s.energy_j) {
      return make_error(
          "no {} intensity covers any of the run's time ({} .. {}) for zone '{}'; nothing can be "
          "priced",
          to_string(s.signal), format_utc(from), format_utc(to), in.zone);
    }
    std::string what = to_string(s.signal);
    if (s.stored_energy_j > 0) {
      acc.notes.push_back(fmt::format("{}: {} of the energy priced with stored data ({}, {})", what,
                                      pct(s.stored_share()), s.source, to_string(s.factor)));
    }
    if (s.embedded_energy_j > 0) {
      acc.notes.push_back(fmt::format(
          "{}: {} of the energy priced with the {}{}", what, pct(s.embedded_share()),
          s.fallback_source,
          s.signal == Signal::kMarginal ? " in the gaps of the marginal data (an average value)"
          : s.stored_energy_j > 0       ? " in the gaps of the stored data"
                                        : ": no stored data for this zone and time"));
    }
    if (s.unpriced_energy_j > 0) {
      acc.notes.push_back(fmt::format(
          "{}: {} of the energy fell where no intensity is known and is NOT counted (a lower "
          "bound)",
          what, pct(s.unpriced_share())));
    }
  }
  acc.embodied = embodied_for_run(run, in.embodied);
  return acc;
}

Result<OpenedStore> open_grid_store(const std::string& db_option, bool create) {
  OpenedStore out;
  if (!db_option.empty()) {
    out.path = db_option;
  } else {
    auto p = GridStore::default_path();
    if (!p) {
      out.note = "no grid store (" + p.error().message() + ")";
      return out;
    }
    out.path = *p;
  }
  std::error_code ec;
  if (!create && !std::filesystem::exists(out.path, ec)) {
    out.note = "no grid store at " + out.path.string();
    return out;
  }
  auto store = GridStore::open(out.path);
  if (!store) return store.error();
  out.store.emplace(std::move(*store));
  return out;
}

Result<AccountingInputs> resolve_inputs(const AccountingChoices& c, const RunRecord* run) {
  AccountingInputs in;
  std::optional<std::string> region = c.region, zone = c.zone;
  if (region || zone) {
    in.zone_origin = region && zone ? "--region and --zone" : region ? "--region" : "--zone";
  } else if (run && (run->region || run->zone)) {
    region = run->region;
    zone = run->region ? std::nullopt : run->zone;
    in.zone_origin = "run.json (chosen at run time)";
  } else if (c.env_region || c.env_zone) {
    region = c.env_region;
    zone = c.env_region ? std::nullopt : c.env_zone;
    in.zone_origin = c.env_region ? "$CARBONCLOCK_REGION" : "$CARBONCLOCK_ZONE";
  } else if (c.config_region || c.config_zone) {
    region = c.config_region;
    zone = c.config_region ? std::nullopt : c.config_zone;
    in.zone_origin = fmt::format("{} in {}", c.config_region ? "region" : "zone", c.config_origin);
  } else {
    region = kDefaultRegion;
    in.zone_origin = fmt::format(
        "default region {} (none given: pass --region or --zone, set CARBONCLOCK_REGION, or "
        "put `region = ...` in the config file)",
        kDefaultRegion);
  }
  auto sel = select_zone(region, zone);
  if (!sel) return sel.error();
  in.zone = sel->zone;
  in.watttime_region = sel->watttime_region;
  if (sel->region) in.region = sel->region->name;

  if (c.pue) {
    in.pue = *c.pue;
    in.pue_origin = "--pue";
  } else if (run && run->pue) {
    in.pue = *run->pue;
    in.pue_origin = "run.json";
  } else {
    in.pue = 1.0;
    in.pue_origin = "default: no PUE given";
  }
  if (auto s = validate_pue(in.pue); !s) return s.error();
  if (c.signal) {
    auto sig = parse_signal(*c.signal);
    if (!sig) return sig.error().with_context("--signal");
    in.signal = *sig;
  }
  std::optional<std::string> per = c.per;
  std::optional<double> work = c.work;
  if (!per && run && run->per) {
    per = run->per;
    if (!work) work = run->work;
  }
  if (work && !per) return make_error("--work needs --per to say what unit it counts");
  if (per) {
    auto u = parse_functional_unit(*per);
    if (!u) return u.error();
    if (work && !(*work > 0 && std::isfinite(*work))) {
      return make_error("--work {} must be a positive amount of {}", *work, u->unit);
    }
    u->work = work;
    in.unit = *u;
  }
  if (auto s = validate(c.embodied); !s) return s.error();
  in.embodied = c.embodied;
  return in;
}

std::vector<ZoneEmissions> emissions_by_zone(const RunRecord& run, double pue, GridStore* store) {
  const auto intervals = run_energy_intervals(run);
  const SysTime from = run.start_utc;
  const SysTime to = std::max(interval_end(intervals, run.end_utc), from + std::chrono::seconds(1));
  StoredLookup lookup(store);
  std::vector<ZoneEmissions> out;
  for (const auto& z : grid_zones()) {
    std::optional<IntensitySeries> profile;
    if (auto p = embedded_profile_series(z.id, from, to); p) profile = std::move(*p);
    auto average = lookup.read({z.id}, Signal::kAverage, from, to);
    if (!average && !profile) continue;
    IntensitySeries empty{z.id, Signal::kAverage, Factor::kLifecycle, "", std::nullopt, {}};
    auto a =
        price_energy(intervals, average ? *average : empty, profile ? &*profile : nullptr, pue);
    ZoneEmissions e{z.id, "", a.operational_g, a.stored_share()};
    for (const auto& r : cloud_regions()) {
      if (r.zone == z.id) {
        e.region = fmt::format("{}:{}", to_string(r.provider), r.name);
        break;
      }
    }
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const ZoneEmissions& a, const ZoneEmissions& b) {
    return a.operational_g < b.operational_g;
  });
  return out;
}

std::vector<double> emissions_by_start_hour(const RunRecord& run, const std::string& zone,
                                            Signal signal, const std::string& watttime_region,
                                            double pue, GridStore* store) {
  const auto intervals = run_energy_intervals(run);
  const auto day = std::chrono::floor<std::chrono::days>(run.start_utc);
  StoredLookup lookup(store);
  std::vector<double> out;
  for (int h = 0; h < 24; ++h) {
    Nanos by = (SysTime(day) + std::chrono::hours(h)) - run.start_utc;
    auto moved = shifted(intervals, by);
    SysTime from = run.start_utc + by;
    SysTime to = std::max(interval_end(moved, run.end_utc + by), from + std::chrono::seconds(1));
    std::optional<IntensitySeries> profile;
    if (auto p = embedded_profile_series(zone, from, to); p) profile = std::move(*p);
    auto stored =
        lookup.read({zone, signal == Signal::kMarginal ? watttime_region : ""}, signal, from, to);
    IntensitySeries empty{zone, signal, Factor::kLifecycle, "", std::nullopt, {}};
    auto a = price_energy(moved, stored ? *stored : empty, profile ? &*profile : nullptr, pue);
    out.push_back(a.operational_g);
  }
  return out;
}

}  // namespace carbonclock

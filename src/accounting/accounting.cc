#include "accounting/accounting.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "common/strings.h"
#include "common/units.h"
#include "regions/catalogue.h"

namespace carbonclock {
namespace {

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
  std::string t(trim(text));
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
    u.unit = space == std::string::npos ? "" : std::string(trim(t.substr(space)));
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
  double priced_j = energy_j - unpriced_energy_j;
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

std::string SignalAccount::signal_label() const {
  return mix.signal.empty() ? to_string(signal) : mix.signal;
}

std::string SignalAccount::factor_label() const {
  return mix.factor.empty() ? to_string(factor) : mix.factor;
}

SignalAccount account_signal(const std::vector<EnergyInterval>& intervals,
                             const IntensityTimeline& timeline, double pue) {
  SignalAccount a;
  a.signal = timeline.signal;
  PricedEnergy priced = price(intervals, timeline);
  a.energy_j = priced.energy_j;
  a.unpriced_energy_j = priced.unpriced_energy_j;
  a.it_g = priced.it_g;
  a.operational_g = priced.it_g * pue;
  a.stored_energy_j = priced.energy_of(IntensityBasis::kActual);
  a.embedded_energy_j = priced.energy_of(IntensityBasis::kEmbedded);
  a.mix = priced.summary();
  double most = -1;
  for (const auto& part : priced.parts) {
    a.estimated_energy_j += part.provenance.basis == IntensityBasis::kEmbedded
                                ? part.energy_j
                                : part.estimated_energy_j;
    if (part.energy_j > most) {
      most = part.energy_j;
      a.factor = part.provenance.factor;
    }
    std::string& label =
        part.provenance.basis == IntensityBasis::kEmbedded ? a.fallback_source : a.source;
    if (label.find(part.provenance.source) == std::string::npos) {
      label += (label.empty() ? "" : ", ") + part.provenance.source;
    }
  }
  if (priced.parts.empty() && !timeline.provenances.empty()) {
    a.factor = timeline.provenances.front().factor;
  }
  a.parts = std::move(priced.parts);
  for (double g : priced.interval_it_g) a.bucket_g.push_back(g * pue);
  for (size_t i = 0; i < timeline.points.size(); ++i) {
    a.intensity.push_back(timeline.points[i]);
    a.intensity_embedded.push_back(timeline.provenances[timeline.provenance[i]].basis ==
                                   IntensityBasis::kEmbedded);
  }
  a.notes = timeline.notes;
  return a;
}

Result<CarbonAccount> account_run(const RunRecord& run, const AccountingInputs& in,
                                  IntensityProvider& provider) {
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
  if (provider.store() == nullptr) {
    acc.notes.push_back("no grid store: only the embedded typical profiles were used");
  }

  const bool marginal = provider.has_stored(in.selection, Signal::kMarginal);
  for (Signal signal : {Signal::kMarginal, Signal::kAverage}) {
    if (signal == Signal::kMarginal && !marginal) continue;
    auto tl = provider.actuals(in.selection, signal, in.factor, from, to, Fallback::kEmbedded);
    if (!tl) return tl.error();
    if (tl->points.empty()) continue;
    // Marginal data stored for other times only: the run has no marginal number.
    if (signal == Signal::kMarginal && !tl->has_stored()) continue;
    acc.signals.push_back(account_signal(intervals, *tl, in.pue));
  }
  if (acc.signals.empty()) {
    return make_error(
        ErrorCode::kNotFound,
        "no carbon-intensity data for zone '{}' over {} .. {}: nothing stored{} and no embedded "
        "profile for it; import data with `carbonclock grid import`, or pick a catalogued zone "
        "(`carbonclock regions`)",
        in.zone, format_utc(from), format_utc(to), provider.store() ? "" : " (no grid store)");
  }

  const bool have_marginal = acc.signals.front().signal == Signal::kMarginal;
  if (in.signal) {
    auto it = std::find_if(acc.signals.begin(), acc.signals.end(),
                           [&](const SignalAccount& s) { return s.signal == *in.signal; });
    if (it == acc.signals.end()) {
      return make_error(
          ErrorCode::kNotFound,
          "--signal {}: no {} data stored for zone '{}' (ids looked up: {}) over the run ({} .. "
          "{}); import some with `carbonclock grid import` or use --signal average",
          to_string(*in.signal), to_string(*in.signal), in.zone,
          fmt::format("{}", fmt::join(in.selection.store_ids, ", ")), format_utc(from),
          format_utc(to));
    }
    acc.headline = static_cast<size_t>(it - acc.signals.begin());
    acc.headline_reason = fmt::format("{} signal, as asked with --signal", to_string(*in.signal));
  } else if (have_marginal) {
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
          ErrorCode::kNotFound,
          "no {} intensity covers any of the run's time ({} .. {}) for zone '{}'; nothing can be "
          "priced",
          to_string(s.signal), format_utc(from), format_utc(to), in.zone);
    }
    std::string what = to_string(s.signal);
    for (const auto& part : s.parts) {
      const Provenance& p = part.provenance;
      double share = s.energy_j > 0 ? part.energy_j / s.energy_j : 0;
      if (p.basis == IntensityBasis::kEmbedded) {
        acc.notes.push_back(fmt::format(
            "{}: {} of the energy priced with the {}{}", what, pct(share), p.source,
            s.signal == Signal::kMarginal ? " in the gaps of the marginal data (an average value)"
            : s.stored_energy_j > 0       ? " in the gaps of the stored data"
                                          : ": no stored data for this zone and time"));
      } else {
        acc.notes.push_back(
            fmt::format("{}: {} of the energy priced with stored data ({}, {}/{}{})", what,
                        pct(share), p.source, to_string(p.signal), to_string(p.factor),
                        p.zone == in.zone ? "" : ", stored as " + p.zone));
      }
    }
    if (s.mix.mixed()) {
      acc.notes.push_back(
          fmt::format("{}: the number mixes {}{}{}: see the per-source breakdown", what,
                      s.mix.signal == "mixed" ? "marginal and average signals" : "",
                      s.mix.signal == "mixed" && s.mix.factor == "mixed" ? " and " : "",
                      s.mix.factor == "mixed" ? "lifecycle and direct emission factors" : ""));
    }
    if (s.unpriced_energy_j > 0) {
      acc.notes.push_back(fmt::format(
          "{}: {} of the energy fell where no intensity is known and is NOT counted (a lower "
          "bound)",
          what, pct(s.unpriced_share())));
    }
    for (const auto& n : s.notes) acc.notes.push_back(what + ": " + n);
  }
  acc.embodied = embodied_for_run(run, in.embodied);
  return acc;
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
  } else if (c.defaults.env_region || c.defaults.env_zone) {
    region = c.defaults.env_region;
    zone = c.defaults.env_region ? std::nullopt : c.defaults.env_zone;
    in.zone_origin = c.defaults.env_region ? "$CARBONCLOCK_REGION" : "$CARBONCLOCK_ZONE";
  } else if (c.defaults.config_region || c.defaults.config_zone) {
    region = c.defaults.config_region;
    zone = c.defaults.config_region ? std::nullopt : c.defaults.config_zone;
    in.zone_origin = fmt::format("{} in {}", c.defaults.config_region ? "region" : "zone",
                                 c.defaults.config_origin);
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
  in.selection = *sel;
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
  if (c.factor) {
    auto factor = parse_factor(*c.factor);
    if (!factor) return factor.error().with_context("--factor");
    in.factor = *factor;
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

std::vector<ZoneEmissions> emissions_by_zone(const RunRecord& run, double pue,
                                             IntensityProvider& provider) {
  const auto intervals = run_energy_intervals(run);
  const SysTime from = run.start_utc;
  const SysTime to = std::max(interval_end(intervals, run.end_utc), from + std::chrono::seconds(1));
  std::vector<ZoneEmissions> out;
  for (const auto& z : grid_zones()) {
    auto sel = select_zone(std::nullopt, z.id);
    if (!sel) continue;
    auto tl = provider.actuals(*sel, Signal::kAverage, std::nullopt, from, to, Fallback::kEmbedded);
    if (!tl || tl->points.empty()) continue;
    SignalAccount a = account_signal(intervals, *tl, pue);
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

std::vector<double> emissions_by_start_hour(const RunRecord& run, const ZoneSelection& zone,
                                            Signal signal, double pue,
                                            IntensityProvider& provider) {
  const auto intervals = run_energy_intervals(run);
  const auto day = std::chrono::floor<std::chrono::days>(run.start_utc);
  std::vector<double> out;
  for (int h = 0; h < 24; ++h) {
    Nanos by = (SysTime(day) + std::chrono::hours(h)) - run.start_utc;
    auto moved = shifted(intervals, by);
    SysTime from = run.start_utc + by;
    SysTime to = std::max(interval_end(moved, run.end_utc + by), from + std::chrono::seconds(1));
    auto tl = provider.actuals(zone, signal, std::nullopt, from, to, Fallback::kEmbedded);
    out.push_back(tl ? account_signal(moved, *tl, pue).operational_g : 0.0);
  }
  return out;
}

}  // namespace carbonclock

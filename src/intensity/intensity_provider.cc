#include "intensity/intensity_provider.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/files.h"
#include "common/strings.h"
#include "forecasting/forecaster.h"
#include "intensity/intensity_file.h"
#include "regions/embedded_profile.h"

namespace carbonclock {
namespace {

/// Registers `p` in the timeline's provenances (once) and returns its index.
uint8_t index_of(std::vector<Provenance>& provenances, const Provenance& p) {
  auto it = std::find(provenances.begin(), provenances.end(), p);
  if (it != provenances.end()) return static_cast<uint8_t>(it - provenances.begin());
  provenances.push_back(p);
  return static_cast<uint8_t>(provenances.size() - 1);
}

/// stitch_timeline, with a note for each stretch where the embedded typical profile (an average
/// signal) stands in for marginal data.
IntensityTimeline stitch_noting_profile(const std::string& zone, Signal signal, SysTime from,
                                        SysTime to, const std::vector<TimelineSource>& sources) {
  IntensityTimeline tl = stitch_timeline(zone, signal, from, to, sources);
  if (signal == Signal::kMarginal) {
    for (const Provenance& p : tl.provenances) {
      if (p.basis != IntensityBasis::kEmbedded) continue;
      tl.notes.push_back(fmt::format(
          "the embedded typical profile is an average signal: it stands in for marginal data "
          "where none is stored for {}",
          zone));
    }
  }
  return tl;
}

/// Cuts a timeline into slots [first, end): a slot is covered when the timeline's points cover
/// all of it; its provenance is the one covering most of it.
SlottedIntensity to_slots(const IntensityTimeline& tl, Nanos slot, SysTime first, SysTime end) {
  SlottedIntensity out;
  out.zone = tl.zone;
  out.signal = tl.signal;
  out.slot = slot;
  out.first_slot_utc = first;
  out.provenances = tl.provenances;
  out.notes = tl.notes;
  if (!tl.provenances.empty()) {
    out.factor = tl.provenances.front().factor;
    out.source = tl.provenances.front().source;
  }
  auto n = static_cast<size_t>(std::max<int64_t>(0, (end - first) / slot));
  out.ug_per_kwh.assign(n, 0);
  out.covered.assign(n, 0);
  out.estimated.assign(n, 0);
  out.provenance.assign(n, 0);
  std::vector<double> weighted(n, 0.0);
  std::vector<int64_t> covered_ns(n, 0);
  std::vector<int64_t> best_ns(n, 0);
  for (size_t k = 0; k < tl.points.size(); ++k) {
    const IntensityPoint& p = tl.points[k];
    SysTime a = std::max(p.start, first);
    const SysTime stop = std::min(p.end(), end);
    while (a < stop) {
      auto i = static_cast<size_t>((floor_to(a, slot) - first) / slot);
      SysTime b = std::min(out.slot_start(i + 1), stop);
      int64_t ns = (b - a).count();
      weighted[i] += p.g_per_kwh * static_cast<double>(ns) / static_cast<double>(slot.count());
      covered_ns[i] += ns;
      if (p.estimated) out.estimated[i] = 1;
      if (ns > best_ns[i]) {
        best_ns[i] = ns;
        out.provenance[i] = tl.provenance[k];
      }
      a = b;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (covered_ns[i] != slot.count()) continue;
    out.covered[i] = 1;
    out.ug_per_kwh[i] = std::llround(weighted[i] * kMicrogramsPerGram);
  }
  // One source throughout (sweeps over stored data): no per-slot index needed.
  if (out.provenances.size() <= 1) {
    out.provenance.clear();
    out.provenance.shrink_to_fit();
  }
  out.index_coverage();
  return out;
}

SysTime ceil_to(SysTime t, Nanos step) {
  SysTime f = floor_to(t, step);
  return f < t ? f + step : f;
}

}  // namespace

/// The fitted own forecaster of one stored series, fed as new actuals are stored.
struct OwnForecastCache {
  SeriesQuery query;
  Forecaster forecaster;
};

IntensityProvider::IntensityProvider(GridStore* store) : IntensityProvider(store, Options{}) {}

IntensityProvider::IntensityProvider(GridStore* store, Options options)
    : store_(store), options_(std::move(options)) {}

IntensityProvider::IntensityProvider(IntensityProvider&&) noexcept = default;
IntensityProvider& IntensityProvider::operator=(IntensityProvider&&) noexcept = default;
IntensityProvider::~IntensityProvider() = default;

Result<const std::vector<StoredSeriesInfo>*> IntensityProvider::listing() {
  if (!listed_) {
    if (store_ == nullptr) {
      listed_.emplace();
    } else {
      auto l = store_->list();
      if (!l) return l.error();
      listed_ = std::move(*l);
    }
  }
  return &*listed_;
}

Status IntensityProvider::check_zone(const ZoneSelection& zone) {
  if (find_zone(zone.zone) || find_embedded_profile(zone.zone)) return {};
  auto listed = listing();
  if (!listed) return listed.error();
  for (const auto& info : **listed) {
    for (const auto& id : zone.store_ids) {
      if (iequals(info.zone, id)) return {};
    }
  }
  std::vector<std::string> ids;
  for (const auto& z : grid_zones()) ids.push_back(z.id);
  for (const auto& info : **listed) ids.push_back(info.zone);
  std::string close;
  for (const auto& c : closest_matches(zone.zone, ids, 5)) close += (close.empty() ? "" : ", ") + c;
  return make_error(ErrorCode::kNotFound,
                    "unknown zone '{}': not in the catalogue, no embedded profile and nothing "
                    "stored for it; closest: {} (`carbonclock regions`, `carbonclock grid list`)",
                    zone.given.empty() ? zone.zone : zone.given, close);
}

Result<std::vector<SeriesQuery>> IntensityProvider::stored_series(const ZoneSelection& zone,
                                                                  Signal signal,
                                                                  std::optional<Factor> factor,
                                                                  bool forecasts) {
  auto listed = listing();
  if (!listed) return listed.error();
  std::vector<Factor> factors = factor ? std::vector<Factor>{*factor}
                                       : std::vector<Factor>{Factor::kLifecycle, Factor::kDirect};
  std::vector<SeriesQuery> out;
  for (Factor f : factors) {
    for (const auto& id : zone.store_ids) {
      for (const auto& info : **listed) {
        if (info.signal != signal || info.factor != f || info.issued_at.has_value() != forecasts ||
            !iequals(info.zone, id)) {
          continue;
        }
        SeriesQuery q{info.zone, signal, f};
        bool seen = std::any_of(out.begin(), out.end(), [&](const SeriesQuery& o) {
          return o.zone == q.zone && o.factor == q.factor;
        });
        if (!seen) out.push_back(q);
      }
    }
  }
  return out;
}

bool IntensityProvider::has_stored(const ZoneSelection& zone, Signal signal) {
  auto s = stored_series(zone, signal, std::nullopt, false);
  return s && !s->empty();
}

Result<IntensityTimeline> IntensityProvider::actuals(const ZoneSelection& zone, Signal signal,
                                                     std::optional<Factor> factor, SysTime from,
                                                     SysTime to, Fallback fallback) {
  auto candidates = stored_series(zone, signal, factor, false);
  if (!candidates) return candidates.error();
  std::vector<std::pair<IntensitySeries, IntensityBasis>> series;
  for (const SeriesQuery& q : *candidates) {
    auto s = store_->read(q, from, to);
    if (!s) return s.error();
    if (!s->points.empty()) series.emplace_back(std::move(*s), IntensityBasis::kActual);
  }
  if (fallback == Fallback::kEmbedded) {
    if (auto profile = embedded_profile_series(zone.zone, from, to); profile) {
      series.emplace_back(std::move(*profile), IntensityBasis::kEmbedded);
    }
  }
  std::vector<TimelineSource> sources;
  for (const auto& [s, basis] : series) {
    sources.push_back(
        {&s, {basis, s.zone, s.signal, s.factor, s.source, std::nullopt, std::nullopt}});
  }
  return stitch_noting_profile(zone.zone, signal, from, to, sources);
}

Result<IntensityTimeline> IntensityProvider::in_force(const ZoneSelection& zone, Signal signal,
                                                      std::optional<Factor> factor, SysTime as_of,
                                                      SysTime from, SysTime to, Fallback fallback) {
  auto actual = actuals(zone, signal, factor, from, to, Fallback::kNone);
  if (!actual) return actual.error();
  std::vector<IntensitySeries> series;  // the stored actuals, then one forecast, then a profile
  std::vector<Provenance> provenances;
  for (size_t i = 0; i < actual->provenances.size(); ++i) {
    series.push_back(actual->series_of(i));
    provenances.push_back(actual->provenances[i]);
  }
  auto forecasts = stored_series(zone, signal, factor, true);
  if (!forecasts) return forecasts.error();
  for (const SeriesQuery& q : *forecasts) {
    auto f = store_->latest_forecast(q, as_of, from, to);
    if (!f) return f.error();
    if (!f->has_value() || (*f)->points.empty()) continue;
    const IntensitySeries& fs = **f;
    provenances.push_back({IntensityBasis::kForecast, fs.zone, fs.signal, fs.factor, fs.source,
                           fs.issued_at, fs.points.back().end()});
    series.push_back(std::move(**f));
    break;
  }
  if (fallback == Fallback::kEmbedded) {
    if (auto profile = embedded_profile_series(zone.zone, from, to); profile) {
      provenances.push_back({IntensityBasis::kEmbedded, profile->zone, profile->signal,
                             profile->factor, profile->source, std::nullopt, std::nullopt});
      series.push_back(std::move(*profile));
    }
  }
  std::vector<TimelineSource> sources;
  for (size_t i = 0; i < series.size(); ++i) sources.push_back({&series[i], provenances[i]});
  return stitch_noting_profile(zone.zone, signal, from, to, sources);
}

Result<SlottedIntensity> IntensityProvider::slotted(const ZoneSelection& zone, Signal signal,
                                                    std::optional<Factor> factor, Nanos slot,
                                                    SysTime from, SysTime to, Fallback fallback) {
  if (slot <= Nanos(0)) return make_error("the slot length must be positive");
  auto tl = actuals(zone, signal, factor, from, to, fallback);
  if (!tl) return tl.error();
  if (tl->points.empty()) {
    auto any = stored_series(zone, signal, factor, false);
    if (fallback == Fallback::kNone) {
      return make_error(ErrorCode::kNotFound, "zone {}: no stored {}{} data{}", zone.zone,
                        to_string(signal), factor ? "/" + std::string(to_string(*factor)) : "",
                        any && !any->empty()
                            ? fmt::format(" between {} and {}", format_utc(from), format_utc(to))
                            : " (import some with `carbonclock grid import`)");
    }
    return make_error(ErrorCode::kNotFound,
                      "zone {}: no {} intensity between {} and {}: nothing stored and no "
                      "embedded profile",
                      zone.zone, to_string(signal), format_utc(from), format_utc(to));
  }
  SysTime first = floor_to(fallback == Fallback::kNone ? tl->points.front().start : from, slot);
  SysTime end = ceil_to(fallback == Fallback::kNone ? tl->points.back().end() : to, slot);
  return to_slots(*tl, slot, first, end);
}

Result<IntensitySeries> IntensityProvider::forecast_history(const ZoneSelection& zone,
                                                            Signal signal,
                                                            std::optional<Factor> factor,
                                                            SysTime from, SysTime to) {
  auto candidates = stored_series(zone, signal, factor, false);
  if (!candidates) return candidates.error();
  if (candidates->empty()) {
    std::string other;
    for (Signal s : {Signal::kAverage, Signal::kMarginal}) {
      if (s == signal) continue;
      auto o = stored_series(zone, s, std::nullopt, false);
      if (o && !o->empty()) {
        other = fmt::format(
            " (only {} data is stored for it: forecast --signal {}, or import {} "
            "data{})",
            to_string(s), to_string(s), to_string(signal),
            signal == Signal::kMarginal ? ", e.g. from WattTime" : "");
      }
    }
    return make_error(ErrorCode::kNotFound, "zone {}: no stored {}{} actuals to forecast from{}",
                      zone.zone, to_string(signal),
                      factor ? "/" + std::string(to_string(*factor)) : "",
                      other.empty() ? " (import some with `carbonclock grid import`)" : other);
  }
  for (const SeriesQuery& q : *candidates) {
    auto s = store_->read(q, from, to);
    if (!s) return s.error();
    if (!s->points.empty()) return s;
  }
  return make_error(ErrorCode::kNotFound, "zone {}: no stored {} actuals between {} and {}",
                    zone.zone, to_string(signal), format_utc(from), format_utc(to));
}

/// Carbonclock's own forecast for [as_of, to) from the stored actuals of `q`, keeping the fitted
/// forecaster in `own` between calls; nullopt (with a note saying why) when it cannot be made.
Result<std::optional<Forecast>> own_forecast(GridStore& store,
                                             std::unique_ptr<OwnForecastCache>& own,
                                             ForecastQuantile risk, const SeriesQuery& q,
                                             SysTime as_of, SysTime to,
                                             std::vector<std::string>& notes) {
  const std::string label =
      fmt::format("{} {}/{}", q.zone, to_string(*q.signal), to_string(*q.factor));
  const bool same = own && own->query.zone == q.zone && own->query.signal == q.signal &&
                    own->query.factor == q.factor && as_of >= own->forecaster.data_end_utc();
  if (same) {  // feed what was stored since
    auto fresh = store.read(q, own->forecaster.data_end_utc(), as_of);
    if (!fresh) return fresh.error();
    if (Status s = feed_series(own->forecaster, *fresh, as_of); !s) return s.error();
  } else {
    own.reset();
    auto history = store.read(q, as_of - IntensityProvider::kOwnForecastHistory, as_of);
    if (!history) return history.error();
    if (history->points.empty()) return std::optional<Forecast>();
    auto slot = native_slot(*history);
    if (!slot) {
      notes.push_back(
          fmt::format("no carbonclock forecast for {}: {}", label, slot.error().message()));
      return std::optional<Forecast>();
    }
    SeriesInfo info{history->zone, history->signal, history->factor, history->source};
    auto f = Forecaster::create(info, floor_to(history->points.front().start, *slot), *slot);
    if (!f) return f.error();
    own = std::make_unique<OwnForecastCache>(OwnForecastCache{q, std::move(*f)});
    if (Status s = feed_series(own->forecaster, *history, as_of); !s) return s.error();
  }
  const Forecaster& f = own->forecaster;
  if (f.observed_slots() == 0) return std::optional<Forecast>();
  if (as_of - f.data_end_utc() > IntensityProvider::kOwnForecastMaxAge) {
    notes.push_back(fmt::format(
        "no carbonclock forecast for {}: its stored actuals end at {}, more than {} days before "
        "{}",
        label, format_utc(f.data_end_utc()),
        std::chrono::duration_cast<std::chrono::days>(IntensityProvider::kOwnForecastMaxAge)
            .count(),
        format_utc(as_of)));
    return std::optional<Forecast>();
  }
  const Nanos longest = std::chrono::days(31);
  Nanos horizon = std::clamp<Nanos>(to - as_of, Nanos(1), longest);
  ForecastRequest request{ModelKind::kAuto, risk != ForecastQuantile::kPoint};
  auto forecast = f.forecast(as_of, horizon, request);
  if (!forecast) {
    notes.push_back(
        fmt::format("no carbonclock forecast for {}: {}", label, forecast.error().message()));
    return std::optional<Forecast>();
  }
  return std::optional<Forecast>(std::move(*forecast));
}

Result<SlottedIntensity> IntensityProvider::planning(const ZoneSelection& zone,
                                                     std::optional<Signal> signal_opt,
                                                     std::optional<Factor> factor, Nanos slot,
                                                     SysTime as_of, SysTime from, SysTime to) {
  if (slot <= Nanos(0)) return make_error("the slot length must be positive");
  const Signal signal = signal_opt.value_or(Signal::kAverage);
  SysTime first = floor_to(from, slot);
  SysTime last = ceil_to(to, slot);
  if (last <= first) last = first + slot;
  auto n = static_cast<size_t>((last - first) / slot);
  std::vector<double> g(n, std::numeric_limits<double>::quiet_NaN());
  std::vector<uint8_t> tag(n, 0);
  std::vector<uint8_t> estimated(n, 0);
  std::vector<Provenance> provenances;
  std::vector<std::string> notes;
  auto slot_start = [&](size_t i) { return first + slot * static_cast<int64_t>(i); };
  auto first_empty = [&]() -> std::optional<size_t> {
    for (size_t i = 0; i < n; ++i) {
      if (std::isnan(g[i])) return i;
    }
    return std::nullopt;
  };
  // Fills the still-empty slots that `points` (shifted by `shift`) cover completely with their
  // time-weighted mean. Returns whether it filled any.
  auto fill = [&](const std::vector<IntensityPoint>& points, Nanos shift, const Provenance& p) {
    bool filled = false;
    size_t k = 0;
    std::optional<uint8_t> index;
    for (size_t i = 0; i < n; ++i) {
      if (!std::isnan(g[i])) continue;
      SysTime a = slot_start(i), b = slot_start(i + 1);
      while (k < points.size() && points[k].end() + shift <= a) ++k;
      double weighted = 0;
      Nanos covered{0};
      bool est = false;
      for (size_t q = k; q < points.size() && points[q].start + shift < b; ++q) {
        SysTime s = std::max(a, points[q].start + shift), e = std::min(b, points[q].end() + shift);
        if (e <= s) continue;
        weighted += points[q].g_per_kwh * to_seconds(e - s);
        covered += e - s;
        est = est || points[q].estimated;
      }
      if (covered != b - a) continue;
      if (!index) index = index_of(provenances, p);
      g[i] = weighted / to_seconds(b - a);
      tag[i] = *index;
      estimated[i] = est ? 1 : 0;
      filled = true;
    }
    return filled;
  };

  if (options_.intensity_file) {
    auto text = read_file(*options_.intensity_file);
    if (!text) return text.error();
    auto series =
        parse_intensity_file(*text, options_.intensity_file->string(), options_.file_anchor);
    if (!series) return series.error();
    fill(series->points, Nanos(0),
         {IntensityBasis::kFile, zone.zone, signal, factor.value_or(Factor::kLifecycle),
          options_.intensity_file->filename().string(), std::nullopt, std::nullopt});
  }
  if (store_ != nullptr && first_empty()) {
    auto forecasts = stored_series(zone, signal, factor, true);
    if (!forecasts) return forecasts.error();
    for (const SeriesQuery& q : *forecasts) {
      auto f = store_->latest_forecast(q, as_of, first, last);
      if (!f) return f.error();
      if (!f->has_value() || (*f)->points.empty()) continue;
      const IntensitySeries& fs = **f;
      // A forecast carbonclock stored itself (`forecast --store`) is its own forecast as of
      // then; anything else is a provider's.
      const bool own = fs.source.rfind("carbonclock-forecast", 0) == 0;
      Provenance p{own ? IntensityBasis::kOwnForecast : IntensityBasis::kForecast,
                   fs.zone,
                   fs.signal,
                   fs.factor,
                   fs.source,
                   fs.issued_at,
                   fs.points.back().end()};
      if (fill(fs.points, Nanos(0), p)) {
        if (*p.horizon_end_utc < last) {
          notes.push_back(
              fmt::format("beyond the forecast horizon ({}) the plan rests on older data (actuals, "
                          "carbonclock's own forecast or the embedded typical profile)",
                          format_utc(*p.horizon_end_utc)));
        }
        // Only a forecast carbonclock stored on the asked quantile ("...-p90") carries it.
        const std::string q_suffix = std::string("-") + to_string(options_.risk);
        const bool on_quantile =
            own && fs.source.size() > q_suffix.size() &&
            fs.source.compare(fs.source.size() - q_suffix.size(), q_suffix.size(), q_suffix) == 0;
        if (options_.risk != ForecastQuantile::kPoint && !on_quantile) {
          notes.push_back(fmt::format(
              "--risk {}: the stored forecast ({}) has no prediction intervals; its values are "
              "planned on as they are",
              to_string(options_.risk), fs.source));
        }
      }
      break;
    }
  }
  if (store_ != nullptr && first_empty()) {
    auto actual = stored_series(zone, signal, factor, false);
    if (!actual) return actual.error();
    const Nanos day = std::chrono::hours(24);
    for (Nanos shift : {Nanos(0), day}) {
      if (shift == day && options_.own_forecast && first_empty()) {
        // Carbonclock's own forecast from the best stored series, before recent actuals.
        for (const SeriesQuery& q : *actual) {
          auto own = own_forecast(*store_, own_, options_.risk, q, as_of, last, notes);
          if (!own) return own.error();
          if (!*own) continue;
          const Forecast& fc = **own;
          IntensitySeries fs = to_series(fc, options_.risk);
          Provenance p{
              IntensityBasis::kOwnForecast, fs.zone, fs.signal, fs.factor, fs.source, fc.issued_at,
              fs.points.back().end()};
          if (fill(fs.points, Nanos(0), p)) {
            notes.push_back(
                fmt::format("carbonclock forecast for {}: {}{}", fs.zone, fc.describe(),
                            options_.risk == ForecastQuantile::kPoint
                                ? ""
                                : fmt::format("; planned on its {}", to_string(options_.risk))));
            for (const std::string& note : fc.notes)
              notes.push_back("carbonclock forecast: " + note);
          }
          break;
        }
        if (!first_empty()) break;
      }
      for (const SeriesQuery& q : *actual) {
        if (!first_empty()) break;
        auto s = store_->read(q, first - shift, last - shift);
        if (!s) return s.error();
        if (options_.known_by_as_of) {  // a backtest: only what had been stored by as_of
          std::erase_if(s->points, [&](const IntensityPoint& pt) { return pt.end() > as_of; });
        }
        if (s->points.empty()) continue;
        fill(s->points, shift,
             {shift == Nanos(0) ? IntensityBasis::kActual : IntensityBasis::kRecentActuals, s->zone,
              s->signal, s->factor, s->source, std::nullopt, std::nullopt});
      }
    }
  }
  if (auto empty = first_empty()) {
    auto profile = embedded_profile_series(zone.zone, first, last);
    if (profile) {
      bool used = fill(profile->points, Nanos(0),
                       {IntensityBasis::kEmbedded, profile->zone, profile->signal, profile->factor,
                        profile->source, std::nullopt, std::nullopt});
      if (used && signal == Signal::kMarginal) {
        notes.push_back(
            "the embedded typical profile is an average signal; it stands in for marginal data "
            "where none is stored");
      }
      if (used && options_.risk != ForecastQuantile::kPoint) {
        notes.push_back(fmt::format(
            "--risk {}: the embedded typical profile has no prediction intervals; its values are "
            "planned on as they are",
            to_string(options_.risk)));
      }
    }
    if (auto still = first_empty()) {
      return make_error(
          ErrorCode::kNotFound,
          "no carbon-intensity data for zone {} at {} (no intensity file row, no stored forecast "
          "or actuals, no embedded profile{}): import a forecast with `carbonclock grid import` "
          "or give --intensity-file",
          zone.zone.empty() ? "(none)" : zone.zone, format_utc(slot_start(*still)),
          profile ? "" : ": " + profile.error().message());
    }
    (void)empty;
  }
  SlottedIntensity out;
  out.zone = zone.zone;
  out.signal = signal;
  out.factor =
      factor.value_or(provenances.empty() ? Factor::kLifecycle : provenances[tag.front()].factor);
  out.source = provenances.empty() ? "" : provenances[tag.front()].source;
  out.slot = slot;
  out.first_slot_utc = first;
  out.ug_per_kwh.resize(n);
  for (size_t i = 0; i < n; ++i) out.ug_per_kwh[i] = std::llround(g[i] * kMicrogramsPerGram);
  out.covered.assign(n, 1);
  out.estimated = std::move(estimated);
  out.provenance = std::move(tag);
  out.provenances = std::move(provenances);
  out.notes = std::move(notes);
  out.index_coverage();
  return out;
}

}  // namespace carbonclock

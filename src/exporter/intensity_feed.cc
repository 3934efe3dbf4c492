#include "exporter/intensity_feed.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "app/grid_data.h"

namespace carbonclock {

const char* provenance_label(IntensityBasis basis) {
  switch (basis) {
    case IntensityBasis::kActual:
      return "stored";
    case IntensityBasis::kForecast:
      return "forecast";
    case IntensityBasis::kEmbedded:
      return "embedded";
    case IntensityBasis::kUnpriced:
      return "unpriced";
    case IntensityBasis::kFile:
      return "file";
    case IntensityBasis::kRecentActuals:
      return "recent";
  }
  return "unpriced";
}

IntensityFeed::IntensityFeed(IntensityFeedOptions options, AppContext& ctx)
    : options_(std::move(options)), ctx_(ctx) {}

Signal IntensityFeed::signal() const {
  std::lock_guard lock(mu_);
  return signal_.value_or(options_.signal.value_or(Signal::kAverage));
}

FeedStats IntensityFeed::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void IntensityFeed::refresh_if_due(SysTime now) {
  bool due = false;
  {
    std::lock_guard lock(mu_);
    due = window_ == nullptr;
  }
  if (last_error_at_) {
    due = due || now - *last_error_at_ >= options_.retry_every;
  } else {
    due = due || now >= next_boundary_ || now - last_refresh_ >= options_.refresh_every;
  }
  if (options_.forecast_source.size() > 0 && last_fetch_ &&
      now - *last_fetch_ >= options_.fetch_every) {
    due = true;
  }
  if (due) refresh(now);
}

Result<IntensityTimeline> IntensityFeed::read_window(SysTime now) {
  if (!store_ || store_->get() == nullptr) {
    // A store that does not exist yet may be created by a later import: look again each time.
    const StoreMode mode =
        options_.forecast_source.empty() ? StoreMode::kIfExists : StoreMode::kCreate;
    auto opened = open_store(options_.db, mode, ctx_.env);
    if (!opened) return opened.error();
    store_ = std::move(*opened);
    provider_ = std::make_unique<IntensityProvider>(store_->get());
  }
  provider_->reload();  // series imported or fetched since the last refresh
  Signal signal = Signal::kAverage;
  {
    std::lock_guard lock(mu_);
    if (!signal_) {
      signal_ = options_.signal.value_or(provider_->has_stored(options_.zone, Signal::kMarginal)
                                             ? Signal::kMarginal
                                             : Signal::kAverage);
    }
    signal = *signal_;
  }
  const SysTime from = floor_to(now - options_.window_behind, std::chrono::minutes(1));
  const SysTime to = floor_to(now + options_.window_ahead, std::chrono::minutes(1));
  return provider_->in_force(options_.zone, signal, options_.factor, now, from, to,
                             Fallback::kEmbedded);
}

void IntensityFeed::fetch_if_due(SysTime now) {
  if (options_.forecast_source.empty()) return;
  if (last_fetch_ && now - *last_fetch_ < options_.fetch_every) return;
  last_fetch_ = now;
  FetchArgs args;
  args.source = options_.forecast_source;
  args.zone = options_.forecast_source == "watttime" && !options_.zone.watttime_region.empty()
                  ? options_.zone.watttime_region
                  : options_.zone.zone;
  args.from = format_utc(floor_to(now, std::chrono::hours(1)));
  args.to = format_utc(floor_to(now, std::chrono::hours(1)) + std::chrono::hours(24));
  args.db = options_.db;
  args.forecast = true;
  auto fetched = fetch_series(args, ctx_);
  std::lock_guard lock(mu_);
  if (fetched) {
    ++stats_.fetches;
  } else {
    ++stats_.fetch_errors;
    ctx_.observer.warning(fmt::format("{} forecast not fetched: {}", options_.forecast_source,
                                      fetched.error().message()));
  }
}

void IntensityFeed::refresh(SysTime now) {
  fetch_if_due(now);
  auto window = read_window(now);
  if (!window) {
    const std::string why = window.error().message();
    bool have_window = false;
    {
      std::lock_guard lock(mu_);
      ++stats_.store_errors;
      have_window = window_ != nullptr;
    }
    if (why != last_error_) {
      ctx_.observer.warning(fmt::format(
          "grid store not read ({}); pricing against {} until it can be (retried every {})", why,
          have_window ? "the intensity read before" : "the embedded typical profile",
          format_duration(options_.retry_every)));
    }
    last_error_ = why;
    last_error_at_ = now;
    if (have_window) return;
    // Nothing read yet: the embedded profile, which needs no store.
    const SysTime from = floor_to(now - options_.window_behind, std::chrono::minutes(1));
    const SysTime to = floor_to(now + options_.window_ahead, std::chrono::minutes(1));
    auto profile = no_store_.in_force(options_.zone, signal(), options_.factor, now, from, to,
                                      Fallback::kEmbedded);
    if (!profile) return;
    window = std::move(profile);
  } else {
    if (last_error_at_) ctx_.observer.note("grid store read again");
    last_error_.clear();
    last_error_at_.reset();
    last_refresh_ = now;
    // The next boundary: the end of the value in force now (the next point starts there).
    next_boundary_ = now + options_.refresh_every;
    for (const IntensityPoint& p : window->points) {
      if (p.start <= now && now < p.end()) next_boundary_ = std::min(next_boundary_, p.end());
      if (p.start > now) next_boundary_ = std::min(next_boundary_, p.start);
    }
  }
  auto shared = std::make_shared<const IntensityTimeline>(std::move(*window));
  std::lock_guard lock(mu_);
  ++stats_.refreshes;
  window_ = std::move(shared);
}

PricedEnergy IntensityFeed::price(SysTime from, SysTime to, double energy_j) const {
  std::shared_ptr<const IntensityTimeline> window;
  {
    std::lock_guard lock(mu_);
    window = window_;
  }
  if (to <= from) to = from + Nanos(1);
  if (window == nullptr) {
    PricedEnergy none;
    none.energy_j = none.unpriced_energy_j = energy_j;
    return none;
  }
  const EnergyInterval interval{from, to - from, energy_j};
  return carbonclock::price(std::span<const EnergyInterval>(&interval, 1), *window);
}

CurrentIntensity IntensityFeed::current(SysTime t) const {
  std::shared_ptr<const IntensityTimeline> window;
  CurrentIntensity out;
  {
    std::lock_guard lock(mu_);
    window = window_;
    out.signal = to_string(signal_.value_or(options_.signal.value_or(Signal::kAverage)));
  }
  out.zone = options_.zone.zone;
  out.factor = options_.factor ? to_string(*options_.factor) : "";
  out.provenance = provenance_label(IntensityBasis::kUnpriced);
  out.g_per_kwh = std::numeric_limits<double>::quiet_NaN();
  if (window == nullptr) return out;
  auto it = std::upper_bound(window->points.begin(), window->points.end(), t,
                             [](SysTime x, const IntensityPoint& p) { return x < p.end(); });
  if (it == window->points.end() || it->start > t) return out;
  const Provenance& p = window->provenances[window->provenance[it - window->points.begin()]];
  out.signal = to_string(p.signal);
  out.factor = to_string(p.factor);
  out.provenance = provenance_label(p.basis);
  out.g_per_kwh = it->g_per_kwh;
  return out;
}

}  // namespace carbonclock

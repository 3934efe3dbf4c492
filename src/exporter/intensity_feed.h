// The grid intensity a node's energy is priced against as it comes in: a window of the
// provider's "in force" timeline (stored actuals, the latest forecast known, the embedded
// profile; intensity/intensity_provider.h) around now, re-read at every boundary of the value
// in force, every few minutes (new imports), and on retry after a store error. Reading the
// store happens only in refresh(), never under the lock that price() takes, so a store locked
// by an import delays a refresh but never a scrape; until a refresh succeeds the previous
// window stays in force, and with no window at all the embedded profile prices.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "app/context.h"
#include "app/store_access.h"
#include "intensity/intensity_provider.h"
#include "intensity/intensity_timeline.h"

namespace carbonclock {

struct IntensityFeedOptions {
  ZoneSelection zone;
  /// Unset: marginal when the store holds marginal data for the zone, else average.
  std::optional<Signal> signal;
  std::optional<Factor> factor;  ///< unset: lifecycle where stored, else direct
  std::string db;                ///< --db; empty: the default store (when it exists)
  /// Fetch this provider's forecast (watttime, electricitymaps, ukci) every `fetch_every`.
  std::string forecast_source;
  Nanos window_behind = std::chrono::hours(1);
  Nanos window_ahead = std::chrono::hours(3);
  Nanos refresh_every = std::chrono::minutes(5);
  Nanos retry_every = std::chrono::seconds(30);
  Nanos fetch_every = std::chrono::hours(1);
};

/// The label Prometheus gets for a provenance: "stored" (actuals), "forecast", "embedded",
/// "unpriced" (and "file", "recent" for bases the exporter's chain does not use).
const char* provenance_label(IntensityBasis basis);

/// The intensity in force at one moment, for the gauge.
struct CurrentIntensity {
  std::string zone;
  std::string signal;  ///< of the data in force (an embedded profile is average)
  std::string factor;
  std::string provenance;  ///< provenance_label
  double g_per_kwh = 0;    ///< NaN when unpriced
};

struct FeedStats {
  uint64_t refreshes = 0;
  uint64_t store_errors = 0;
  uint64_t fetches = 0;
  uint64_t fetch_errors = 0;
};

class IntensityFeed {
 public:
  /// `ctx` (clock unused; http for live fetches, env for the default store, observer for
  /// warnings) must outlive the feed. Nothing is read until the first refresh.
  IntensityFeed(IntensityFeedOptions options, AppContext& ctx);

  /// Refreshes when due: no window yet, a boundary of the value in force passed,
  /// `refresh_every` elapsed, or `retry_every` after an error. Reads the store (may block
  /// while it is locked); call from one thread only.
  void refresh_if_due(SysTime now);
  /// Refreshes now (the same, unconditionally).
  void refresh(SysTime now);

  /// Prices `energy_j` spread evenly over [from, to) against the window in force.
  /// Thread-safe; never touches the store.
  PricedEnergy price(SysTime from, SysTime to, double energy_j) const;

  /// The value in force at `t`. Thread-safe.
  CurrentIntensity current(SysTime t) const;

  /// The signal asked for (resolved at the first refresh when unset).
  Signal signal() const;
  const std::string& zone() const { return options_.zone.zone; }
  FeedStats stats() const;

 private:
  void fetch_if_due(SysTime now);
  Result<IntensityTimeline> read_window(SysTime now);

  IntensityFeedOptions options_;
  AppContext& ctx_;
  std::optional<OpenedStore> store_;
  std::unique_ptr<IntensityProvider> provider_;
  IntensityProvider no_store_{nullptr};

  mutable std::mutex mu_;  // guards the fields below
  std::shared_ptr<const IntensityTimeline> window_;
  std::optional<Signal> signal_;
  FeedStats stats_;

  // Refresh bookkeeping (refresh thread only).
  SysTime last_refresh_{};
  SysTime next_boundary_{};
  std::optional<SysTime> last_error_at_;
  std::string last_error_;
  std::optional<SysTime> last_fetch_;
};

}  // namespace carbonclock

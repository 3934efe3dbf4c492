// Where an intensity value comes from. Every value carbonclock prices or plans with carries one
// of these, so a result can say which share rests on which data, and a result resting on more
// than one signal or factor says so (see intensity/intensity_provider.h).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/time.h"
#include "grid/series.h"

namespace carbonclock {

/// The kind of data a value rests on, best first.
enum class IntensityBasis : uint8_t {
  kFile,           ///< a scripted --intensity-file (tests and demos)
  kForecast,       ///< a stored forecast issued by the decision time
  kActual,         ///< stored actuals (imported or fetched)
  kOwnForecast,    ///< carbonclock's own forecast from the stored history (forecasting/)
  kRecentActuals,  ///< actuals of the same time one day earlier (persistence forecast)
  kEmbedded,       ///< the zone's embedded typical profile
  kUnpriced,       ///< no value at all: energy here is not counted
};

/// "file" | "forecast" | "actual" | "carbonclock-forecast" | "recent-actuals" |
/// "embedded-profile" | "unpriced".
const char* to_string(IntensityBasis basis);

/// One source of values: what kind, which stored series (or profile), signal and factor.
struct Provenance {
  IntensityBasis basis = IntensityBasis::kUnpriced;
  std::string zone;  ///< the id the data is stored under (may differ from the asked zone)
  Signal signal = Signal::kAverage;
  Factor factor = Factor::kLifecycle;
  /// "electricitymaps-csv", the embedded profile's label, ...; carbonclock's own forecasts:
  /// "carbonclock-forecast-MODEL" (the model that served, e.g. carbonclock-forecast-regression)
  std::string source;
  std::optional<SysTime> issued_at;        ///< forecasts (also carbonclock's own): when issued
  std::optional<SysTime> horizon_end_utc;  ///< forecasts: the end of their last point

  bool operator==(const Provenance& o) const {
    return basis == o.basis && zone == o.zone && signal == o.signal && factor == o.factor &&
           source == o.source && issued_at == o.issued_at;
  }
  /// "actual DE average/lifecycle (electricitymaps-csv)", "forecast CAISO_NORTH marginal/direct
  /// (watttime-api, issued 2026-01-01T10:00:00Z)", "unpriced".
  std::string label() const;
};

/// What a set of provenances (those that priced or planned anything) adds up to: the one signal
/// or factor they share, or "mixed".
struct ProvenanceSummary {
  std::string signal;  ///< "marginal" | "average" | "mixed" | "" (nothing priced)
  std::string factor;  ///< "lifecycle" | "direct" | "mixed" | ""
  bool mixed() const { return signal == "mixed" || factor == "mixed"; }
};
ProvenanceSummary summarize(std::span<const Provenance> used);

}  // namespace carbonclock

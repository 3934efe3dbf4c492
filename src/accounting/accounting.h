// Carbon accounting of a measured run (SCI): operational emissions E × I × PUE integrated
// exactly over the run's energy timeline against the zone's intensity series, embodied
// emissions M, and the functional unit R. Every number carries what it rests on: which series,
// which share of the energy it priced, and what fell back to the embedded typical profile.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounting/embodied.h"
#include "common/error.h"
#include "config/config.h"
#include "grid/query.h"
#include "grid/series.h"
#include "intensity/intensity_provider.h"
#include "metering/run_record.h"
#include "regions/catalogue.h"

namespace carbonclock {

/// PUE bounds: a facility cannot use less than its IT load, and over 3 is not a data centre
/// figure anyone publishes (the global average is about 1.6).
inline constexpr double kMaxPue = 3.0;
/// Error unless 1 <= pue <= kMaxPue (names the value and why).
Status validate_pue(double pue);

/// R: "1000 inferences", "epoch", "1e6 tokens". `count` units of `unit` make one functional
/// unit; the run did `work` units (default: exactly one functional unit).
struct FunctionalUnit {
  double count = 1;
  std::string unit;            ///< "inferences", "epoch", "tokens"
  std::optional<double> work;  ///< units of `unit` the run did
  /// How many functional units the run produced: work / count, or 1 without work.
  double units_done() const { return work ? *work / count : 1.0; }
  /// "1000 inferences", "epoch", "1e+06 tokens" as given back to people.
  std::string text() const;
};

/// Parses "[COUNT] UNIT" (COUNT a positive number, default 1; UNIT letters, '-', '_', spaces).
/// Errors name the text.
Result<FunctionalUnit> parse_functional_unit(std::string_view text);

/// Everything the accounting needs beyond the run and the grid data.
struct AccountingInputs {
  std::string zone;                   ///< grid zone id
  ZoneSelection selection;            ///< the zone with every id its data may be stored under
  std::optional<std::string> region;  ///< cloud region name, when chosen through one
  std::string zone_origin;            ///< "--zone", "run.json", "default: ..." (for reports)
  double pue = 1.0;
  std::string pue_origin = "default";  ///< "default", "--pue", "run.json"
  std::optional<Signal> signal;        ///< headline asked for; unset: marginal when available
  std::optional<Factor> factor;        ///< factor asked for; unset: lifecycle, else direct
  std::optional<FunctionalUnit> unit;
  EmbodiedOptions embodied;
};

/// Operational emissions for one signal, and what they rest on.
struct SignalAccount {
  Signal signal = Signal::kAverage;    ///< the signal asked for
  Factor factor = Factor::kLifecycle;  ///< the factor of the data that priced the most energy
  std::string source;                  ///< stored series' source(s); empty when nothing was stored
  std::string fallback_source;         ///< the embedded profile's label when it priced any energy
  double energy_j = 0;                 ///< IT energy priced (the run's total)
  double stored_energy_j = 0;          ///< priced by imported or fetched data
  double embedded_energy_j = 0;        ///< priced by the embedded typical profile
  double unpriced_energy_j = 0;        ///< no intensity at all (zone without a profile, gaps)
  double estimated_energy_j = 0;       ///< stored points marked estimated, plus all embedded energy
  double it_g = 0;                     ///< Σ energy × intensity, before PUE
  double operational_g = 0;            ///< it_g × PUE
  /// What priced the energy, one part per provenance (stored series, embedded profile).
  std::vector<PricedEnergy::Part> parts;
  /// The signal and factor the parts share, or "mixed": never a single label for a number
  /// priced from several.
  ProvenanceSummary mix;
  /// Intensity steps over the run as used, time-ordered, with their provenance.
  std::vector<IntensityPoint> intensity;
  std::vector<bool> intensity_embedded;  ///< per intensity point: from the embedded profile
  std::vector<std::string> notes;        ///< from the intensity provider
  /// Operational grams per timeline bucket (× PUE), same order as the timeline's buckets.
  std::vector<double> bucket_g;

  double stored_share() const { return energy_j > 0 ? stored_energy_j / energy_j : 0; }
  double embedded_share() const { return energy_j > 0 ? embedded_energy_j / energy_j : 0; }
  double unpriced_share() const { return energy_j > 0 ? unpriced_energy_j / energy_j : 0; }
  /// Energy-weighted mean intensity of the priced energy, g/kWh (0 when nothing was priced).
  double mean_g_per_kwh() const;
  /// "marginal", "average", or "mixed" when the parts rest on both.
  std::string signal_label() const;
  /// "lifecycle", "direct", or "mixed" when the parts rest on both.
  std::string factor_label() const;
};

/// The whole account of one run.
struct CarbonAccount {
  std::string zone;
  std::optional<std::string> region;
  std::string zone_origin;
  double pue = 1;
  std::string pue_origin;
  double energy_j = 0;                 ///< IT energy
  std::vector<SignalAccount> signals;  ///< marginal first when available, then average
  size_t headline = 0;                 ///< index into signals
  std::string headline_reason;
  EmbodiedAccount embodied;
  std::optional<FunctionalUnit> unit;
  std::vector<std::string> notes;  ///< what the numbers rest on, in sentences

  const SignalAccount& headline_signal() const { return signals[headline]; }
  double operational_g() const { return headline_signal().operational_g; }
  double total_g() const { return operational_g() + embodied.embodied_g; }
  /// SCI = (E × I + M) / R in g per functional unit (per run without one).
  double sci_g_per_unit() const;
};

/// The energy of a run as intervals: bucket i covers [max(bucket start, run start),
/// min(bucket end, run end)) and holds the bucket's energy over every device.
std::vector<EnergyInterval> run_energy_intervals(const RunRecord& run);

/// The account of one signal: `intervals` priced against `timeline`, with PUE.
SignalAccount account_signal(const std::vector<EnergyInterval>& intervals,
                             const IntensityTimeline& timeline, double pue);

/// The account of a run: stored actuals of the zone (any of its ids) with the embedded profile
/// in their gaps, for the marginal signal when stored and for the average signal. Errors:
/// invalid PUE or embodied options, a headline signal asked for but not available, or no
/// intensity data at all for the zone (no stored series and no embedded profile).
Result<CarbonAccount> account_run(const RunRecord& run, const AccountingInputs& inputs,
                                  IntensityProvider& provider);

/// The choices a command line gives; unset fields were not given.
struct AccountingChoices {
  std::optional<std::string> zone;
  std::optional<std::string> region;
  std::optional<double> pue;
  std::optional<std::string> signal;  ///< "marginal" | "average"
  std::optional<std::string> factor;  ///< "lifecycle" | "direct" (of the stored data)
  std::optional<std::string> per;     ///< functional unit text
  std::optional<double> work;
  EmbodiedOptions embodied;
  ZoneDefaults defaults;  ///< environment and config file (config/config.h)
};

/// The region used when neither options, run.json nor the environment choose one.
inline constexpr const char* kDefaultRegion = "us-east-1";

/// Resolves the choices: zone/region from the options, else from `run` (its run.json fields;
/// may be null), else $CARBONCLOCK_ZONE / $CARBONCLOCK_REGION, else kDefaultRegion, recording
/// which in zone_origin; PUE from the option, else run.json, else 1.0 (pue_origin); the signal
/// and the functional unit (--per/--work, else run.json's). Errors: unknown region, zone not the
/// region's, bad PUE, signal, unit or embodied options.
Result<AccountingInputs> resolve_inputs(const AccountingChoices& choices, const RunRecord* run);

/// What the same job would have emitted in each catalogued zone (average signal: stored data
/// where it covers the run's time, the embedded profile elsewhere), sorted by grams.
struct ZoneEmissions {
  std::string zone;
  std::string region;  ///< a cloud region in that zone ("aws:us-east-1"); empty if none
  double operational_g = 0;
  double stored_share = 0;
};
std::vector<ZoneEmissions> emissions_by_zone(const RunRecord& run, double pue,
                                             IntensityProvider& provider);

/// The job's operational grams had it started at each UTC hour 0..23 of its start day (same
/// timeline shifted), in `zone` with the headline signal's data and the embedded fallback.
/// Entries for hours without any intensity are 0.
std::vector<double> emissions_by_start_hour(const RunRecord& run, const ZoneSelection& zone,
                                            Signal signal, double pue, IntensityProvider& provider);

}  // namespace carbonclock

// Use cases: `shift` (one job at one requested start, moved by Flexible Start or Pause and
// Resume, in one zone or several) and `whatif` (a measured run replayed in other zones and with
// shifting). Both price with the intensity provider's actuals chain (stored actuals, then the
// embedded typical profile), so they agree with `report` for the same zone and time, and every
// zone says what its numbers rest on.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/context.h"
#include "config/config.h"
#include "grid/provenance.h"
#include "regions/catalogue.h"
#include "shifting/plan.h"
#include "shifting/slots.h"

namespace carbonclock {

/// One algorithm with its window.
struct Shifting {
  Algorithm algorithm = Algorithm::kFlexibleStart;
  ShiftWindow window;
};

/// The shiftings of --flex-start N / --pause-resume N (either may be empty).
Result<std::vector<Shifting>> parse_shiftings(const std::string& flex_start,
                                              const std::string& pause_resume);

/// The home zone (from region / zone) followed by the comma-separated `zones`, without repeats
/// (aliases of one zone count once). Error for an unknown region or a malformed zone id, or
/// when no zone is given.
Result<std::vector<ZoneSelection>> parse_zone_list(const std::optional<std::string>& region,
                                                   const std::optional<std::string>& zone,
                                                   const std::string& zones, bool home_required);

struct ShiftRequest {
  std::string title;                 ///< "carbonclock shift", "carbonclock whatif DIR (run X)"
  std::vector<ZoneSelection> zones;  ///< the first is the home zone
  JobProfile job;
  SysTime requested_start_utc;  ///< slot-aligned
  std::vector<Shifting> shiftings;
  std::optional<Signal> signal;  ///< default average
  std::optional<Factor> factor;
  std::string db;
};

/// A zone's outcome for the job at the requested start.
struct ZoneOutcome {
  std::string zone;
  std::optional<SlottedIntensity> intensity;
  std::optional<Error> error;
  double baseline_g = 0;
  std::vector<Result<Plan>> plans;  ///< one per Shifting
  std::vector<Provenance> used;     ///< what the baseline and plans rest on
  ProvenanceSummary mix;
};

struct ShiftResult {
  std::string title;
  JobProfile job;
  SysTime requested_start_utc;
  std::vector<Shifting> shiftings;
  std::vector<ZoneOutcome> zones;   ///< the home zone first
  std::optional<size_t> best_zone;  ///< lowest unshifted baseline (spatial)
  /// Per shifting: the zone and plan with the lowest shifted emissions (spatio-temporal).
  std::vector<std::optional<size_t>> best_shifted;
  /// The first error of the home zone or its plans (the command fails with it).
  std::optional<Error> home_error() const;
};

/// Evaluates the job in every zone. Errors only for an unreadable store; per-zone failures
/// (no data, a gap) are in the outcomes.
Result<ShiftResult> shift_job(const ShiftRequest& request, AppContext& ctx);

/// --signal, --factor and --slot of the shifting commands, parsed.
struct SeriesChoice {
  std::optional<Signal> signal;
  std::optional<Factor> factor;
  Nanos slot = kDefaultSlot;
};

/// Parses --signal into `signal` and then --factor into `factor` (each empty: not given).
Status parse_signal_options(const std::string& signal_text, const std::string& factor_text,
                            std::optional<Signal>& signal, std::optional<Factor>& factor);
/// Parses --signal and --factor (empty: not given) and --slot (at least 1s).
Result<SeriesChoice> parse_series_choice(const std::string& signal, const std::string& factor,
                                         const std::string& slot);

/// The options of `shift` as typed (shared by the CLI and Python front ends).
struct ShiftArgs {
  std::optional<std::string> zone, region;
  std::string zones;                 ///< other zones to compare, comma-separated
  std::string start;                 ///< requested start (UTC)
  std::string duration;              ///< flat profile: the job's duration
  std::optional<double> energy_kwh;  ///< flat profile: its energy
  std::string profile;               ///< measured profile: a run directory
  std::string flex_start, pause_resume;
  std::string signal, factor, slot = "5m", db;
};

/// Checks the options of `shift` and builds its request. Errors: bad --signal, --factor or
/// --slot, not exactly one of --flex-start and --pause-resume, a bad window, zone or --start,
/// and neither or both of --profile RUN_DIR and --duration with --energy-kwh.
Result<ShiftRequest> shift_request(const ShiftArgs& args);

/// A whatif request for a measured run: its measured profile at its own start. Without zones,
/// the run's own zone is used, chosen as `report` chooses it (run.json, then the environment
/// and config file `defaults`, then the default region). Error when the run cannot be loaded
/// or has no energy.
Result<ShiftRequest> whatif_request(const std::string& run_dir, std::vector<ZoneSelection> zones,
                                    std::vector<Shifting> shiftings, Nanos slot,
                                    const ZoneDefaults& defaults);

}  // namespace carbonclock

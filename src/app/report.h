// Use case: the carbon account of a measured run (rebuilt from its journal if carbonclock
// died), with what the HTML report needs beyond it, and the savings of a scheduled run
// recomputed from stored actuals once they exist.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "accounting/accounting.h"
#include "app/context.h"
#include "metering/journal.h"
#include "metering/run_record.h"

namespace carbonclock {

struct ReportRequest {
  std::filesystem::path run_dir;
  AccountingChoices choices;  ///< zone, PUE, signal, functional unit, embodied (defaults loaded)
  std::string db;             ///< --db; empty: the default store when it exists
  bool charts = false;        ///< also compute the per-zone and per-start-hour comparisons
};

/// Mean power per device over [from_s, to_s) (seconds since the run's start), from the
/// journal's samples: a short run's power at the sampling interval instead of whole buckets.
struct PowerSample {
  double from_s = 0;
  double to_s = 0;
  std::vector<double> watts;  ///< per device, in the timeline's device order
};

/// Runs spanning fewer timeline buckets than this chart power from the journal's samples.
inline constexpr size_t kMinBucketsForPowerChart = 12;
/// At most this many power samples are drawn (consecutive samples are merged, energy kept).
inline constexpr size_t kMaxPowerSamples = 600;

/// Power per device between journal samples, merging consecutive samples so that at most
/// `max_points` remain (each merged step keeps its energy). Samples are cumulative joules
/// since the run's start; `devices` in the samples' order (may be shorter). A fine counter
/// (advancing at every sample: NVML, RAPL) is drawn sample by sample, as the difference of its
/// readings. A coarse one (an estimate, refreshed only when the job is rescanned, or any
/// counter that stays flat between samples and then jumps) has each jump drawn over the time
/// since it last advanced, bounded to between one and two of its typical update periods (the
/// median time between its advances): the energy a jump shows was counted then, not spent in
/// the last sample interval alone. Every device's energy is kept.
std::vector<PowerSample> power_from_samples(const std::vector<JournalSample>& samples,
                                            const std::vector<DeviceInfo>& devices,
                                            size_t max_points);

struct ReportData {
  RunRecord run;
  CarbonAccount account;
  std::filesystem::path run_dir;
  std::vector<ZoneEmissions> by_zone;  ///< with charts: the job in every catalogued zone
  std::vector<double> by_hour;         ///< with charts: started at each UTC hour of its day
  /// With charts, for a run shorter than kMinBucketsForPowerChart buckets: power between
  /// journal samples (empty when the journal is gone: the chart uses the buckets).
  std::vector<PowerSample> power;
};

/// Loads the run (or recovers it from its journal), resolves the zone and accounting inputs,
/// prices it through the intensity provider, and refreshes a scheduled run's savings from
/// stored actuals. A run recovered from its journal is recorded in the history the first time
/// it is reported (unpriced when its zone has no intensity for its time). A run.json without
/// host_info, reported on the host it ran on, gets this host's facts. Errors: no run there,
/// bad options, no intensity at all for the zone.
Result<ReportData> build_report(const ReportRequest& request, AppContext& ctx);

}  // namespace carbonclock

// What a carbon-aware run records in run.json (`schedule`: the plan, the realised schedule, the
// emissions saved against running immediately) and the savings computation that
// `carbonclock report` calls again once actual intensities are stored.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "execution/executor.h"
#include "execution/job_control.h"
#include "grid/series.h"
#include "metering/run_record.h"

namespace carbonclock {

/// Emissions of a scheduled run as it ran and as if it had started at its requested start and
/// run straight through, from one intensity series. Energy counts only while the job ran: each
/// timeline bucket's energy is spread over the job's running time inside it; energy of buckets
/// in which the job never ran (idle devices during a pause) is left out and reported.
struct ScheduleSavings {
  double emitted_g = 0;          ///< as scheduled (before PUE)
  double immediate_g = 0;        ///< the same energy, started at the requested start, unpaused
  double saved_g = 0;            ///< immediate − emitted
  double saved_pct = 0;          ///< 100 × saved / immediate (0 when immediate is 0)
  double paused_energy_j = 0;    ///< left out: energy of buckets without running time
  std::string intensity_source;  ///< the series' source
};

/// Running intervals [start, end) of a run with a `schedule` (from run.json). Error when the run
/// has none or it is malformed.
Result<std::vector<RunInterval>> scheduled_running(const RunRecord& run);
/// The requested start ("running immediately") of a scheduled run.
Result<SysTime> scheduled_requested_start(const RunRecord& run);

/// The savings of a scheduled run over `intensity` (for `carbonclock report`: pass the stored
/// actuals of run.zone). Error when the run has no schedule or the series does not cover every
/// instant needed (as scheduled and as if immediate), naming the first uncovered time.
Result<ScheduleSavings> schedule_savings(const RunRecord& run, const IntensitySeries& intensity);

/// The planning intensity as a series (one point per slot), for schedule_savings on forecasts.
IntensitySeries planning_series(const SlottedIntensity& intensity);

/// The savings as run.json's `schedule.savings` object; `basis` says which data ("actual",
/// "forecast", "file", ...).
nlohmann::json savings_to_json(const ScheduleSavings& savings, const std::string& basis,
                               SysTime computed_at);

/// What the run asked for, for the record.
struct ScheduleRequest {
  std::string window;  ///< "50%", "12h", or "deadline"
  SysTime requested_start_utc;
  PauseMethod pause;
};

/// The run.json `schedule` object, without savings.
nlohmann::json schedule_to_json(const ScheduleRequest& request, const ExecutionOptions& options,
                                const Executor& executor);

/// The plan's runs as [start, end) pairs (consecutive chosen slots merged).
std::vector<RunInterval> planned_runs(const Decision& decision, double needed_s);

/// A plan's intensity description as JSON: zone, signal, factor, per-basis spans, forecast
/// (source, issued_at_utc, horizon_end_utc) or null, notes.
nlohmann::json intensity_to_json(const SlottedIntensity& intensity);

}  // namespace carbonclock

// Sweeps: jobs × zones × requested starts × windows × both algorithms, the paper's evaluation
// grid. Flat profiles only (the paper's published jobs are totals); each job × zone is one task
// on a small thread pool; results are handed over per task.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "shifting/slots.h"

namespace carbonclock {

class FlatSweepIndex;
struct FlatSweepWorkspace;

/// A job described by its totals (a flat profile).
struct SweepJob {
  std::string name;
  double duration_h = 0;
  double energy_kwh = 0;
};

/// The eleven jobs of Table 2 of Dodge et al. (FAccT 2022), in the paper's order.
std::vector<SweepJob> paper_jobs();

/// Parses a jobs CSV with the header `name,duration_h,energy_kwh` (any column order; names may
/// be double-quoted). Errors name `origin` and the line.
Result<std::vector<SweepJob>> parse_jobs_csv(std::string_view content, std::string_view origin);

/// Parses one UTC timestamp per line; blank lines and lines starting with '#' are skipped.
Result<std::vector<SysTime>> parse_starts(std::string_view content, std::string_view origin);

/// `--starts-per-month K` over [from, to): in every calendar month (UTC), for j = 0..K−1, day
/// 1 + floor(j × days_in_month / K) at hour floor(j × 24 / K):00 UTC — evenly spaced days with
/// the clock time rotating through the day, so no time of day is favoured. Starts outside
/// [from, to) are dropped. Deterministic; ascending.
std::vector<SysTime> starts_per_month(SysTime from, SysTime to, int per_month);

/// `--every STEP` over [from, to): from rounded up to a multiple of STEP since the epoch, then
/// every STEP. Ascending.
std::vector<SysTime> starts_every(SysTime from, SysTime to, Nanos step);

/// Why a requested start has no result for a window.
enum class StartStatus : uint8_t {
  kOk,
  kOutsideData,  ///< the window [start, start + K + N) reaches outside the series
  kGap,          ///< the window holds an uncovered slot
};

/// One zone's input: its slotted series and its requested starts (any order; each is floored
/// to its slot).
struct SweepZone {
  SlottedIntensity intensity;
  std::vector<SysTime> starts;
};

/// One job in one zone: per window, per requested start (in SweepZone::starts order).
struct SweepCell {
  size_t job = 0;
  size_t zone = 0;
  size_t job_slots = 0;
  double job_hours = 0;  ///< job_slots × slot, the runtime pauses are counted per
  double energy_kwh_per_slot = 0;
  struct Window {
    size_t window_slots = 0;
    std::vector<StartStatus> status;
    std::vector<double> baseline_g, fs_g, pr_g;
    std::vector<int32_t> fs_offset, pr_pauses;
  };
  std::vector<Window> windows;
};

struct SweepOptions {
  Nanos slot = kDefaultSlot;
  unsigned threads = 0;  ///< 0: std::thread::hardware_concurrency()
  /// Called from worker threads (serialised) after each task: tasks done, tasks in all.
  std::function<void(size_t, size_t)> progress;
};

/// Runs every job × zone task. `on_cell` is called once per task, serialised, in completion
/// order (not job/zone order). Error for a job with a non-positive duration.
Status run_sweep(const std::vector<SweepJob>& jobs, const std::vector<SweepZone>& zones,
                 const std::vector<ShiftWindow>& windows, const SweepOptions& options,
                 const std::function<void(SweepCell&&)>& on_cell);

/// One job in one zone for the given windows, computed directly (used by run_sweep).
SweepCell sweep_cell(const SweepJob& job, const SweepZone& zone, const FlatSweepIndex& index,
                     const std::vector<ShiftWindow>& windows, Nanos slot,
                     FlatSweepWorkspace& workspace);

}  // namespace carbonclock

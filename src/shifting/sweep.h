// Sweeps: jobs × zones × requested starts × windows × both algorithms, the paper's evaluation
// grid. Flat profiles only (the paper's published jobs are totals). run_sweep_blocks streams
// the results in blocks of starts, in a deterministic order, with bounded memory, on a small
// thread pool; run_sweep hands over whole (job, zone) cells.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
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

/// The order in which blocks reach a SweepSink. Either way, within a (zone, job) cell the
/// blocks follow the zone's starts in ascending time, and the order never depends on the
/// number of threads.
enum class SweepOrder : uint8_t {
  kZoneMajor,  ///< zone by zone, each zone's jobs in input order: one zone's index in memory
  kJobMajor,   ///< job by job, each job's zones in input order: every zone's index in memory
};

struct SweepOptions {
  Nanos slot = kDefaultSlot;
  unsigned threads = 0;  ///< 0: std::thread::hardware_concurrency()
  /// Called serialised after each (job, zone) cell is complete: cells done, cells in all.
  std::function<void(size_t, size_t)> progress;
  /// run_sweep_blocks only: block order, and the most starts per block when the sink wants
  /// rows (blocks bound memory: each holds starts × windows results, and at most 2 × threads
  /// blocks are alive; without rows each (zone, job) cell is one block).
  SweepOrder order = SweepOrder::kZoneMajor;
  size_t block_starts = 1024;
};

/// One requested start in one window: exact sums in µg/kWh over the job's K slots (× energy
/// per slot / 1e6 = grams, see SweepBlock::grams), the Flexible Start offset and the Pause and
/// Resume pauses. Only `status` is meaningful unless it is kOk.
struct SweepResult {
  int64_t baseline_ug = 0;  ///< Σ of slots [s, s + K)
  int64_t fs_ug = 0;        ///< Flexible Start's best window sum (earliest on ties)
  int64_t pr_ug = 0;        ///< the K lowest slots of [s, s + K + N) (earliest on ties)
  int32_t fs_offset = 0;    ///< chosen start − s, in slots
  int32_t pr_pauses = 0;    ///< gaps between runs of the Pause and Resume slots
  StartStatus status = StartStatus::kOk;
};

/// Per window, accumulated over a block's starts (add them up for a cell or a whole sweep).
/// Reductions use the same grams and formula as the rows: reduction_pct(baseline_g, shifted_g).
struct SweepWindowTotals {
  size_t ok = 0;                ///< starts computed
  size_t outside = 0;           ///< skipped: the window runs outside the data
  size_t gap = 0;               ///< skipped: the window holds a gap
  double fs_reduction_pct = 0;  ///< Σ Flexible Start reduction (%)
  double pr_reduction_pct = 0;  ///< Σ Pause and Resume reduction (%)
  int64_t pr_pauses = 0;        ///< Σ Pause and Resume pauses

  void add(const SweepWindowTotals& other);
};

/// Consecutive requested starts (ascending time) of one job in one zone, every window. Its
/// spans are valid only during the SweepSink call that receives it.
struct SweepBlock {
  size_t zone = 0;  ///< index into the zones given to run_sweep_blocks
  size_t job = 0;   ///< index into the jobs
  size_t job_slots = 0;
  double job_hours = 0;  ///< job_slots × slot, the runtime pauses are counted per
  double energy_kwh_per_slot = 0;
  size_t block_in_cell = 0;  ///< 0, 1, ... within the (zone, job) cell
  bool last_in_cell = false;
  SysTime first_slot_utc;  ///< the zone's first slot
  Nanos slot = kDefaultSlot;
  std::span<const size_t> window_slots;  ///< N per window
  /// Per start: its index in SweepZone::starts (stable ascending time order), and its slot
  /// index in the zone's series (−1 before the data).
  std::span<const uint32_t> start_index;
  std::span<const int64_t> start_slot;
  /// start_index.size() × windows results, start-major: results[i × windows + w]. Empty when
  /// the sink does not want rows.
  std::span<const SweepResult> results;
  std::span<const SweepWindowTotals> totals;  ///< per window, over this block's starts

  size_t starts() const { return start_index.size(); }
  size_t windows() const { return window_slots.size(); }
  const SweepResult& result(size_t i, size_t w) const { return results[i * windows() + w]; }
  /// µg/kWh summed over job slots → grams for this job (the cell's formula, bit for bit).
  double grams(int64_t ug) const {
    return static_cast<double>(ug) * (energy_kwh_per_slot / kMicrogramsPerGram);
  }
  /// Start i's slot start (floored requested start); only for start_slot[i] >= 0.
  SysTime start_utc(size_t i) const { return first_slot_utc + slot * start_slot[i]; }
};

/// Receives a sweep's blocks. render() runs in the worker threads, concurrently, so that
/// expensive formatting uses every core; consume() runs one block at a time, in the order
/// SweepOptions::order defines, so a writer can stream rows with bounded memory.
class SweepSink {
 public:
  virtual ~SweepSink() = default;
  /// False: blocks carry totals only (empty `results`), e.g. for the Markdown means.
  virtual bool wants_rows() const { return true; }
  /// Worker thread: turn the block into bytes (e.g. CSV rows) in `out` (empty on entry, its
  /// capacity reused).
  virtual void render(const SweepBlock& block, std::string& out) {
    (void)block;
    (void)out;
  }
  /// In order, serialised: use the block and what render() wrote for it. An error stops the
  /// sweep and is returned by run_sweep_blocks.
  virtual Status consume(const SweepBlock& block, std::string_view rendered) = 0;
};

/// Runs every job × zone × start × window with both algorithms on options.threads threads and
/// hands the results over in blocks, in a deterministic order, holding at most 2 × threads
/// blocks and (kZoneMajor) the indexes of the zones in progress. Starts are each floored to
/// their slot; a start's window [s, s + K + N) outside the data or over a gap is counted, not
/// computed. Error for a non-positive slot or job duration, a zone slotted at another length
/// than options.slot or of 2^31 slots or more, or the sink's first error (the sweep stops).
///
/// Streaming CSV, for instance: render() calls SweepCsvRows::append (sweep_rows.h), consume()
/// writes `rendered` to the file; the Markdown means: wants_rows() false, consume() adds
/// block.totals[w] per (job, zone, window).
Status run_sweep_blocks(const std::vector<SweepJob>& jobs, const std::vector<SweepZone>& zones,
                        const std::vector<ShiftWindow>& windows, const SweepOptions& options,
                        SweepSink& sink);

/// Runs every job × zone cell and hands each over whole (per-start vectors, memory grows with
/// the starts: prefer run_sweep_blocks for large sweeps). `on_cell` is called once per cell,
/// serialised, in zone-major order. Errors as run_sweep_blocks.
Status run_sweep(const std::vector<SweepJob>& jobs, const std::vector<SweepZone>& zones,
                 const std::vector<ShiftWindow>& windows, const SweepOptions& options,
                 const std::function<void(SweepCell&&)>& on_cell);

/// One job in one zone for the given windows, computed directly on one thread.
SweepCell sweep_cell(const SweepJob& job, const SweepZone& zone, const FlatSweepIndex& index,
                     const std::vector<ShiftWindow>& windows, Nanos slot,
                     FlatSweepWorkspace& workspace);

}  // namespace carbonclock

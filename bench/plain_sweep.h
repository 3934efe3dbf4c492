// The baseline the sweep benchmark measures carbonclock against: a plain, independent
// implementation of the same definitions (docs/shifting.md) on the same slotted series, as a
// competent programmer would first write it.
//   Flexible Start: integer prefix sums and a sliding-window minimum (monotonic deque, earliest
//   on ties).
//   Pause and Resume: one Fenwick tree over the ranks of the zone's distinct values holding
//   slot counts and sums; the window slides slot by slot (every slot leaving or entering is one
//   tree update; a window that does not overlap the previous one is rebuilt slot by slot);
//   binary descent gives the sum of the K smallest. No pause counts.
//   Work is split over threads by (zone, job); results are aggregated as they are computed.
// It shares no code with src/shifting/flat_sweep.* and sweep.*: only the inputs (slotted
// series, job and window slot counts) and the reduction formula.
#pragma once

#include <cstdint>
#include <vector>

#include "shifting/slots.h"

namespace carbonclock::plain {

/// One zone: its series and its requested starts as slot indices, ascending (−1: before the
/// data).
struct Zone {
  const SlottedIntensity* intensity = nullptr;
  std::vector<int64_t> starts;
};

/// One flat job: K slots, grams per µg/kWh summed over slots, N per window.
struct Job {
  size_t job_slots = 0;
  double grams_per_ug = 0;
  std::vector<size_t> window_slots;
};

/// Per (job, zone, window): what the Markdown means need, and exact checksums of the results.
struct Totals {
  size_t ok = 0;
  size_t skipped = 0;
  double fs_reduction_pct = 0;
  double pr_reduction_pct = 0;
  int64_t fs_ug = 0;      ///< Σ Flexible Start sums
  int64_t fs_offset = 0;  ///< Σ Flexible Start offsets
  int64_t pr_ug = 0;      ///< Σ Pause and Resume sums
};

/// What to compute: both algorithms, Flexible Start only, or just read every slot of each
/// window once (the streaming floor: no algorithm at all).
enum class Mode { kBoth, kFlexibleStartOnly, kReadOnce };

/// Every job × zone × window; result index (job × zones + zone) × windows + window. With
/// `thread_cpu_s`, the CPU seconds each thread spent.
std::vector<Totals> sweep(const std::vector<Zone>& zones, const std::vector<Job>& jobs,
                          unsigned threads, Mode mode = Mode::kBoth,
                          std::vector<double>* thread_cpu_s = nullptr);

}  // namespace carbonclock::plain

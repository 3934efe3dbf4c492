// The sweep's fast path for flat profiles: both algorithms for every requested start of one
// job (K slots) and one window (N slots) in one zone, without a search per start.
//   Flexible Start: window sums of K slots from integer prefix sums, and a sliding-window
//   minimum (monotonic deque, earliest on ties) over the N + 1 candidate starts: O(n) in all.
//   Pause and Resume: the sum of the K smallest slots of the sliding window [s, s + K + N),
//   kept in Fenwick trees over the slots' ranks (ties ranked earliest-first), queried by binary
//   descent: O(n log n) in all. The chosen set is exactly the slots ranked at or below the K-th
//   smallest rank τ, so its runs are K − #{adjacent pairs in the window whose larger rank ≤ τ};
//   a second Fenwick tree over the pairs' larger ranks counts them, which gives the exact
//   pause count for every start in O(log n).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "shifting/slots.h"

namespace carbonclock {

/// Per-zone precomputation shared (read-only, thread-safe) by every job and window.
class FlatSweepIndex {
 public:
  explicit FlatSweepIndex(const SlottedIntensity& intensity);

  size_t size() const { return rank_.size(); }
  const SlottedIntensity& intensity() const { return *intensity_; }

  const SlottedIntensity* intensity_;
  std::vector<int64_t> prefix_ug_;   ///< size()+1: Σ µg/kWh of slots [0, i)
  std::vector<int32_t> rank_;        ///< 1-based rank of slot i by (value, index)
  std::vector<int32_t> pair_rank_;   ///< max(rank[i-1], rank[i]); pair_rank_[0] unused
  std::vector<int64_t> ug_by_rank_;  ///< size()+1: value of the slot with rank r
};

/// What both algorithms give for one requested start; sums in µg/kWh (× energy per slot / 1e6
/// = grams).
struct FlatStartResult {
  int64_t baseline_ug = 0;  ///< Σ of slots [s, s + K)
  int64_t fs_ug = 0;        ///< Flexible Start's best window sum
  int64_t pr_ug = 0;        ///< sum of the K lowest slots of [s, s + K + N)
  int32_t fs_offset = 0;    ///< chosen start − s (earliest on ties)
  int32_t pr_pauses = 0;    ///< pauses of the Pause and Resume set (earliest on ties)
};

/// Reusable scratch space of one thread.
struct FlatSweepWorkspace {
  std::vector<int32_t> count;  ///< Fenwick: slots in the window per rank
  std::vector<int64_t> sum;    ///< Fenwick: their values
  std::vector<int32_t> pairs;  ///< Fenwick: adjacent pairs in the window per larger rank
  std::vector<int32_t> deque;  ///< monotonic queue of candidate starts
};

/// Both algorithms for each start. `starts` must be ascending and each must satisfy
/// start + K + N <= index.size() (coverage is the caller's check). K >= 1.
std::vector<FlatStartResult> sweep_flat(const FlatSweepIndex& index, size_t job_slots,
                                        size_t window_slots, std::span<const size_t> starts,
                                        FlatSweepWorkspace& workspace);

}  // namespace carbonclock

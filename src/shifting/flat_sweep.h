// The sweep's fast path for flat profiles: both algorithms for every requested start of one
// job (K slots) and one window (N slots) in one zone, without a search per start.
//
// The series is cut into runs of equal consecutive values (hourly data on 5-minute slots has
// runs of twelve) and every distinct value gets a rank; ties between equal values are ordered
// by time separately, so the per-value counts span the distinct values (at most 8,784 for a
// year of hourly data), not the slots, and stay in cache; the work per start is proportional
// to the runs that enter and leave the window, not to its slots.
//   Flexible Start: window sums of K slots from integer prefix sums. A window sum is linear in
//   the start between breakpoints (a run starting at i or at i + K), so the earliest minimum
//   over the N + 1 candidates is at either end or at a breakpoint: a sliding-window minimum
//   (monotonic deque, earliest on ties) runs over the breakpoints only.
//   Pause and Resume: the window [s, s + K + N) is counted per value rank (slots, and adjacent
//   pairs under the rank of their larger value); a pointer at v*, the K-th smallest value,
//   carries the count, sum and pairs of the ranks below it, and a two-level presence bitmap
//   finds the next value present. When the window slides, only the runs entering and leaving
//   are counted and the pointer moves across the few values they cross: no logarithmic search.
//   The sum of the K smallest is the sum below v* plus the missing slots at v*. The slots equal
//   to v* that are chosen (the earliest ones: ties earliest-first) and the pairs among them
//   come from v*'s own list of runs, with prefix sums, by two binary searches. The chosen set's
//   runs are K − joined pairs, so pauses are exact for every start.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "shifting/slots.h"

namespace carbonclock {

/// Per-zone precomputation shared (read-only, thread-safe) by every job and window. Slot
/// indices are held as int32: a series must have fewer than 2^31 slots.
class FlatSweepIndex {
 public:
  explicit FlatSweepIndex(const SlottedIntensity& intensity);

  size_t size() const { return prefix_ug_.size() - 1; }
  /// Maximal runs of equal consecutive slot values.
  size_t runs() const { return run_rank_.size(); }
  /// Distinct slot values.
  size_t distinct() const { return value_by_rank_.size() - 1; }
  const SlottedIntensity& intensity() const { return *intensity_; }
  /// Bytes held by the index (not counting the intensity it points to).
  size_t memory_bytes() const;

 private:
  friend class FlatSweepWindow;

  const SlottedIntensity* intensity_;
  std::vector<int64_t> prefix_ug_;      ///< size()+1: Σ µg/kWh of slots [0, i)
  std::vector<int32_t> run_start_;      ///< runs()+1: first slot of run r; run_start_[R] = n
  std::vector<int32_t> run_rank_;       ///< 1-based rank of run r's value among distinct values
  std::vector<int32_t> run_pairs_;      ///< adjacent pairs whose larger value is run r's:
                                        ///< (length − 1) + [previous run lower] + [next lower]
  std::vector<int64_t> value_by_rank_;  ///< distinct()+1: the value of rank ρ (entry 0 unused)
  // The runs of each value, ascending in time (CSR by rank), with prefix sums over that order of
  // their lengths and of run_pairs_.
  std::vector<int32_t> rank_begin_;  ///< distinct()+2: runs of rank ρ are entries [ρ, ρ+1)
  std::vector<int32_t> rank_runs_;   ///< runs(): run ids
  std::vector<int32_t> rank_len_;    ///< runs()+1: Σ lengths of entries before e
  std::vector<int32_t> rank_pairs_;  ///< runs()+1: Σ run_pairs_ of entries before e
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

/// The sliding state of one pass: one job (K slots) and one window (N slots) over one zone's
/// index, queried start by start. Starts may come in any order; ascending starts are the fast
/// case (each run of equal values enters and leaves once), a step back or a jump past the
/// current window rebuilds the state from the new window's runs.
class FlatSweepWindow {
 public:
  /// Begins a pass; keeps the buffers' capacity. K >= 1.
  void reset(const FlatSweepIndex& index, size_t job_slots, size_t window_slots);
  /// Both algorithms at `start`. Requires start + K + N <= index.size() (coverage is the
  /// caller's check: uncovered slots would be priced as 0).
  FlatStartResult at(size_t start);

  size_t job_slots() const { return k_; }
  size_t window_slots() const { return n_; }
  const FlatSweepIndex* index() const { return index_; }

 private:
  struct Cell {
    int32_t count;  ///< the window's slots of this value
    int32_t pairs;  ///< the window's adjacent pairs whose larger value is this one
  };

  void flexible_start(size_t start, FlatStartResult& out);
  void pause_resume(size_t start, FlatStartResult& out);
  void move_window(int32_t lo, int32_t hi);
  int32_t update_by_later(int32_t x, int32_t y, int32_t run, int32_t sign);
  int32_t update_by_earlier(int32_t x, int32_t y, int32_t run, int32_t sign);
  void update_pair(int32_t later, int32_t run, int32_t sign);
  /// The run holding slot `pos` (runs() for pos = size()), searched from `hint` when it starts
  /// at or before pos.
  int32_t run_at(int32_t pos, int32_t hint) const;
  void apply(int32_t rank, int64_t value, int32_t count, int32_t pairs);
  void apply_pair(int32_t rank, int32_t pairs);
  void rebalance();
  size_t next_present(size_t from) const;
  size_t previous_present(size_t before) const;
  int32_t tie_pairs(int32_t rho, int32_t lo, int32_t hi, int32_t m) const;

  const FlatSweepIndex* index_ = nullptr;
  size_t k_ = 0, n_ = 0;
  // Flexible Start: breakpoints up to pushed_to_ are pushed; next_run_ and next_run_k_ are the
  // runs whose starts give the next breakpoints (i and i + K); deque of (start, sum) in a ring.
  size_t last_start_ = 0;
  int64_t pushed_to_ = -1;
  int32_t next_run_ = 0, next_run_k_ = 0;
  bool have_candidates_ = false;
  uint64_t head_ = 0, tail_ = 0, mask_ = 0;
  std::vector<int64_t> ring_start_;
  std::vector<int64_t> ring_sum_;
  // Pause and Resume: the window [lo_, hi_) counted per value rank; present_ has bit ρ set when
  // rank ρ has slots in the window, present_words_ bit w when present_[w] != 0. rho_ tracks the
  // rank of v*, the K-th smallest value, with the totals of the ranks below it.
  std::vector<Cell> cells_;
  std::vector<uint64_t> present_, present_words_;
  int32_t rho_ = 1, count_below_ = 0, pairs_below_ = 0;
  int64_t sum_below_ = 0;
  int32_t lo_ = 0, hi_ = 0, run_lo_ = 0, run_hi_ = 0;  ///< runs holding lo_ and hi_ − 1
  bool have_window_ = false;
};

/// Reusable scratch space of one thread: one pass per window.
struct FlatSweepWorkspace {
  std::vector<FlatSweepWindow> windows;
};

/// Both algorithms for each start. `starts` should be ascending (any order is correct) and each
/// must satisfy start + K + N <= index.size() (coverage is the caller's check). K >= 1.
std::vector<FlatStartResult> sweep_flat(const FlatSweepIndex& index, size_t job_slots,
                                        size_t window_slots, std::span<const size_t> starts,
                                        FlatSweepWorkspace& workspace);

}  // namespace carbonclock

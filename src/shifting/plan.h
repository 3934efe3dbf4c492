// One shifting plan: a job at one requested start in one zone, moved by Flexible Start or
// Pause and Resume inside a window of N slots. Both are oracles: they see the actual series.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "common/error.h"
#include "shifting/slots.h"

namespace carbonclock {

enum class Algorithm { kFlexibleStart, kPauseResume };

const char* to_string(Algorithm a);  ///< "flexible-start" | "pause-resume"

/// Where and when a job runs, and what it emits compared with running unshifted.
struct Plan {
  Algorithm algorithm = Algorithm::kFlexibleStart;
  size_t start_slot = 0;      ///< requested start (index into the SlottedIntensity)
  size_t window_slots = 0;    ///< N
  double baseline_g = 0;      ///< the job at the requested start, unshifted
  double shifted_g = 0;       ///< the job in `slots`
  std::vector<size_t> slots;  ///< chosen slot indices, ascending; one per job slot, in order
  size_t pauses = 0;          ///< gaps between runs of consecutive chosen slots
  /// 100 × (baseline − shifted) / baseline; 0 when the baseline is 0.
  double reduction_pct() const;
};

/// 100 × (baseline − shifted) / baseline; 0 when the baseline is 0.
double reduction_pct(double baseline_g, double shifted_g);

/// Checks that the window [start, start + slot_count) lies inside the data and is covered.
/// Error says which (outside the data, or the first uncovered slot's time).
Status check_window(const SlottedIntensity& intensity, size_t start, size_t slot_count);

/// Emissions of the job's slot k running in slots[k]: Σ e_k × I(slots[k]). Flat profiles are
/// priced as e × Σ I with the sum in exact integer µg/kWh.
double emissions_g(const JobProfile& job, const SlottedIntensity& intensity,
                   std::span<const size_t> slots);

/// Number of gaps between runs of consecutive slots in an ascending list.
size_t count_pauses(std::span<const size_t> slots);

/// Flexible Start: candidate starts start, start+1, …, start+N; the job runs uninterrupted;
/// lowest emissions, earliest on ties. Flat profiles: sliding integer sum, O(K + N); measured
/// profiles: the correlation Σ e_k I(o + k) at every offset, O(K·N). Error when the window
/// [start, start + K + N) is outside the data or has a gap.
Result<Plan> flexible_start(const JobProfile& job, const SlottedIntensity& intensity, size_t start,
                            size_t window_slots);

/// Pause and Resume: the job runs in K slots of [start, start + K + N), its work in order.
/// Flat profiles: the K lowest-intensity slots, earliest on ties (O(W log W)). Measured
/// profiles: the exact order-preserving optimum by dynamic programming over (job slot k, window
/// slot t), restricted to the feasible band t − k ∈ [0, N]: O(K·(N+1)) time and memory; among
/// equal optima the lexicographically earliest slot list. Errors as flexible_start, and when
/// K·(N+1) exceeds 6e7 cells (use a longer --slot).
Result<Plan> pause_resume(const JobProfile& job, const SlottedIntensity& intensity, size_t start,
                          size_t window_slots);

/// Dispatches to flexible_start or pause_resume.
Result<Plan> make_plan(Algorithm algorithm, const JobProfile& job,
                       const SlottedIntensity& intensity, size_t start, size_t window_slots);

}  // namespace carbonclock

// Test-only brute-force references for both shifting algorithms: every candidate start, every
// subset of the window. Obviously right and slow; the fast algorithms must equal them. Costs
// use the slots' integer µg/kWh: flat profiles sum the integers exactly (the objective is
// e × Σ I), measured profiles sum e_k × I left to right in doubles.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "shifting/slots.h"

namespace carbonclock::brute {

struct Choice {
  double emissions_g = 0;
  std::vector<size_t> slots;  ///< ascending absolute slot indices
  size_t pauses = 0;
};

inline bool is_flat(const std::vector<double>& energy_kwh) {
  return std::all_of(energy_kwh.begin(), energy_kwh.end(),
                     [&](double e) { return e == energy_kwh.front(); });
}

/// Emissions in µg (the unit the comparisons run in) of job slot k in slots[k].
inline double cost_ug(const std::vector<double>& energy_kwh, const std::vector<int64_t>& ug,
                      const std::vector<size_t>& slots) {
  if (is_flat(energy_kwh)) {
    int64_t sum = 0;
    for (size_t s : slots) sum += ug[s];
    return energy_kwh.front() * static_cast<double>(sum);
  }
  double sum = 0;
  for (size_t k = 0; k < slots.size(); ++k)
    sum += energy_kwh[k] * static_cast<double>(ug[slots[k]]);
  return sum;
}

inline size_t pauses(const std::vector<size_t>& slots) {
  size_t p = 0;
  for (size_t k = 1; k < slots.size(); ++k) p += slots[k] != slots[k - 1] + 1 ? 1 : 0;
  return p;
}

inline Choice make_choice(const std::vector<double>& energy_kwh, const std::vector<int64_t>& ug,
                          std::vector<size_t> slots) {
  Choice c;
  c.emissions_g = cost_ug(energy_kwh, ug, slots) / kMicrogramsPerGram;
  c.pauses = pauses(slots);
  c.slots = std::move(slots);
  return c;
}

/// The job unshifted at `start`.
inline Choice baseline(const std::vector<double>& energy_kwh, const std::vector<int64_t>& ug,
                       size_t start) {
  std::vector<size_t> slots(energy_kwh.size());
  std::iota(slots.begin(), slots.end(), start);
  return make_choice(energy_kwh, ug, slots);
}

/// Every start in [start, start + n]; the first strictly lowest wins.
inline Choice flexible_start(const std::vector<double>& energy_kwh, const std::vector<int64_t>& ug,
                             size_t start, size_t n) {
  double best = std::numeric_limits<double>::infinity();
  std::vector<size_t> best_slots;
  for (size_t o = 0; o <= n; ++o) {
    std::vector<size_t> slots(energy_kwh.size());
    std::iota(slots.begin(), slots.end(), start + o);
    double c = cost_ug(energy_kwh, ug, slots);
    if (c < best) {
      best = c;
      best_slots = slots;
    }
  }
  return make_choice(energy_kwh, ug, best_slots);
}

/// Every K-subset of [start, start + K + n) in lexicographic order; the first strictly lowest
/// wins (so ties go to the lexicographically earliest set). Exponential: small windows only.
inline Choice pause_resume_exhaustive(const std::vector<double>& energy_kwh,
                                      const std::vector<int64_t>& ug, size_t start, size_t n) {
  const size_t k = energy_kwh.size(), w = k + n;
  std::vector<size_t> idx(k);
  std::iota(idx.begin(), idx.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  std::vector<size_t> best_slots;
  while (true) {
    std::vector<size_t> slots(k);
    for (size_t i = 0; i < k; ++i) slots[i] = start + idx[i];
    double c = cost_ug(energy_kwh, ug, slots);
    if (c < best) {
      best = c;
      best_slots = slots;
    }
    // Next combination in lexicographic order.
    size_t i = k;
    while (i > 0 && idx[i - 1] == w - k + i - 1) --i;
    if (i == 0) break;
    ++idx[i - 1];
    for (size_t j = i; j < k; ++j) idx[j] = idx[j - 1] + 1;
  }
  return make_choice(energy_kwh, ug, best_slots);
}

/// Flat profiles: the K lowest slots of the window by (value, index), found by sorting the
/// window afresh — the per-start reference the fast sweep replaces.
inline Choice pause_resume_flat_sort(const std::vector<double>& energy_kwh,
                                     const std::vector<int64_t>& ug, size_t start, size_t n) {
  const size_t k = energy_kwh.size();
  std::vector<size_t> order(k + n);
  std::iota(order.begin(), order.end(), start);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ug[a] != ug[b] ? ug[a] < ug[b] : a < b; });
  std::vector<size_t> slots(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
  std::sort(slots.begin(), slots.end());
  return make_choice(energy_kwh, ug, slots);
}

}  // namespace carbonclock::brute

#include "shifting/flat_sweep.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <numeric>

namespace carbonclock {
namespace {

template <typename T>
void fenwick_add(std::vector<T>& tree, size_t pos, T delta) {
  for (size_t i = pos; i < tree.size(); i += i & (~i + 1)) tree[i] += delta;
}

int32_t fenwick_prefix(const std::vector<int32_t>& tree, size_t pos) {
  int32_t total = 0;
  for (size_t i = pos; i > 0; i -= i & (~i + 1)) total += tree[i];
  return total;
}

}  // namespace

FlatSweepIndex::FlatSweepIndex(const SlottedIntensity& intensity) : intensity_(&intensity) {
  const size_t n = intensity.size();
  const std::vector<int64_t>& ug = intensity.ug_per_kwh;
  prefix_ug_.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i) prefix_ug_[i + 1] = prefix_ug_[i] + ug[i];
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return ug[static_cast<size_t>(a)] < ug[static_cast<size_t>(b)];
  });
  rank_.assign(n, 0);
  ug_by_rank_.assign(n + 1, 0);
  for (size_t r = 0; r < n; ++r) {
    auto slot = static_cast<size_t>(order[r]);
    rank_[slot] = static_cast<int32_t>(r + 1);
    ug_by_rank_[r + 1] = ug[slot];
  }
  pair_rank_.assign(n, 0);
  for (size_t i = 1; i < n; ++i) pair_rank_[i] = std::max(rank_[i - 1], rank_[i]);
}

std::vector<FlatStartResult> sweep_flat(const FlatSweepIndex& index, size_t job_slots,
                                        size_t window_slots, std::span<const size_t> starts,
                                        FlatSweepWorkspace& ws) {
  const size_t n = index.size();
  const size_t k_slots = job_slots;
  const size_t w_slots = job_slots + window_slots;
  const std::vector<int64_t>& prefix = index.prefix_ug_;
  std::vector<FlatStartResult> out(starts.size());
  if (starts.empty()) return out;
  assert(k_slots >= 1);

  ws.count.assign(n + 1, 0);
  ws.sum.assign(n + 1, 0);
  ws.pairs.assign(n + 1, 0);
  ws.deque.resize(n + 1);
  const size_t top_step = std::bit_floor(n);

  // Flexible Start state: candidates i in [s, s + N], window sum prefix[i + K] − prefix[i].
  auto window_sum = [&](size_t i) { return prefix[i + k_slots] - prefix[i]; };
  size_t head = 0, tail = 0;  // deque is ws.deque[head, tail)
  size_t next_candidate = 0;  // first candidate not yet pushed

  // Pause and Resume state: slots [lo, hi) and pairs (i−1, i) for i in [lo + 1, hi).
  size_t lo = 0, hi = 0;
  auto add_slot = [&](size_t i) {
    auto r = static_cast<size_t>(index.rank_[i]);
    fenwick_add<int32_t>(ws.count, r, 1);
    fenwick_add<int64_t>(ws.sum, r, index.ug_by_rank_[r]);
  };
  auto remove_slot = [&](size_t i) {
    auto r = static_cast<size_t>(index.rank_[i]);
    fenwick_add<int32_t>(ws.count, r, -1);
    fenwick_add<int64_t>(ws.sum, r, -index.ug_by_rank_[r]);
  };
  auto add_pair = [&](size_t i, int32_t delta) {
    fenwick_add<int32_t>(ws.pairs, static_cast<size_t>(index.pair_rank_[i]), delta);
  };

  for (size_t q = 0; q < starts.size(); ++q) {
    const size_t s = starts[q];
    assert(s + w_slots <= n);
    FlatStartResult& res = out[q];
    res.baseline_ug = window_sum(s);

    // Flexible Start.
    if (next_candidate < s) {
      next_candidate = s;
      head = tail = 0;
    }
    for (; next_candidate <= s + window_slots; ++next_candidate) {
      int64_t v = window_sum(next_candidate);
      while (tail > head && window_sum(static_cast<size_t>(ws.deque[tail - 1])) > v) --tail;
      ws.deque[tail++] = static_cast<int32_t>(next_candidate);
    }
    while (static_cast<size_t>(ws.deque[head]) < s) ++head;
    auto best = static_cast<size_t>(ws.deque[head]);
    res.fs_ug = window_sum(best);
    res.fs_offset = static_cast<int32_t>(best - s);

    // Pause and Resume: slide [lo, hi) to [s, s + W).
    const size_t new_lo = s, new_hi = s + w_slots;
    if (new_lo >= hi) {
      for (size_t i = lo; i < hi; ++i) remove_slot(i);
      for (size_t i = lo + 1; i < hi; ++i) add_pair(i, -1);
      for (size_t i = new_lo; i < new_hi; ++i) add_slot(i);
      for (size_t i = new_lo + 1; i < new_hi; ++i) add_pair(i, 1);
    } else {
      for (size_t i = lo; i < new_lo; ++i) remove_slot(i);
      for (size_t i = lo + 1; i < new_lo + 1; ++i) add_pair(i, -1);
      for (size_t i = hi; i < new_hi; ++i) add_slot(i);
      for (size_t i = std::max(hi, new_lo + 1); i < new_hi; ++i) add_pair(i, 1);
    }
    lo = new_lo;
    hi = new_hi;
    // Binary descent: the largest position p with count(ranks ≤ p) < K; τ = p + 1.
    size_t pos = 0;
    auto remaining = static_cast<int32_t>(k_slots);
    int64_t sum = 0;
    for (size_t step = top_step; step > 0; step >>= 1) {
      size_t next = pos + step;
      if (next <= n && ws.count[next] < remaining) {
        pos = next;
        remaining -= ws.count[next];
        sum += ws.sum[next];
      }
    }
    const size_t tau = pos + 1;
    res.pr_ug = sum + index.ug_by_rank_[tau];
    int32_t joined = fenwick_prefix(ws.pairs, tau);
    res.pr_pauses = static_cast<int32_t>(k_slots) - joined - 1;
  }
  return out;
}

}  // namespace carbonclock

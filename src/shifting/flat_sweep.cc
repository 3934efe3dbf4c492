#include "shifting/flat_sweep.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <numeric>

namespace carbonclock {

FlatSweepIndex::FlatSweepIndex(const SlottedIntensity& intensity) : intensity_(&intensity) {
  const size_t n = intensity.size();
  const std::vector<int64_t>& ug = intensity.ug_per_kwh;
  assert(n < static_cast<size_t>(INT32_MAX));
  prefix_ug_.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i) prefix_ug_[i + 1] = prefix_ug_[i] + ug[i];

  for (size_t i = 0; i < n; ++i) {
    if (i == 0 || ug[i] != ug[i - 1]) run_start_.push_back(static_cast<int32_t>(i));
  }
  const size_t runs = run_start_.size();
  run_start_.push_back(static_cast<int32_t>(n));

  // Runs by (value, start): the CSR order of the per-value run lists; ranks follow from it.
  rank_runs_.resize(runs);
  std::iota(rank_runs_.begin(), rank_runs_.end(), 0);
  auto value = [&](int32_t r) {
    return ug[static_cast<size_t>(run_start_[static_cast<size_t>(r)])];
  };
  std::stable_sort(rank_runs_.begin(), rank_runs_.end(),
                   [&](int32_t a, int32_t b) { return value(a) < value(b); });
  run_rank_.assign(runs, 0);
  value_by_rank_.assign(1, 0);
  rank_begin_.assign(1, 0);  // rank 0 has no runs
  for (size_t e = 0; e < runs; ++e) {
    int32_t r = rank_runs_[e];
    if (e == 0 || value(r) != value(rank_runs_[e - 1])) {
      value_by_rank_.push_back(value(r));
      rank_begin_.push_back(static_cast<int32_t>(e));
    }
    run_rank_[static_cast<size_t>(r)] = static_cast<int32_t>(value_by_rank_.size() - 1);
  }
  rank_begin_.push_back(static_cast<int32_t>(runs));

  run_pairs_.assign(runs, 0);
  for (size_t r = 0; r < runs; ++r) {
    int32_t rank = run_rank_[r];
    int32_t pairs = run_start_[r + 1] - run_start_[r] - 1;
    if (r > 0 && run_rank_[r - 1] < rank) ++pairs;
    if (r + 1 < runs && run_rank_[r + 1] < rank) ++pairs;
    run_pairs_[r] = pairs;
  }
  rank_len_.assign(runs + 1, 0);
  rank_pairs_.assign(runs + 1, 0);
  for (size_t e = 0; e < runs; ++e) {
    auto r = static_cast<size_t>(rank_runs_[e]);
    rank_len_[e + 1] = rank_len_[e] + (run_start_[r + 1] - run_start_[r]);
    rank_pairs_[e + 1] = rank_pairs_[e] + run_pairs_[r];
  }
}

size_t FlatSweepIndex::memory_bytes() const {
  return prefix_ug_.capacity() * sizeof(int64_t) + value_by_rank_.capacity() * sizeof(int64_t) +
         (run_start_.capacity() + run_rank_.capacity() + run_pairs_.capacity() +
          rank_begin_.capacity() + rank_runs_.capacity() + rank_len_.capacity() +
          rank_pairs_.capacity()) *
             sizeof(int32_t);
}

void FlatSweepWindow::reset(const FlatSweepIndex& index, size_t job_slots, size_t window_slots) {
  assert(job_slots >= 1);
  index_ = &index;
  k_ = job_slots;
  n_ = window_slots;
  // The deque only ever holds candidates of [s, s + N].
  const size_t capacity = std::bit_ceil(window_slots + 2);
  ring_start_.resize(capacity);
  ring_sum_.resize(capacity);
  mask_ = capacity - 1;
  head_ = tail_ = 0;
  last_start_ = 0;
  pushed_to_ = -1;
  next_run_ = next_run_k_ = 0;
  have_candidates_ = false;
  // Only ranks present in the last window can hold counts (a pair's larger value is in the
  // window): clear those, not every rank, then size for this index (growth is zeroed).
  for (size_t s = 0; s < present_words_.size(); ++s) {
    for (uint64_t words = present_words_[s]; words != 0; words &= words - 1) {
      const size_t w = (s << 6) + static_cast<size_t>(std::countr_zero(words));
      for (uint64_t bits = present_[w]; bits != 0; bits &= bits - 1) {
        cells_[(w << 6) + static_cast<size_t>(std::countr_zero(bits))] = Cell{0, 0};
      }
      present_[w] = 0;
    }
    present_words_[s] = 0;
  }
  const size_t sigma = index.distinct();
  cells_.resize(sigma + 1, Cell{0, 0});
  present_.resize(sigma / 64 + 1, 0);
  present_words_.resize(present_.size() / 64 + 1, 0);
  rho_ = 1;
  count_below_ = pairs_below_ = 0;
  sum_below_ = 0;
  have_window_ = false;
  lo_ = hi_ = run_lo_ = run_hi_ = 0;
}

FlatStartResult FlatSweepWindow::at(size_t start) {
  assert(index_ && start + k_ + n_ <= index_->size());
  FlatStartResult out;
  const std::vector<int64_t>& prefix = index_->prefix_ug_;
  out.baseline_ug = prefix[start + k_] - prefix[start];
  flexible_start(start, out);
  pause_resume(start, out);
  return out;
}

void FlatSweepWindow::flexible_start(size_t start, FlatStartResult& out) {
  // The window sum f(i) = P[i + K] − P[i] is linear in i between breakpoints, the i where a run
  // of equal values starts at i or at i + K; so its earliest minimum over [s, s + N] lies at s,
  // at s + N, or at a breakpoint in between (on a falling piece the next point is lower). The
  // deque holds the breakpoints of (s, s + N] by increasing f, earliest first on ties.
  const int64_t* prefix = index_->prefix_ug_.data();
  const int32_t* rs = index_->run_start_.data();
  const auto runs = static_cast<int32_t>(index_->runs());
  const auto k = static_cast<int64_t>(k_);
  const auto s = static_cast<int64_t>(start);
  const int64_t last = s + static_cast<int64_t>(n_);
  if (!have_candidates_ || start < last_start_ || pushed_to_ < s) {
    head_ = tail_ = 0;
    const bool forward = have_candidates_ && start >= last_start_;
    next_run_ = run_at(static_cast<int32_t>(s), forward ? next_run_ - 1 : 0) + 1;
    next_run_k_ =
        run_at(static_cast<int32_t>(s + k), forward ? std::min(next_run_k_, runs) - 1 : 0) + 1;
  }
  have_candidates_ = true;
  last_start_ = start;
  // Locals: stores into the ring could alias the members, which would be reloaded each time.
  uint64_t head = head_, tail = tail_;
  int32_t next_run = next_run_, next_run_k = next_run_k_;
  const uint64_t mask = mask_;
  int64_t* ring_start = ring_start_.data();
  int64_t* ring_sum = ring_sum_.data();
  while (head < tail && ring_start[head & mask] <= s) ++head;
  while (true) {
    // rs[runs] = n > s + N, so next_run stops at runs; next_run_k may pass it when n − K = s + N.
    const int64_t a = rs[next_run];
    const int64_t b = next_run_k <= runs ? rs[next_run_k] - k : INT64_MAX;
    const int64_t point = std::min(a, b);
    if (point > last) break;
    const int64_t sum = prefix[point + k] - prefix[point];
    while (tail > head && ring_sum[(tail - 1) & mask] > sum) --tail;
    ring_start[tail & mask] = point;
    ring_sum[tail & mask] = sum;
    ++tail;
    next_run += a == point ? 1 : 0;
    next_run_k += b == point ? 1 : 0;
  }
  head_ = head;
  tail_ = tail;
  next_run_ = next_run;
  next_run_k_ = next_run_k;
  pushed_to_ = last;
  int64_t best = s, best_sum = out.baseline_ug;  // f(s), set by at()
  if (head < tail && ring_sum[head & mask] < best_sum) {
    best = ring_start[head & mask];
    best_sum = ring_sum[head & mask];
  }
  const int64_t end_sum = prefix[last + k] - prefix[last];
  if (end_sum < best_sum) {
    best = last;
    best_sum = end_sum;
  }
  out.fs_ug = best_sum;
  out.fs_offset = static_cast<int32_t>(best - s);
}

void FlatSweepWindow::apply(int32_t rank, int64_t value, int32_t count, int32_t pairs) {
  const auto r = static_cast<size_t>(rank);
  Cell& cell = cells_[r];
  const bool was = cell.count > 0;
  cell.count += count;
  cell.pairs += pairs;
  if (was != (cell.count > 0)) {
    const size_t w = r >> 6;
    const uint64_t bit = uint64_t{1} << (r & 63);
    present_[w] ^= bit;
    // The word's own bit flips when it gains its first rank or loses its last.
    if (present_[w] == (was ? 0 : bit)) present_words_[w >> 6] ^= uint64_t{1} << (w & 63);
  }
  // Branch-free: whether a rank lies below v* is as good as random.
  const int32_t below = -static_cast<int32_t>(rank < rho_);
  count_below_ += count & below;
  pairs_below_ += pairs & below;
  sum_below_ += (static_cast<int64_t>(count) * value) & static_cast<int64_t>(below);
}

void FlatSweepWindow::apply_pair(int32_t rank, int32_t pairs) {
  cells_[static_cast<size_t>(rank)].pairs += pairs;
  pairs_below_ += pairs & -static_cast<int32_t>(rank < rho_);
}

int32_t FlatSweepWindow::run_at(int32_t pos, int32_t hint) const {
  // Starts ascend, so the run is usually the hint or a few after it: walk a little, then
  // search what is left.
  const int32_t* rs = index_->run_start_.data();
  const auto runs = static_cast<int32_t>(index_->runs());
  if (pos >= rs[runs]) return runs;
  int32_t r = rs[hint] <= pos ? hint : 0;
  for (int i = 0; i < 4 && rs[r + 1] <= pos; ++i) ++r;
  if (rs[r + 1] <= pos)
    r = static_cast<int32_t>(std::upper_bound(rs + r + 1, rs + runs, pos) - rs) - 1;
  return r;
}

size_t FlatSweepWindow::next_present(size_t from) const {
  size_t w = from >> 6;
  if (w < present_.size()) {
    uint64_t bits = present_[w] & (~uint64_t{0} << (from & 63));
    if (bits) return (w << 6) + static_cast<size_t>(std::countr_zero(bits));
  }
  ++w;  // the first non-empty word after w, from the summary level
  size_t s = w >> 6;
  uint64_t bits = s < present_words_.size() ? present_words_[s] & (~uint64_t{0} << (w & 63)) : 0;
  while (bits == 0) {
    ++s;
    assert(s < present_words_.size());
    bits = present_words_[s];
  }
  w = (s << 6) + static_cast<size_t>(std::countr_zero(bits));
  return (w << 6) + static_cast<size_t>(std::countr_zero(present_[w]));
}

size_t FlatSweepWindow::previous_present(size_t before) const {
  assert(before > 0);
  size_t w = (before - 1) >> 6;
  uint64_t bits = present_[w] & (~uint64_t{0} >> (63 - ((before - 1) & 63)));
  if (bits) return (w << 6) + 63 - static_cast<size_t>(std::countl_zero(bits));
  assert(w > 0);
  --w;  // the last non-empty word up to w, from the summary level
  size_t s = w >> 6;
  bits = present_words_[s] & (~uint64_t{0} >> (63 - (w & 63)));
  while (bits == 0) {
    assert(s > 0);
    --s;
    bits = present_words_[s];
  }
  w = (s << 6) + 63 - static_cast<size_t>(std::countl_zero(bits));
  return (w << 6) + 63 - static_cast<size_t>(std::countl_zero(present_[w]));
}

void FlatSweepWindow::rebalance() {
  // Invariant after: count_below_ < K <= count_below_ + cells_[rho_].count.
  const auto k = static_cast<int32_t>(k_);
  const int64_t* value = index_->value_by_rank_.data();
  while (count_below_ >= k) {
    rho_ = static_cast<int32_t>(previous_present(static_cast<size_t>(rho_)));
    const Cell& c = cells_[static_cast<size_t>(rho_)];
    count_below_ -= c.count;
    sum_below_ -= static_cast<int64_t>(c.count) * value[rho_];
    pairs_below_ -= c.pairs;
  }
  while (count_below_ + cells_[static_cast<size_t>(rho_)].count < k) {
    const Cell& c = cells_[static_cast<size_t>(rho_)];
    count_below_ += c.count;
    sum_below_ += static_cast<int64_t>(c.count) * value[rho_];
    pairs_below_ += c.pairs;
    rho_ = static_cast<int32_t>(next_present(static_cast<size_t>(rho_) + 1));
  }
}

int32_t FlatSweepWindow::update_by_later(int32_t x, int32_t y, int32_t run, int32_t sign) {
  // The slots [x, y) and the pairs (i − 1, i) for i in [x, y); `run` starts at or before x.
  const int32_t* rs = index_->run_start_.data();
  const int32_t* rank = index_->run_rank_.data();
  const int64_t* ug = index_->intensity_->ug_per_kwh.data();
  while (rs[run + 1] <= x) ++run;
  while (x < y) {
    const int32_t end = rs[run + 1], b = std::min(end, y), count = b - x;
    int32_t internal = count;
    if (x == rs[run]) {  // the pair (x − 1, x) joins the previous run, if any
      --internal;
      if (run > 0) {
        const int32_t join = std::max(rank[run - 1], rank[run]);
        if (join == rank[run]) {
          ++internal;
        } else {
          apply_pair(join, sign);
        }
      }
    }
    apply(rank[run], ug[rs[run]], sign * count, sign * internal);
    x = b;
    if (x == end && x < y) ++run;
  }
  return run;
}

int32_t FlatSweepWindow::update_by_earlier(int32_t x, int32_t y, int32_t run, int32_t sign) {
  // The slots [x, y) and the pairs (j, j + 1) for j in [x, y); `run` starts at or before x.
  const int32_t* rs = index_->run_start_.data();
  const int32_t* rank = index_->run_rank_.data();
  const int64_t* ug = index_->intensity_->ug_per_kwh.data();
  const auto runs = static_cast<int32_t>(index_->runs());
  while (rs[run + 1] <= x) ++run;
  while (x < y) {
    const int32_t end = rs[run + 1], b = std::min(end, y), count = b - x;
    int32_t internal = count;
    if (b == end) {  // the pair (end − 1, end) joins the next run, if any
      --internal;
      if (run + 1 < runs) {
        const int32_t join = std::max(rank[run], rank[run + 1]);
        if (join == rank[run]) {
          ++internal;
        } else {
          apply_pair(join, sign);
        }
      }
    }
    apply(rank[run], ug[rs[run]], sign * count, sign * internal);
    x = b;
    if (x == end && x < y) ++run;
  }
  return run;
}

void FlatSweepWindow::update_pair(int32_t later, int32_t run, int32_t sign) {
  // The pair (later − 1, later) alone; `run` holds `later`.
  const int32_t* rs = index_->run_start_.data();
  const int32_t* rank = index_->run_rank_.data();
  apply_pair(later == rs[run] ? std::max(rank[run - 1], rank[run]) : rank[run], sign);
}

void FlatSweepWindow::move_window(int32_t lo, int32_t hi) {
  if (have_window_ && lo == lo_ && hi == hi_) return;
  const int32_t* rs = index_->run_start_.data();
  if (!have_window_ || lo < lo_ || lo >= hi_) {
    // First window, a step back, or no overlap: take the old window out, put the new one in.
    if (have_window_) {
      update_by_later(lo_, hi_, run_lo_, -1);
      if (lo_ > 0) update_pair(lo_, run_lo_, 1);  // (lo_ − 1, lo_) was never in
    }
    run_lo_ = run_at(lo, have_window_ && lo >= lo_ ? run_lo_ : 0);
    run_hi_ = update_by_later(lo, hi, run_lo_, 1);
    if (lo > 0) update_pair(lo, run_lo_, -1);
  } else {
    // Slide forward: slots [lo_, lo) leave with the pairs they begin, [hi_, hi) enter with the
    // pairs they end.
    run_lo_ = update_by_earlier(lo_, lo, run_lo_, -1);
    while (rs[run_lo_ + 1] <= lo) ++run_lo_;
    run_hi_ = update_by_later(hi_, hi, run_hi_, 1);
  }
  lo_ = lo;
  hi_ = hi;
  have_window_ = true;
}

int32_t FlatSweepWindow::tie_pairs(int32_t rho, int32_t lo, int32_t hi, int32_t m) const {
  // The chosen slots of value v* are the first m of v*'s slots in [lo, hi). Count the adjacent
  // pairs whose larger value is v* and whose slots are both chosen: pairs inside v*'s runs, and
  // pairs with a neighbouring run of lower value (always chosen).
  const FlatSweepIndex& ix = *index_;
  const int32_t* rs = ix.run_start_.data();
  const int32_t* rank = ix.run_rank_.data();
  const int32_t* list = ix.rank_runs_.data();
  const auto end_entry = static_cast<size_t>(ix.rank_begin_[static_cast<size_t>(rho) + 1]);
  const int32_t* first_entry =
      std::partition_point(list + ix.rank_begin_[static_cast<size_t>(rho)], list + end_entry,
                           [&](int32_t r) { return rs[r + 1] <= lo; });
  const auto e1 = static_cast<size_t>(first_entry - list);
  const int32_t r1 = *first_entry;
  const int32_t s1 = rs[r1], t1 = rs[r1 + 1];
  const int32_t a1 = std::max(s1, lo), b1 = std::min(t1, hi);
  const int32_t len1 = b1 - a1;
  const auto runs = static_cast<int32_t>(ix.runs());
  int32_t joined = (s1 > lo && rank[r1 - 1] < rho) ? 1 : 0;
  if (m <= len1) {
    const int32_t last = a1 + m - 1;
    joined += m - 1;
    if (last == t1 - 1 && t1 < hi && r1 + 1 < runs && rank[r1 + 1] < rho) ++joined;
    return joined;
  }
  // The first run's part is wholly chosen, and more of v*'s runs follow inside the window.
  joined += (len1 - 1) + (rank[r1 + 1] < rho ? 1 : 0);
  const int32_t rest = m - len1;
  const int32_t* len_prefix = ix.rank_len_.data();
  const int32_t base_len = len_prefix[e1 + 1];
  const int32_t* found =
      std::partition_point(len_prefix + e1 + 2, len_prefix + end_entry + 1,
                           [&](int32_t cumulative) { return cumulative - base_len < rest; });
  const auto x = static_cast<size_t>(found - len_prefix) - 1;
  // Entries between the first and x are whole runs inside the window, wholly chosen.
  joined += ix.rank_pairs_[x] - ix.rank_pairs_[e1 + 1];
  const int32_t rx = list[x];
  const int32_t sx = rs[rx], tx = rs[rx + 1];
  const int32_t chosen = rest - (len_prefix[x] - base_len);
  const int32_t last = sx + chosen - 1;
  joined += (chosen - 1) + (rank[rx - 1] < rho ? 1 : 0);
  if (last == tx - 1 && tx < hi && rx + 1 < runs && rank[rx + 1] < rho) ++joined;
  return joined;
}

void FlatSweepWindow::pause_resume(size_t start, FlatStartResult& out) {
  const auto lo = static_cast<int32_t>(start);
  const auto hi = static_cast<int32_t>(start + k_ + n_);
  move_window(lo, hi);
  rebalance();
  const int32_t missing = static_cast<int32_t>(k_) - count_below_;  // chosen slots of value v*
  out.pr_ug = sum_below_ +
              static_cast<int64_t>(missing) * index_->value_by_rank_[static_cast<size_t>(rho_)];
  const int32_t joined = pairs_below_ + tie_pairs(rho_, lo, hi, missing);
  out.pr_pauses = static_cast<int32_t>(k_) - 1 - joined;
}

std::vector<FlatStartResult> sweep_flat(const FlatSweepIndex& index, size_t job_slots,
                                        size_t window_slots, std::span<const size_t> starts,
                                        FlatSweepWorkspace& workspace) {
  std::vector<FlatStartResult> out;
  out.reserve(starts.size());
  if (starts.empty()) return out;
  if (workspace.windows.empty()) workspace.windows.resize(1);
  FlatSweepWindow& pass = workspace.windows.front();
  pass.reset(index, job_slots, window_slots);
  for (size_t s : starts) out.push_back(pass.at(s));
  return out;
}

}  // namespace carbonclock

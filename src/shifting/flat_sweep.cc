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
  next_candidate_ = last_start_ = 0;
  have_candidates_ = false;
  const size_t sigma = index.distinct();
  tree_.assign(sigma + 1, Node{0, 0, 0});
  top_step_ = sigma ? std::bit_floor(sigma) : 0;
  have_window_ = false;
  lo_ = hi_ = full_begin_ = full_end_ = 0;
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
  const int64_t* prefix = index_->prefix_ug_.data();
  // A jump past the pushed candidates, or a step back, starts the deque afresh.
  if (!have_candidates_ || start < last_start_ || next_candidate_ < start) {
    head_ = tail_ = 0;
    next_candidate_ = start;
  }
  have_candidates_ = true;
  last_start_ = start;
  while (head_ < tail_ && ring_start_[head_ & mask_] < static_cast<int32_t>(start)) ++head_;
  for (; next_candidate_ <= start + n_; ++next_candidate_) {
    int64_t sum = prefix[next_candidate_ + k_] - prefix[next_candidate_];
    while (tail_ > head_ && ring_sum_[(tail_ - 1) & mask_] > sum) --tail_;
    ring_start_[tail_ & mask_] = static_cast<int32_t>(next_candidate_);
    ring_sum_[tail_ & mask_] = sum;
    ++tail_;
  }
  out.fs_ug = ring_sum_[head_ & mask_];
  out.fs_offset = ring_start_[head_ & mask_] - static_cast<int32_t>(start);
}

void FlatSweepWindow::add_run(int32_t r, int32_t sign) {
  const FlatSweepIndex& ix = *index_;
  auto ru = static_cast<size_t>(r);
  auto rank = static_cast<size_t>(ix.run_rank_[ru]);
  const int32_t len = ix.run_start_[ru + 1] - ix.run_start_[ru];
  const int32_t count = sign * len;
  const int32_t pairs = sign * ix.run_pairs_[ru];
  const int64_t sum = static_cast<int64_t>(count) * ix.value_by_rank_[rank];
  const size_t size = tree_.size();
  Node* tree = tree_.data();
  for (size_t i = rank; i < size; i += i & (~i + 1)) {
    tree[i].count += count;
    tree[i].pairs += pairs;
    tree[i].sum += sum;
  }
}

void FlatSweepWindow::clear_tree() {
  if (have_window_ && full_begin_ < full_end_) {
    // Removing few runs is cheaper than zeroing every rank.
    if (static_cast<size_t>(full_end_ - full_begin_) * 8 < tree_.size()) {
      for (int32_t r = full_begin_; r < full_end_; ++r) add_run(r, -1);
    } else {
      std::fill(tree_.begin(), tree_.end(), Node{0, 0, 0});
    }
  }
  have_window_ = false;
}

void FlatSweepWindow::move_window(int32_t lo, int32_t hi) {
  const std::vector<int32_t>& rs = index_->run_start_;
  const auto runs = static_cast<int32_t>(index_->runs());
  if (have_window_ && lo == lo_ && hi == hi_) return;
  if (!have_window_ || lo < lo_ || hi < hi_ || lo >= hi_) {
    // First window, a step back, or no overlap: rebuild from binary searches.
    clear_tree();
    auto first = rs.begin();
    auto last = rs.begin() + runs + 1;
    full_begin_ = static_cast<int32_t>(std::lower_bound(first, last, lo) - first);
    full_end_ = static_cast<int32_t>(std::upper_bound(first, last, hi) - first) - 1;
    for (int32_t r = full_begin_; r < full_end_; ++r) add_run(r, 1);
  } else {
    // Slide forward: runs that start before the new lo leave, runs that now end by hi enter.
    int32_t fa = full_begin_, fb = full_end_;
    while (rs[static_cast<size_t>(fa)] < lo) ++fa;
    while (fb < runs && rs[static_cast<size_t>(fb) + 1] <= hi) ++fb;
    for (int32_t r = full_begin_, end = std::min(full_end_, fa); r < end; ++r) add_run(r, -1);
    for (int32_t r = std::max(fa, full_end_); r < fb; ++r) add_run(r, 1);
    full_begin_ = fa;
    full_end_ = fb;
  }
  lo_ = lo;
  hi_ = hi;
  have_window_ = true;
}

FlatSweepWindow::Part FlatSweepWindow::part(int32_t r, int32_t a, int32_t b, int32_t lo,
                                            int32_t hi) const {
  const FlatSweepIndex& ix = *index_;
  auto ru = static_cast<size_t>(r);
  Part p;
  p.rank = ix.run_rank_[ru];
  p.count = b - a;
  p.sum = static_cast<int64_t>(p.count) * ix.value_by_rank_[static_cast<size_t>(p.rank)];
  p.pairs = p.count - 1;
  // A pair with a neighbouring run counts when both slots are in the window and this run's
  // value is the larger.
  if (a > lo && ix.run_rank_[ru - 1] < p.rank) ++p.pairs;
  if (b < hi && ix.run_rank_[ru + 1] < p.rank) ++p.pairs;
  return p;
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
  const int32_t runs = static_cast<int32_t>(ix.runs());
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
  const FlatSweepIndex& ix = *index_;
  const auto lo = static_cast<int32_t>(start);
  const auto hi = static_cast<int32_t>(start + k_ + n_);
  move_window(lo, hi);
  const int32_t* rs = ix.run_start_.data();
  const int32_t* rank = ix.run_rank_.data();
  const auto runs = static_cast<int32_t>(ix.runs());
  const int32_t fa = full_begin_, fb = full_end_;
  // The runs cut by the window's ends.
  Part bottom, top;
  if (rs[fa] > lo) bottom = part(fa - 1, lo, std::min(rs[fa], hi), lo, hi);
  if (fb < runs && rs[fb] < hi && rs[fb] >= lo) top = part(fb, rs[fb], hi, lo, hi);

  // Binary descent: the largest rank p with (slots ranked <= p) < K; v* has rank p + 1.
  size_t pos = 0;
  auto remaining = static_cast<int32_t>(k_);
  int64_t sum = 0;
  int32_t pairs = 0;
  const size_t sigma = tree_.size() - 1;
  const Node* tree = tree_.data();
  for (size_t step = top_step_; step > 0; step >>= 1) {
    const size_t next = pos + step;
    if (next > sigma) continue;
    int32_t count = tree[next].count;
    int64_t node_sum = tree[next].sum;
    int32_t node_pairs = tree[next].pairs;
    for (const Part* p : {&bottom, &top}) {
      auto pr = static_cast<size_t>(p->rank);
      if (pr > pos && pr <= next) {
        count += p->count;
        node_sum += p->sum;
        node_pairs += p->pairs;
      }
    }
    if (count < remaining) {
      pos = next;
      remaining -= count;
      sum += node_sum;
      pairs += node_pairs;
    }
  }
  const auto rho = static_cast<int32_t>(pos + 1);
  assert(static_cast<size_t>(rho) <= sigma);
  // Pairs counted with the first or last whole run whose other slot lies outside the window.
  if (fa < fb) {
    if (rs[fa] == lo && fa > 0 && rank[fa - 1] < rank[fa] && rank[fa] < rho) --pairs;
    if (rs[fb] == hi && fb < runs && rank[fb] < rank[fb - 1] && rank[fb - 1] < rho) --pairs;
  }
  out.pr_ug = sum + static_cast<int64_t>(remaining) * ix.value_by_rank_[static_cast<size_t>(rho)];
  const int32_t joined = pairs + tie_pairs(rho, lo, hi, remaining);
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

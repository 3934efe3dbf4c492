#include "plain_sweep.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <ctime>
#include <mutex>
#include <thread>

#include "shifting/plan.h"

namespace carbonclock::plain {
namespace {

/// Per zone: prefix sums and each slot's rank among the distinct values.
struct Prepared {
  std::vector<int64_t> prefix;   // n + 1
  std::vector<int32_t> rank;     // n, 1-based
  std::vector<int64_t> by_rank;  // distinct values, index rank - 1
};

Prepared prepare(const SlottedIntensity& in) {
  Prepared p;
  const std::vector<int64_t>& v = in.ug_per_kwh;
  p.prefix.assign(v.size() + 1, 0);
  for (size_t i = 0; i < v.size(); ++i) p.prefix[i + 1] = p.prefix[i] + v[i];
  p.by_rank = v;
  std::sort(p.by_rank.begin(), p.by_rank.end());
  p.by_rank.erase(std::unique(p.by_rank.begin(), p.by_rank.end()), p.by_rank.end());
  p.rank.resize(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    p.rank[i] = static_cast<int32_t>(std::lower_bound(p.by_rank.begin(), p.by_rank.end(), v[i]) -
                                     p.by_rank.begin() + 1);
  }
  return p;
}

struct Node {
  int64_t sum = 0;
  int32_t count = 0;
};

class Fenwick {
 public:
  explicit Fenwick(size_t size) : tree_(size + 1), top_(size ? std::bit_floor(size) : 0) {}
  void add(size_t rank, int32_t count, int64_t sum) {
    for (size_t i = rank; i < tree_.size(); i += i & (~i + 1)) {
      tree_[i].count += count;
      tree_[i].sum += sum;
    }
  }
  /// Sum of the k smallest values held (k <= count held).
  int64_t smallest_sum(int32_t k, const std::vector<int64_t>& by_rank) const {
    size_t pos = 0;
    int64_t sum = 0;
    for (size_t step = top_; step > 0; step >>= 1) {
      size_t next = pos + step;
      if (next < tree_.size() && tree_[next].count < k) {
        pos = next;
        k -= tree_[next].count;
        sum += tree_[next].sum;
      }
    }
    return sum + static_cast<int64_t>(k) * by_rank[pos];  // rank pos + 1 holds the k-th
  }

 private:
  std::vector<Node> tree_;
  size_t top_;
};

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void one_window(const Zone& zone, const Prepared& p, size_t k, size_t n_window, double grams_per_ug,
                Mode mode, Totals& t) {
  const SlottedIntensity& in = *zone.intensity;
  const size_t n = in.size(), w = k + n_window;
  if (mode == Mode::kReadOnce) {
    int64_t sum = 0;
    for (size_t i = 0; i < n; ++i) sum += in.ug_per_kwh[i];
    t.fs_ug += sum;
    return;
  }
  Fenwick tree(p.by_rank.size());
  std::vector<size_t> deque(n_window + 1);  // ring of candidate starts
  const size_t cap = deque.size();
  size_t head = 0, count = 0, next_candidate = 0;
  size_t lo = 0, hi = 0;  // window slots in the tree
  auto sum_at = [&](size_t i) { return p.prefix[i + k] - p.prefix[i]; };
  auto slot = [&](size_t i, int32_t sign) {
    tree.add(static_cast<size_t>(p.rank[i]), sign, sign * in.ug_per_kwh[i]);
  };
  for (int64_t start : zone.starts) {
    if (start < 0 || static_cast<size_t>(start) + w > n ||
        !in.window_covered(static_cast<size_t>(start), static_cast<size_t>(start) + w)) {
      ++t.skipped;
      continue;
    }
    const auto s = static_cast<size_t>(start);
    // Flexible Start.
    if (next_candidate < s) {
      next_candidate = s;
      count = 0;
    }
    while (count > 0 && deque[head] < s) {
      head = (head + 1) % cap;
      --count;
    }
    for (; next_candidate <= s + n_window; ++next_candidate) {
      int64_t v = sum_at(next_candidate);
      while (count > 0 && sum_at(deque[(head + count - 1) % cap]) > v) --count;
      deque[(head + count) % cap] = next_candidate;
      ++count;
    }
    const size_t best = deque[head];
    const int64_t base = sum_at(s), fs = sum_at(best);
    const double base_g = static_cast<double>(base) * grams_per_ug;
    ++t.ok;
    t.fs_ug += fs;
    t.fs_offset += static_cast<int64_t>(best - s);
    t.fs_reduction_pct += reduction_pct(base_g, static_cast<double>(fs) * grams_per_ug);
    if (mode == Mode::kFlexibleStartOnly) continue;
    // Pause and Resume: slide [lo, hi) to [s, s + w) slot by slot.
    if (s >= hi) {
      for (size_t i = lo; i < hi; ++i) slot(i, -1);
      for (size_t i = s; i < s + w; ++i) slot(i, 1);
    } else {
      for (size_t i = lo; i < s; ++i) slot(i, -1);
      for (size_t i = hi; i < s + w; ++i) slot(i, 1);
    }
    lo = s;
    hi = s + w;
    const int64_t pr = tree.smallest_sum(static_cast<int32_t>(k), p.by_rank);
    t.pr_ug += pr;
    t.pr_reduction_pct += reduction_pct(base_g, static_cast<double>(pr) * grams_per_ug);
  }
}

}  // namespace

std::vector<Totals> sweep(const std::vector<Zone>& zones, const std::vector<Job>& jobs,
                          unsigned threads, Mode mode, std::vector<double>* thread_cpu_s) {
  const size_t windows = jobs.empty() ? 0 : jobs.front().window_slots.size();
  std::vector<Totals> out(jobs.size() * zones.size() * windows);
  // Each zone is prepared once, by the first thread that needs it, and freed after its jobs.
  struct Shared {
    std::once_flag once;
    Prepared prepared;
    std::atomic<size_t> left{0};
  };
  std::vector<Shared> shared(zones.size());
  for (Shared& s : shared) s.left = jobs.size();
  std::atomic<size_t> next{0};
  std::mutex cpu_mutex;
  if (thread_cpu_s) thread_cpu_s->clear();
  auto work = [&] {
    const double cpu0 = thread_cpu();
    for (size_t task = next++; task < zones.size() * jobs.size(); task = next++) {
      const size_t z = task / jobs.size(), j = task % jobs.size();
      Shared& zs = shared[z];
      std::call_once(zs.once, [&] { zs.prepared = prepare(*zones[z].intensity); });
      for (size_t w = 0; w < windows; ++w) {
        one_window(zones[z], zs.prepared, jobs[j].job_slots, jobs[j].window_slots[w],
                   jobs[j].grams_per_ug, mode, out[(j * zones.size() + z) * windows + w]);
      }
      if (zs.left.fetch_sub(1) == 1) zs.prepared = Prepared{};
    }
    if (thread_cpu_s) {
      std::lock_guard lock(cpu_mutex);
      thread_cpu_s->push_back(thread_cpu() - cpu0);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return out;
}

}  // namespace carbonclock::plain

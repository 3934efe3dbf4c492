#include "forecasting/error_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace carbonclock {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

HorizonErrors::HorizonErrors(size_t steps)
    : abs_sum_(steps, 0.0), ape_sum_(steps, 0.0), count_(steps, 0), ape_count_(steps, 0) {}

void HorizonErrors::add(size_t step, double forecast, double actual) {
  if (std::isnan(forecast) || std::isnan(actual)) return;
  size_t i = step - 1;
  abs_sum_[i] += std::abs(actual - forecast);
  ++count_[i];
  if (actual != 0) {
    ape_sum_[i] += 100.0 * std::abs((actual - forecast) / actual);
    ++ape_count_[i];
  }
}

void HorizonErrors::merge(const HorizonErrors& other) {
  for (size_t i = 0; i < std::min(steps(), other.steps()); ++i) {
    abs_sum_[i] += other.abs_sum_[i];
    ape_sum_[i] += other.ape_sum_[i];
    count_[i] += other.count_[i];
    ape_count_[i] += other.ape_count_[i];
  }
}

double HorizonErrors::mae(size_t step) const {
  size_t i = step - 1;
  return count_[i] ? abs_sum_[i] / static_cast<double>(count_[i]) : kNaN;
}

double HorizonErrors::mape_pct(size_t step) const {
  size_t i = step - 1;
  return ape_count_[i] ? ape_sum_[i] / static_cast<double>(ape_count_[i]) : kNaN;
}

double HorizonErrors::mean_mae(size_t first, size_t last) const {
  double sum = 0;
  size_t n = 0;
  for (size_t s = first; s <= std::min(last, steps()); ++s) {
    if (count_[s - 1] == 0) continue;
    sum += mae(s);
    ++n;
  }
  return n ? sum / static_cast<double>(n) : kNaN;
}

double HorizonErrors::mean_mape_pct(size_t first, size_t last) const {
  double sum = 0;
  size_t n = 0;
  for (size_t s = first; s <= std::min(last, steps()); ++s) {
    if (ape_count_[s - 1] == 0) continue;
    sum += mape_pct(s);
    ++n;
  }
  return n ? sum / static_cast<double>(n) : kNaN;
}

RollingErrors::RollingErrors(size_t steps, size_t capacity, size_t snapshot_every)
    : capacity_(std::max<size_t>(capacity, 1)),
      snapshot_every_(std::max<size_t>(snapshot_every, 1)),
      ring_(capacity_ + snapshot_every_),
      steps_(steps),
      error_(steps * ring_, 0.0F),
      ape_(steps * ring_, 0.0F),
      head_(steps, 0),
      count_(steps, 0),
      ape_count_(steps, 0),
      to_resum_(steps, static_cast<uint32_t>(capacity_)),
      to_snapshot_(steps, static_cast<uint32_t>(snapshot_every_)),
      abs_sum_(steps, 0.0),
      ape_sum_(steps, 0.0),
      snapshot_head_(steps, 0),
      snapshot_count_(steps, 0),
      cached_(steps),
      cache_valid_(steps, 0) {}

void RollingErrors::add(size_t step, double forecast, double actual) {
  if (std::isnan(forecast) || std::isnan(actual)) return;
  const size_t i = step - 1;
  const size_t head = head_[i];
  if (count_[i] == capacity_) {  // the oldest error leaves
    const size_t old = at(i, before(head, capacity_));
    abs_sum_[i] -= std::abs(error_[old]);
    if (!std::isnan(ape_[old])) {
      ape_sum_[i] -= ape_[old];
      --ape_count_[i];
    }
  } else {
    ++count_[i];
  }
  const size_t here = at(i, head);
  const auto e = static_cast<float>(actual - forecast);
  error_[here] = e;
  abs_sum_[i] += std::abs(e);
  if (actual != 0) {
    const auto pct = static_cast<float>(100.0 * std::abs((actual - forecast) / actual));
    ape_[here] = pct;
    ape_sum_[i] += pct;
    ++ape_count_[i];
  } else {
    ape_[here] = std::numeric_limits<float>::quiet_NaN();
  }
  head_[i] = static_cast<uint32_t>(head + 1 == ring_ ? 0 : head + 1);
  if (--to_resum_[i] == 0) {  // once per lap: no drift from adding and subtracting
    to_resum_[i] = static_cast<uint32_t>(capacity_);
    resum(step);
  }
  if (--to_snapshot_[i] == 0) {
    to_snapshot_[i] = static_cast<uint32_t>(snapshot_every_);
    snapshot_head_[i] = head_[i];
    snapshot_count_[i] = count_[i];
    cache_valid_[i] = 0;
  }
}

void RollingErrors::resum(size_t step) {
  const size_t i = step - 1;
  double abs_sum = 0, ape_sum = 0;
  for (size_t k = 0, p = before(head_[i], count_[i]); k < count_[i]; ++k) {
    abs_sum += std::abs(error_[at(i, p)]);
    float ape = ape_[at(i, p)];
    if (!std::isnan(ape)) ape_sum += ape;
    if (++p == ring_) p = 0;
  }
  abs_sum_[i] = abs_sum;
  ape_sum_[i] = ape_sum;
}

double RollingErrors::mae(size_t step) const {
  size_t i = step - 1;
  return count_[i] ? abs_sum_[i] / count_[i] : kNaN;
}

double RollingErrors::mape_pct(size_t step) const {
  size_t i = step - 1;
  return ape_count_[i] ? ape_sum_[i] / ape_count_[i] : kNaN;
}

ErrorQuantiles RollingErrors::quantiles(size_t step) const {
  size_t i = step - 1;
  if (cache_valid_[i]) return cached_[i];
  size_t n = snapshot_count_[i];
  ErrorQuantiles q;
  q.samples = n;
  if (n > 0) {
    // The snapshot's errors are still in the ring: fewer than snapshot_every were added since.
    std::vector<float> sorted(n);
    for (size_t k = 0, p = before(snapshot_head_[i], n); k < n; ++k) {
      sorted[k] = error_[at(i, p)];
      if (++p == ring_) p = 0;
    }
    auto rank = [n](double p) {
      return static_cast<std::ptrdiff_t>(std::lround(p * static_cast<double>(n - 1)));
    };
    std::ptrdiff_t r10 = rank(0.1), r50 = rank(0.5), r90 = rank(0.9);
    auto begin = sorted.begin();
    std::nth_element(begin, begin + r50, sorted.end());
    q.q50 = q.q10 = q.q90 = sorted[r50];
    if (r10 < r50) {  // the lower part holds every rank below r50
      std::nth_element(begin, begin + r10, begin + r50);
      q.q10 = sorted[r10];
    }
    if (r90 > r50) {
      std::nth_element(begin + r50 + 1, begin + r90, sorted.end());
      q.q90 = sorted[r90];
    }
  }
  cached_[i] = q;
  cache_valid_[i] = 1;
  return q;
}

}  // namespace carbonclock

// Forecast error per horizon step: all-time MAE/MAPE tallies (HorizonErrors) and the rolling
// window of recent errors that drives model choice and empirical prediction intervals
// (RollingErrors). Step 1 is the first slot not yet observed when the forecast was made.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace carbonclock {

/// Mean absolute error and mean absolute percentage error per horizon step.
class HorizonErrors {
 public:
  explicit HorizonErrors(size_t steps = 0);

  /// Adds a forecast for step `step` (1-based, <= steps()) against the actual. Ignored when either
  /// is NaN; the percentage error skips actuals of 0.
  void add(size_t step, double forecast_g_per_kwh, double actual_g_per_kwh);
  /// Adds another tally over the same steps.
  void merge(const HorizonErrors& other);

  size_t steps() const { return abs_sum_.size(); }
  size_t count(size_t step) const { return count_[step - 1]; }
  /// g/kWh; NaN without samples.
  double mae(size_t step) const;
  /// Percent; NaN without samples with a non-zero actual.
  double mape_pct(size_t step) const;
  /// Mean of the per-step MAE over steps [first, last] that have samples; NaN when none do.
  double mean_mae(size_t first, size_t last) const;
  double mean_mape_pct(size_t first, size_t last) const;

 private:
  std::vector<double> abs_sum_, ape_sum_;
  std::vector<uint64_t> count_, ape_count_;
};

/// Empirical quantiles of the error (actual − forecast) at one step.
struct ErrorQuantiles {
  double q10 = 0, q50 = 0, q90 = 0;
  size_t samples = 0;
};

/// The last `capacity` errors of each horizon step, with their running MAE and MAPE, and
/// quantiles of those errors. The quantiles are taken from a snapshot of the window made every
/// `snapshot_every` errors at that step (a day of hourly origins by default), computed when first
/// asked for: a selection pass per step a day instead of one per forecast, and the same answer
/// whenever it is asked.
class RollingErrors {
 public:
  RollingErrors(size_t steps, size_t capacity, size_t snapshot_every = 24);

  /// As HorizonErrors::add; once a step holds `capacity` errors the oldest one leaves.
  void add(size_t step, double forecast_g_per_kwh, double actual_g_per_kwh);

  size_t steps() const { return count_.size(); }
  size_t capacity() const { return capacity_; }
  size_t count(size_t step) const { return count_[step - 1]; }
  double mae(size_t step) const;       ///< NaN without samples
  double mape_pct(size_t step) const;  ///< NaN without samples with a non-zero actual
  /// Nearest-rank 10th, 50th and 90th percentiles of the errors in the latest snapshot for
  /// `step`; samples = 0 before the first snapshot. Caches its result: not safe to call
  /// concurrently on one RollingErrors.
  ErrorQuantiles quantiles(size_t step) const;

 private:
  void resum(size_t step);
  /// The ring position `back` errors before position `head` at a step (back <= ring).
  size_t before(size_t head, size_t back) const {
    return head >= back ? head - back : head + ring_ - back;
  }

  size_t capacity_, snapshot_every_;
  /// Per step a ring of capacity + snapshot_every errors: the window, and what left it since the
  /// last snapshot, so a snapshot is a range of the ring (nothing copied) until the next one.
  /// Positions and countdowns advance by one per error: no division on the hot path.
  size_t ring_;
  size_t steps_;
  /// Ring position-major (ring × steps): a forecast's steps are scored at the same position
  /// (their heads move together), so one origin's errors share cache lines. ape NaN where the
  /// actual was 0.
  std::vector<float> error_, ape_;
  size_t at(size_t step_index, size_t position) const { return position * steps_ + step_index; }
  std::vector<uint32_t> head_;  ///< per step: the ring position the next error takes
  std::vector<uint32_t> count_, ape_count_;
  std::vector<uint32_t> to_resum_, to_snapshot_;  ///< errors until the next resum / snapshot
  std::vector<double> abs_sum_, ape_sum_;
  std::vector<uint32_t> snapshot_head_;  ///< head_ at the last snapshot
  std::vector<uint32_t> snapshot_count_;
  mutable std::vector<ErrorQuantiles> cached_;
  mutable std::vector<uint8_t> cache_valid_;
};

}  // namespace carbonclock

// The forecasting models. Each is fed one slot at a time, in order, and forecasts from what it has
// been fed: none can see a slot before it is observed. The Forecaster (forecaster.h) runs them
// side by side, scores them and serves one.
//
// Step h of a forecast made after n observed slots (0 … n−1) is slot n − 1 + h.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/time.h"

namespace carbonclock {

/// Where slots fall in the UTC day and week. The slot must divide one day and slot 0 must start on
/// a multiple of the slot since the Unix epoch.
class SlotCalendar {
 public:
  SlotCalendar(SysTime first_slot_utc, Nanos slot);

  size_t per_day() const { return per_day_; }
  size_t per_week() const { return 7 * per_day_; }
  /// 0 … per_day − 1.
  size_t time_of_day(size_t i) const { return week_cell(i) % per_day_; }
  /// 0 … per_week − 1; week_cell / per_day is the day of the week, Monday 0.
  size_t week_cell(size_t i) const { return (first_in_week_ + i) % per_week(); }
  /// The slot's index counted from Monday 1970-01-05 00:00 UTC.
  int64_t absolute(size_t i) const { return first_ + static_cast<int64_t>(i); }

 private:
  size_t per_day_;
  int64_t first_;
  size_t first_in_week_;  ///< week cell of slot 0 (first_ modulo a week, never negative)
};

/// The last `capacity` slots: raw actuals (NaN for gaps) and the same with gaps filled by the
/// profile (what features read, so one missing hour does not blind a model).
class RecentValues {
 public:
  explicit RecentValues(size_t capacity);
  void push(double raw, double filled);
  size_t count() const { return count_; }  ///< slots pushed so far
  /// Slot i, which must lie in [count − capacity, count).
  double raw(size_t i) const { return raw_[i & mask_]; }
  double filled(size_t i) const { return filled_[i & mask_]; }

 private:
  std::vector<double> raw_, filled_;  ///< rings of a power of two >= capacity: a mask, no division
  size_t mask_;
  size_t count_ = 0;
};

/// `profile`: the mean of the same slot of the week (hour of day × day of week at hourly data)
/// over the last `weeks` weeks. A cell with no value in the window takes the mean of its time of
/// day, then the mean of the window. Ready once the window holds a value.
class WeeklyProfile {
 public:
  WeeklyProfile(const SlotCalendar& calendar, size_t weeks);
  void observe(double g_per_kwh);  ///< the next slot; NaN for a gap
  size_t count() const { return count_; }
  bool ready() const { return total_n_ > 0; }
  /// The profile's value for slot i (any index, past or future); NaN when not ready.
  double value(size_t i) const { return cell_value(calendar_.week_cell(i)); }
  /// The same for a week cell (SlotCalendar::week_cell), for callers walking cells in order.
  double cell_value(size_t cell) const;

 private:
  SlotCalendar calendar_;
  std::vector<double> window_;  ///< weeks × per_week ring of raw values
  std::vector<double> cell_sum_, tod_sum_;
  std::vector<uint32_t> cell_n_, tod_n_;
  double total_sum_ = 0;
  size_t total_n_ = 0;
  size_t count_ = 0;
};

/// `persistence`: the latest observed (gap-filled) value at the same time of day, i.e. yesterday
/// for the next 24 hours. What the planner used before carbonclock had forecasts.
void persistence_forecast(const RecentValues& recent, size_t per_day, size_t first_step,
                          size_t steps, double* out);

/// Rates per hour; SeasonalSmoothing converts them to the slot length.
struct SmoothingParams {
  double alpha = 0.05;      ///< level
  double beta = 0.001;      ///< trend
  double phi = 0.97;        ///< trend damping per hour
  double gamma_day = 0.05;  ///< time-of-day season, per occurrence
  double gamma_week = 0.3;  ///< week-cell season, per occurrence
  double psi = 0.9;         ///< AR(1) of the one-step error, per hour
};

/// `smoothing`: double-seasonal additive exponential smoothing (Taylor 2003) with a damped trend
/// and an AR(1) error correction: y = level + trend + day season + week season. Starts after one
/// week of data (level = that week's mean, day season = its time-of-day means about it, week
/// season = what is left); gaps advance the state without updating it.
class SeasonalSmoothing {
 public:
  SeasonalSmoothing(const SlotCalendar& calendar, const SmoothingParams& params, Nanos slot);
  /// The next slot's actual (NaN for a gap); `recent` already holds it.
  void observe(double g_per_kwh, const RecentValues& recent);
  bool ready() const { return ready_; }
  /// Steps first … first + steps − 1 from the current state; NaN when not ready.
  void forecast(size_t first_step, size_t steps, double* out) const;

 private:
  SlotCalendar calendar_;
  double alpha_, beta_, phi_, gamma_day_, gamma_week_, psi_;
  bool ready_ = false;
  size_t count_ = 0;
  double level_ = 0, trend_ = 0, residual_ = 0;
  std::vector<double> day_, week_;
};

struct RegressionParams {
  double half_life_days = 60;  ///< weight of a training sample halves over this time
  double ridge = 0.02;         ///< shrinkage relative to each feature's own weight
  double prior_samples = 200;  ///< pseudo-samples pulling the fit toward the profile
  size_t refit_every = 12;     ///< origins between two solves of one step's coefficients
};

/// `regression`: for every horizon step its own linear model (direct multi-step forecasting) of
/// the anomaly y − profile, on features known at the origin (see features()). Fitted by
/// exponentially weighted recursive least squares with a ridge prior toward the profile: each
/// step keeps running sums X'X and X'y, updated as each target is observed, and re-solves its
/// 9 × 9 system every refit_every origins (staggered across steps). No refit from scratch.
/// Features need eight days of data; the Forecaster serves it from two weeks.
class DirectRegression {
 public:
  static constexpr int kFeatures = 9;
  using Vector = Eigen::Matrix<double, kFeatures, 1>;
  using Matrix = Eigen::Matrix<double, kFeatures, kFeatures>;

  /// Origins (values of n that train and are stored) are slots on a multiple of `origin_stride`.
  DirectRegression(const SlotCalendar& calendar, size_t steps, size_t origin_stride,
                   const RegressionParams& params);
  /// Call after each slot is pushed to `recent` and observed by `profile` (n = recent.count()).
  void observe(const RecentValues& recent, const WeeklyProfile& profile);
  /// Steps first … first + steps − 1 from origin recent.count() (steps beyond steps() are NaN);
  /// NaN everywhere before eight days of data.
  void forecast(const RecentValues& recent, const WeeklyProfile& profile, size_t first_step,
                size_t steps, double* out) const;
  size_t steps() const { return steps_; }
  /// Ring capacity `recent` needs.
  size_t history_needed() const { return calendar_.per_week() + 3 * calendar_.per_day(); }

 private:
  struct OriginState {
    double a_last = 0, a_day = 0, trend = 0, momentum = 0;
    std::vector<double> tod_mean;  ///< the last week's mean per time of day
    bool ok = false;
  };
  OriginState origin_state(const RecentValues& recent, const WeeklyProfile& profile) const;
  /// Features of step h at the current origin, and the profile's value for the target (base).
  bool features(const RecentValues& recent, const WeeklyProfile& profile, const OriginState& st,
                size_t h, Vector& x, double& base) const;
  bool is_origin(size_t n) const;
  void solve(size_t step, int64_t origin_index);

  SlotCalendar calendar_;
  RegressionParams params_;
  size_t steps_, stride_, ring_origins_;
  double lambda_;
  double anomaly_sq_sum_ = 0, anomaly_weight_ = 0;
  std::vector<Matrix> a_;  ///< per step: Σ w x x' (lower triangle only: what the solve reads)
  std::vector<Vector> b_;  ///< per step: Σ w x y
  std::vector<Vector> coef_;
  /// Stored features per origin: ring_origins × steps × (features + base).
  std::vector<double> stored_;
  std::vector<int64_t> stored_origin_;  ///< which origin each ring entry holds (−1: none)
  /// Exponential weighting by time: a sample of origin index k weighs λ^−(k − weight_epoch_)
  /// in a_/b_ (its weight grows instead of every sum shrinking by λ at every update: half the
  /// work of a rank-one update), and a solve scales the sums back to weight 1 for the newest
  /// sample of its step. The epoch moves forward before the weights grow large.
  int64_t weight_epoch_ = 0;
  std::vector<double> stored_weight_;  ///< per ring entry: its origin's weight
};

/// Solves m·c = b in place (c into b) for a symmetric positive definite m, reading its lower
/// triangle, by Cholesky (L overwrites that triangle); false when m is not positive definite.
/// Written out rather than Eigen::LLT: at this fixed size Eigen's LLT runs its general
/// unblocked kernels and triangular solves, about a sixth of a whole back-test's time in `perf`
/// (the regression solves 1.1 million 9 × 9 systems per zone-year of hourly origins).
bool cholesky_solve(DirectRegression::Matrix& m, DirectRegression::Vector& b);

}  // namespace carbonclock

#include "forecasting/models.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

namespace carbonclock {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Monday 1970-01-05 00:00 UTC: week cells start on Mondays.
constexpr SysTime kMonday{std::chrono::hours(24 * 4)};

// a mod m in [0, m), for a negative a too.
size_t floor_mod(int64_t a, size_t m) {
  const auto mm = static_cast<int64_t>(m);
  return static_cast<size_t>(((a % mm) + mm) % mm);
}

// A rate per hour as a rate per slot: the same decay over the same time.
double per_slot_rate(double per_hour, double slot_hours) {
  return 1.0 - std::pow(1.0 - per_hour, slot_hours);
}

}  // namespace

SlotCalendar::SlotCalendar(SysTime first_slot_utc, Nanos slot)
    : per_day_(static_cast<size_t>(std::chrono::hours(24) / slot)),
      first_(std::chrono::floor<Nanos>(first_slot_utc - kMonday) / slot),
      first_in_week_(floor_mod(first_, 7 * per_day_)) {}

RecentValues::RecentValues(size_t capacity)
    : raw_(std::bit_ceil(std::max<size_t>(capacity, 1)), kNaN),
      filled_(raw_.size(), kNaN),
      mask_(raw_.size() - 1) {}

void RecentValues::push(double raw, double filled) {
  raw_[count_ & mask_] = raw;
  filled_[count_ & mask_] = filled;
  ++count_;
}

WeeklyProfile::WeeklyProfile(const SlotCalendar& calendar, size_t weeks)
    : calendar_(calendar),
      window_(std::max<size_t>(weeks, 1) * calendar.per_week(), kNaN),
      cell_sum_(calendar.per_week(), 0.0),
      tod_sum_(calendar.per_day(), 0.0),
      cell_n_(calendar.per_week(), 0),
      tod_n_(calendar.per_day(), 0) {}

void WeeklyProfile::observe(double y) {
  size_t at = count_ % window_.size();
  if (count_ >= window_.size() && !std::isnan(window_[at])) {  // slot count − window leaves
    size_t old = count_ - window_.size();
    double v = window_[at];
    cell_sum_[calendar_.week_cell(old)] -= v;
    --cell_n_[calendar_.week_cell(old)];
    tod_sum_[calendar_.time_of_day(old)] -= v;
    --tod_n_[calendar_.time_of_day(old)];
    total_sum_ -= v;
    --total_n_;
  }
  window_[at] = y;
  if (!std::isnan(y)) {
    cell_sum_[calendar_.week_cell(count_)] += y;
    ++cell_n_[calendar_.week_cell(count_)];
    tod_sum_[calendar_.time_of_day(count_)] += y;
    ++tod_n_[calendar_.time_of_day(count_)];
    total_sum_ += y;
    ++total_n_;
  }
  ++count_;
}

double WeeklyProfile::cell_value(size_t cell) const {
  if (cell_n_[cell]) return cell_sum_[cell] / cell_n_[cell];
  size_t tod = cell % calendar_.per_day();
  if (tod_n_[tod]) return tod_sum_[tod] / tod_n_[tod];
  return total_n_ ? total_sum_ / static_cast<double>(total_n_) : kNaN;
}

void persistence_forecast(const RecentValues& recent, size_t per_day, size_t first_step,
                          size_t steps, double* out) {
  size_t n = recent.count();
  for (size_t k = 0; k < steps; ++k) {
    size_t h = first_step + k;
    // Whole days back from the target land on the last observed day: [n − per_day, n).
    size_t source = n - 1 + h - per_day * ((h + per_day - 1) / per_day);
    out[k] = n >= per_day ? recent.filled(source) : kNaN;
  }
}

SeasonalSmoothing::SeasonalSmoothing(const SlotCalendar& calendar, const SmoothingParams& p,
                                     Nanos slot)
    : calendar_(calendar), day_(calendar.per_day(), 0.0), week_(calendar.per_week(), 0.0) {
  double hours = to_seconds(slot) / 3600.0;
  alpha_ = per_slot_rate(p.alpha, hours);
  beta_ = per_slot_rate(p.beta, hours);
  phi_ = std::pow(p.phi, hours);
  psi_ = std::pow(p.psi, hours);
  gamma_day_ = p.gamma_day;
  gamma_week_ = p.gamma_week;
}

void SeasonalSmoothing::observe(double y, const RecentValues& recent) {
  size_t t = count_++;
  if (!ready_) {
    if (count_ < calendar_.per_week()) return;
    // One week seen: level = its mean, day season = its time-of-day means about that level.
    std::vector<double> sum(calendar_.per_day(), 0.0);
    std::vector<size_t> n(calendar_.per_day(), 0);
    double total = 0;
    size_t total_n = 0;
    for (size_t i = count_ - calendar_.per_week(); i < count_; ++i) {
      double v = recent.raw(i);
      if (std::isnan(v)) continue;
      sum[calendar_.time_of_day(i)] += v;
      ++n[calendar_.time_of_day(i)];
      total += v;
      ++total_n;
    }
    if (total_n == 0) return;  // a week of gaps: wait for data
    level_ = total / static_cast<double>(total_n);
    for (size_t d = 0; d < day_.size(); ++d) day_[d] = n[d] ? sum[d] / n[d] - level_ : 0.0;
    for (size_t i = count_ - calendar_.per_week(); i < count_; ++i) {  // the rest: week season
      double v = recent.raw(i);
      week_[calendar_.week_cell(i)] =
          std::isnan(v) ? 0.0 : v - level_ - day_[calendar_.time_of_day(i)];
    }
    ready_ = true;
    return;
  }
  size_t tod = calendar_.time_of_day(t), cell = calendar_.week_cell(t);
  double base = level_ + phi_ * trend_ + day_[tod] + week_[cell];
  if (std::isnan(y)) {  // a gap: the state moves on, nothing is learnt
    level_ += phi_ * trend_;
    trend_ *= phi_;
    residual_ *= psi_;
    return;
  }
  double error = y - (base + psi_ * residual_);
  level_ += phi_ * trend_ + alpha_ * error;
  trend_ = phi_ * trend_ + beta_ * error;
  day_[tod] += gamma_day_ * error;
  week_[cell] += gamma_week_ * error;
  residual_ = y - base;
}

void SeasonalSmoothing::forecast(size_t first_step, size_t steps, double* out) const {
  if (!ready_) {
    std::fill(out, out + steps, kNaN);
    return;
  }
  // Σ_{i=1..h} φ^i and ψ^h, advanced step by step from h = 1.
  double damp_sum = 0, phi_h = 1, psi_h = 1;
  for (size_t h = 1; h < first_step; ++h) {
    phi_h *= phi_;
    damp_sum += phi_h;
    psi_h *= psi_;
  }
  for (size_t k = 0; k < steps; ++k) {
    phi_h *= phi_;
    damp_sum += phi_h;
    psi_h *= psi_;
    size_t target = count_ - 1 + first_step + k;
    out[k] = level_ + trend_ * damp_sum + day_[calendar_.time_of_day(target)] +
             week_[calendar_.week_cell(target)] + psi_h * residual_;
  }
}

bool cholesky_solve(DirectRegression::Matrix& m, DirectRegression::Vector& b) {
  constexpr int kN = DirectRegression::kFeatures;
  std::array<double, kN> inv{};  // 1 / L(j, j): one division per column, none per element
  for (int j = 0; j < kN; ++j) {
    double d = m(j, j);
    for (int k = 0; k < j; ++k) d -= m(j, k) * m(j, k);
    if (!(d > 0)) return false;
    m(j, j) = std::sqrt(d);
    inv[j] = 1 / m(j, j);
    for (int i = j + 1; i < kN; ++i) {
      double v = m(i, j);
      for (int k = 0; k < j; ++k) v -= m(i, k) * m(j, k);
      m(i, j) = v * inv[j];
    }
  }
  for (int i = 0; i < kN; ++i) {  // L·y = b
    double v = b(i);
    for (int k = 0; k < i; ++k) v -= m(i, k) * b(k);
    b(i) = v * inv[i];
  }
  for (int i = kN - 1; i >= 0; --i) {  // L'·c = y
    double v = b(i);
    for (int k = i + 1; k < kN; ++k) v -= m(k, i) * b(k);
    b(i) = v * inv[i];
  }
  return true;
}

DirectRegression::DirectRegression(const SlotCalendar& calendar, size_t steps, size_t origin_stride,
                                   const RegressionParams& params)
    : calendar_(calendar),
      params_(params),
      steps_(steps),
      stride_(std::max<size_t>(origin_stride, 1)),
      ring_origins_(steps / std::max<size_t>(origin_stride, 1) + 2),
      a_(steps, Matrix::Zero()),
      b_(steps, Vector::Zero()),
      coef_(steps, Vector::Zero()),
      stored_(ring_origins_ * steps * (kFeatures + 1), 0.0),
      stored_origin_(ring_origins_, -1),
      stored_weight_(ring_origins_, 1.0) {
  params_.refit_every = std::max<size_t>(params_.refit_every, 1);
  double origins_per_half_life = params.half_life_days * static_cast<double>(calendar.per_day()) /
                                 static_cast<double>(stride_);
  lambda_ = std::pow(0.5, 1.0 / std::max(origins_per_half_life, 1.0));
}

bool DirectRegression::is_origin(size_t n) const {
  return n >= calendar_.per_week() + calendar_.per_day() &&
         calendar_.absolute(n) % static_cast<int64_t>(stride_) == 0;
}

DirectRegression::OriginState DirectRegression::origin_state(const RecentValues& recent,
                                                             const WeeklyProfile& profile) const {
  OriginState st;
  size_t n = recent.count();
  size_t day = calendar_.per_day();
  if (n < calendar_.per_week() + day || !profile.ready()) return st;
  auto anomaly = [&](size_t i) { return recent.filled(i) - profile.value(i); };
  const size_t week = calendar_.per_week();
  // The last two days' anomalies and the last week's time-of-day means, walking the week cells
  // and times of day in order (no division per slot: this runs at every origin).
  double day_sum = 0, prev_sum = 0;
  size_t cell = calendar_.week_cell(n - 2 * day);
  for (size_t i = n - 2 * day; i < n; ++i) {
    (i < n - day ? prev_sum : day_sum) += recent.filled(i) - profile.cell_value(cell);
    if (++cell == week) cell = 0;
  }
  st.a_last = anomaly(n - 1);
  st.a_day = day_sum / static_cast<double>(day);
  st.trend = st.a_day - prev_sum / static_cast<double>(day);
  size_t back = std::max<size_t>(day / 8, 1);  // three hours
  st.momentum = st.a_last - anomaly(n - 1 - back);
  st.tod_mean.assign(day, 0.0);
  size_t tod = calendar_.time_of_day(n - week);
  for (size_t i = n - week; i < n; ++i) {
    st.tod_mean[tod] += recent.filled(i) / 7.0;
    if (++tod == day) tod = 0;
  }
  st.ok = std::isfinite(st.a_last) && std::isfinite(st.a_day) && std::isfinite(st.trend) &&
          std::isfinite(st.momentum);
  return st;
}

bool DirectRegression::features(const RecentValues& recent, const WeeklyProfile& profile,
                                const OriginState& st, size_t h, Vector& x, double& base) const {
  size_t n = recent.count();
  size_t day = calendar_.per_day(), week = calendar_.per_week();
  size_t target = n - 1 + h;
  size_t same_time = target - day * ((h + day - 1) / day);  // on the latest observed day
  // Week cells: the target's (also a week before it), the same time's and a day before that.
  const size_t target_cell = calendar_.week_cell(target);
  const size_t same_cell = calendar_.week_cell(same_time);
  const size_t day_before_cell = same_cell >= day ? same_cell - day : same_cell + week - day;
  base = profile.cell_value(target_cell);
  x << 1.0,                                                      // the profile's bias
      st.a_last,                                                 // the latest anomaly
      st.a_day,                                                  // the last day's level
      recent.filled(same_time) - profile.cell_value(same_cell),  // the same time, latest day
      h <= week ? recent.filled(target - week) - base : 0.0,     // a week before the target
      st.trend,                                                  // change of the daily level
      st.momentum,                                               // change over the last three hours
      recent.filled(same_time - day) - profile.cell_value(day_before_cell),  // the day before
      st.tod_mean[target_cell % day] - base;  // the last week's daily shape
  return x.allFinite() && std::isfinite(base);
}

void DirectRegression::observe(const RecentValues& recent, const WeeklyProfile& profile) {
  size_t n = recent.count();
  double y = recent.raw(n - 1);
  // 1. Learn: slot n − 1 is the target of step h of origin n − h.
  if (!std::isnan(y)) {
    for (size_t h = 1; h <= steps_ && h <= n; ++h) {
      size_t o = n - h;
      if (!is_origin(o)) continue;
      size_t ring = (o / stride_) % ring_origins_;
      if (stored_origin_[ring] != static_cast<int64_t>(o)) continue;
      const double* s = &stored_[(ring * steps_ + (h - 1)) * (kFeatures + 1)];
      if (std::isnan(s[kFeatures])) continue;
      const double w = stored_weight_[ring];
      const double wy = w * (y - s[kFeatures]);
      Matrix& a = a_[h - 1];
      Vector& b = b_[h - 1];
      for (int c = 0; c < kFeatures; ++c) {  // the lower triangle of w x x'
        const double wxc = w * s[c];
        for (int r = c; r < kFeatures; ++r) a(r, c) += wxc * s[r];
        b(c) += wy * s[c];
      }
    }
  }
  if (!is_origin(n)) return;
  // 2. Refit the steps whose turn it is, then store this origin's features for the targets to
  // come.
  OriginState st = origin_state(recent, profile);
  if (st.ok) {  // the prior's scale: the anomalies' recent mean square
    anomaly_sq_sum_ = lambda_ * anomaly_sq_sum_ + st.a_last * st.a_last;
    anomaly_weight_ = lambda_ * anomaly_weight_ + 1;
  }
  size_t origin_index = n / stride_;
  for (size_t h = 0; h < steps_; ++h) {
    if ((origin_index + h) % params_.refit_every == 0) solve(h, static_cast<int64_t>(origin_index));
  }
  size_t ring = origin_index % ring_origins_;
  stored_origin_[ring] = static_cast<int64_t>(n);
  double weight =
      std::pow(lambda_, -static_cast<double>(static_cast<int64_t>(origin_index) - weight_epoch_));
  if (weight > 0x1p200) {  // move the epoch here: every sum and stored weight shrinks alike
    const double shrink = 1 / weight;
    for (auto& a : a_) a *= shrink;
    for (auto& b : b_) b *= shrink;
    for (double& w : stored_weight_) w *= shrink;
    weight_epoch_ = static_cast<int64_t>(origin_index);
    weight = 1;
  }
  stored_weight_[ring] = weight;
  for (size_t h = 1; h <= steps_; ++h) {
    double* s = &stored_[(ring * steps_ + (h - 1)) * (kFeatures + 1)];
    Vector x;
    double base = kNaN;
    if (!st.ok || !features(recent, profile, st, h, x, base)) {
      s[kFeatures] = kNaN;
      continue;
    }
    std::copy(x.data(), x.data() + kFeatures, s);
    s[kFeatures] = base;
  }
}

void DirectRegression::solve(size_t step, int64_t origin_index) {
  double var = anomaly_weight_ > 0 ? anomaly_sq_sum_ / anomaly_weight_ : 0.0;
  // Back to weight 1 for the newest sample this step can have (origin step + 1 slots ago).
  const double scale =
      std::pow(lambda_, static_cast<double>(origin_index - weight_epoch_) -
                            static_cast<double>(step + 1) / static_cast<double>(stride_));
  Matrix m = scale * a_[step];
  for (int k = 0; k < kFeatures; ++k) {
    double prior = params_.prior_samples * (k == 0 ? 1.0 : var);
    m(k, k) += params_.ridge * m(k, k) + prior + 1e-9;
  }
  Vector c = scale * b_[step];
  coef_[step] = cholesky_solve(m, c) ? c : Vector::Zero();
}

void DirectRegression::forecast(const RecentValues& recent, const WeeklyProfile& profile,
                                size_t first_step, size_t steps, double* out) const {
  const size_t n = recent.count();
  if (is_origin(n)) {
    const size_t ring = (n / stride_) % ring_origins_;
    if (stored_origin_[ring] == static_cast<int64_t>(n)) {
      // observe() stored this origin's features from the same state: the same numbers, without
      // computing them twice (the Forecaster forecasts at every origin right after observing).
      for (size_t k = 0; k < steps; ++k) {
        const size_t h = first_step + k;
        if (h > steps_) {
          out[k] = kNaN;
          continue;
        }
        const double* s = &stored_[(ring * steps_ + (h - 1)) * (kFeatures + 1)];
        if (std::isnan(s[kFeatures])) {
          out[k] = kNaN;
          continue;
        }
        const Vector x = Eigen::Map<const Vector>(s);
        out[k] = s[kFeatures] + coef_[h - 1].dot(x);
      }
      return;
    }
  }
  OriginState st = origin_state(recent, profile);
  for (size_t k = 0; k < steps; ++k) {
    size_t h = first_step + k;
    Vector x;
    double base = kNaN;
    if (h > steps_ || !st.ok || !features(recent, profile, st, h, x, base)) {
      out[k] = kNaN;
      continue;
    }
    out[k] = base + coef_[h - 1].dot(x);
  }
}

}  // namespace carbonclock

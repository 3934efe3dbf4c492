#include "forecasting/forecaster.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace carbonclock {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr Nanos kDay = std::chrono::hours(24);

size_t index(ModelKind m) { return static_cast<size_t>(m); }

std::string days_text(Nanos d) {
  return fmt::format("{:.1f} days", to_seconds(d) / to_seconds(kDay));
}

size_t slots_in(Nanos length, Nanos slot) {
  return static_cast<size_t>(std::max<int64_t>(length / slot, 1));
}

}  // namespace

const char* to_string(ModelKind model) {
  switch (model) {
    case ModelKind::kProfile:
      return "profile";
    case ModelKind::kPersistence:
      return "persistence";
    case ModelKind::kSmoothing:
      return "smoothing";
    case ModelKind::kRegression:
      return "regression";
    case ModelKind::kAuto:
      return "auto";
  }
  return "?";
}

Result<ModelKind> parse_model(std::string_view text) {
  for (ModelKind m : {ModelKind::kAuto, ModelKind::kProfile, ModelKind::kPersistence,
                      ModelKind::kSmoothing, ModelKind::kRegression}) {
    if (text == to_string(m)) return m;
  }
  return make_error(
      "unknown forecast model '{}' (known: auto, profile, persistence, smoothing, "
      "regression)",
      text);
}

Nanos min_history(ModelKind model) {
  switch (model) {
    case ModelKind::kSmoothing:
    case ModelKind::kRegression:
      return std::chrono::days(14);
    default:
      return kDay;
  }
}

const char* to_string(ForecastQuantile q) {
  switch (q) {
    case ForecastQuantile::kPoint:
      return "point";
    case ForecastQuantile::kP10:
      return "p10";
    case ForecastQuantile::kP50:
      return "p50";
    case ForecastQuantile::kP90:
      return "p90";
  }
  return "?";
}

Result<ForecastQuantile> parse_forecast_quantile(std::string_view text) {
  if (text == "point" || text == "mean" || text == "none") return ForecastQuantile::kPoint;
  if (text == "p10") return ForecastQuantile::kP10;
  if (text == "p50") return ForecastQuantile::kP50;
  if (text == "p90") return ForecastQuantile::kP90;
  return make_error("unknown forecast quantile '{}' (known: point, p10, p50, p90)", text);
}

double ForecastSlot::value(ForecastQuantile q) const {
  double v = g_per_kwh;
  if (q == ForecastQuantile::kP10) v = p10_g_per_kwh;
  if (q == ForecastQuantile::kP50) v = p50_g_per_kwh;
  if (q == ForecastQuantile::kP90) v = p90_g_per_kwh;
  return std::isnan(v) ? g_per_kwh : v;
}

std::string Forecast::describe() const {
  std::string text = to_string(model);
  if (requested == ModelKind::kAuto) {
    text += " (auto";
  } else if (requested != model) {
    text += fmt::format(" (instead of {}", to_string(requested));
  } else {
    text += " (";
  }
  if (!std::isnan(skill.mean_mae_g_per_kwh) && !skill.samples.empty()) {
    text +=
        fmt::format("{}MAE {:.1f} g/kWh over steps 1-{} of its recent back-test",
                    text.back() == '(' ? "" : "; ", skill.mean_mae_g_per_kwh, skill.samples.size());
    if (model != ModelKind::kProfile && !std::isnan(profile_skill.mean_mae_g_per_kwh)) {
      text += fmt::format(", profile {:.1f}", profile_skill.mean_mae_g_per_kwh);
    }
  } else {
    text += fmt::format("{}not back-tested yet", text.back() == '(' ? "" : "; ");
  }
  return text + ")";
}

std::vector<double> Forecast::values(ForecastQuantile q) const {
  std::vector<double> out;
  out.reserve(slots.size());
  for (const ForecastSlot& s : slots) out.push_back(s.value(q));
  return out;
}

IntensitySeries to_series(const Forecast& forecast, ForecastQuantile q) {
  IntensitySeries series;
  series.zone = forecast.series.zone;
  series.signal = forecast.series.signal;
  series.factor = forecast.series.factor;
  series.source = fmt::format("carbonclock-forecast-{}{}", to_string(forecast.model),
                              q == ForecastQuantile::kPoint ? "" : std::string("-") + to_string(q));
  series.issued_at = forecast.issued_at;
  series.points.reserve(forecast.slots.size());
  for (const ForecastSlot& s : forecast.slots) {
    series.points.push_back({s.start_utc, forecast.slot, s.value(q), false});
  }
  return series;
}

Forecaster::Forecaster(SeriesInfo series, SysTime first_slot_utc, Nanos slot,
                       const ForecasterOptions& options)
    : series_(std::move(series)),
      first_slot_utc_(first_slot_utc),
      slot_(slot),
      options_(options),
      calendar_(first_slot_utc, slot),
      steps_(std::min(slots_in(options.model_horizon, slot), kMaxModelSteps)),
      stride_(slots_in(std::max(options.origin_step, slot), slot)),
      ring_origins_(steps_ / stride_ + 2),
      recent_(calendar_.per_week() + 3 * calendar_.per_day()),  // regression.history_needed()
      profile_(calendar_, options.profile_weeks),
      smoothing_(calendar_, options.smoothing, slot),
      regression_(calendar_, steps_, stride_, options.regression),
      past_(kModels.size(), std::vector<double>(ring_origins_ * steps_, kNaN)),
      past_origin_(ring_origins_, -1) {
  size_t capacity = slots_in(options.error_window, slot * static_cast<int64_t>(stride_));
  for (size_t m = 0; m < kModels.size(); ++m) {
    rolling_.emplace_back(steps_, capacity);
    all_time_.emplace_back(steps_);
  }
}

Result<Forecaster> Forecaster::create(SeriesInfo series, SysTime first_slot_utc, Nanos slot,
                                      const ForecasterOptions& options) {
  if (Status s = check_forecast_slot(slot); !s) return s.error().with_context(series.zone);
  if (floor_to(first_slot_utc, slot) != first_slot_utc) {
    return make_error("zone {}: the first slot {} does not start on a multiple of {}", series.zone,
                      format_utc(first_slot_utc), format_duration(slot));
  }
  if (options.model_horizon <= Nanos(0) || options.error_window <= Nanos(0) ||
      options.max_horizon <= Nanos(0) || options.profile_weeks == 0) {
    return make_error("zone {}: forecaster options must be positive", series.zone);
  }
  return Forecaster(std::move(series), first_slot_utc, slot, options);
}

Result<Forecaster> Forecaster::fit(const SlotHistory& history, SysTime as_of,
                                   const ForecasterOptions& options) {
  auto f = create(history.info, history.first_slot_utc, history.slot, options);
  if (!f) return f.error();
  size_t n = 0;
  while (n < history.size() && history.slot_start(n + 1) <= as_of) ++n;
  f->advance(std::span<const double>(history.g_per_kwh.data(), n));
  return f;
}

SysTime Forecaster::data_end_utc() const {
  return first_slot_utc_ + slot_ * static_cast<int64_t>(recent_.count());
}

bool Forecaster::is_origin(size_t n) const {
  return calendar_.absolute(n) % static_cast<int64_t>(stride_) == 0;
}

size_t Forecaster::history_slots_needed(ModelKind model) const {
  return slots_in(min_history(model), slot_);
}

bool Forecaster::ready(ModelKind model) const {
  size_t n = recent_.count();
  if (!profile_.ready() || n < history_slots_needed(ModelKind::kProfile)) return false;
  switch (model) {
    case ModelKind::kSmoothing:
      return smoothing_.ready() && n >= history_slots_needed(model);
    case ModelKind::kRegression:
      return n >= history_slots_needed(model);
    default:
      return true;
  }
}

void Forecaster::model_forecast(ModelKind model, size_t first_step, size_t count,
                                double* out) const {
  size_t n = recent_.count();
  switch (model) {
    case ModelKind::kProfile:
      for (size_t k = 0; k < count; ++k) out[k] = profile_.value(n - 1 + first_step + k);
      return;
    case ModelKind::kPersistence:
      persistence_forecast(recent_, calendar_.per_day(), first_step, count, out);
      return;
    case ModelKind::kSmoothing:
      smoothing_.forecast(first_step, count, out);
      return;
    case ModelKind::kRegression:
      regression_.forecast(recent_, profile_, first_step, count, out);
      return;
    case ModelKind::kAuto:
      break;
  }
  std::fill(out, out + count, kNaN);
}

void Forecaster::advance(double y) {
  size_t j = recent_.count();  // the slot being fed
  double filled = std::isnan(y) ? profile_.value(j) : y;
  recent_.push(y, filled);
  if (!std::isnan(y)) {
    last_observed_ = j + 1;
    // Score the forecasts made for slot j: step h of origin j + 1 − h.
    for (size_t h = 1; h <= steps_ && h <= j + 1; ++h) {
      size_t o = j + 1 - h;
      if (!is_origin(o)) continue;
      size_t ring = (o / stride_) % ring_origins_;
      if (past_origin_[ring] != static_cast<int64_t>(o)) continue;
      for (size_t m = 0; m < kModels.size(); ++m) {
        double f = past_[m][ring * steps_ + (h - 1)];
        rolling_[m].add(h, f, y);
        all_time_[m].add(h, f, y);
      }
    }
  }
  profile_.observe(y);
  smoothing_.observe(y, recent_);
  regression_.observe(recent_, profile_);
  size_t n = j + 1;
  if (!is_origin(n)) return;
  size_t ring = (n / stride_) % ring_origins_;
  past_origin_[ring] = static_cast<int64_t>(n);
  for (size_t m = 0; m < kModels.size(); ++m) {
    double* out = &past_[m][ring * steps_];
    if (ready(kModels[m])) {
      model_forecast(kModels[m], 1, steps_, out);
    } else {
      std::fill(out, out + steps_, kNaN);
    }
  }
}

void Forecaster::advance(std::span<const double> values) {
  for (double y : values) advance(y);
}

Skill Forecaster::skill(ModelKind model, size_t last_step) const {
  Skill s;
  s.model = model;
  const RollingErrors& r = rolling_[index(model)];
  double mae_sum = 0, mape_sum = 0;
  size_t mae_n = 0, mape_n = 0;
  for (size_t h = 1; h <= std::min(last_step, steps_); ++h) {
    s.mae_g_per_kwh.push_back(r.mae(h));
    s.mape_pct.push_back(r.mape_pct(h));
    s.samples.push_back(r.count(h));
    if (!std::isnan(r.mae(h))) {
      mae_sum += r.mae(h);
      ++mae_n;
    }
    if (!std::isnan(r.mape_pct(h))) {
      mape_sum += r.mape_pct(h);
      ++mape_n;
    }
  }
  s.mean_mae_g_per_kwh = mae_n ? mae_sum / static_cast<double>(mae_n) : kNaN;
  s.mean_mape_pct = mape_n ? mape_sum / static_cast<double>(mape_n) : kNaN;
  return s;
}

const HorizonErrors& Forecaster::all_time_errors(ModelKind model) const {
  return all_time_[index(model)];
}

Forecaster::Choice Forecaster::choose(size_t last_step) const {
  Choice c;
  c.mean_mae_g_per_kwh.fill(kNaN);
  size_t min_scored = slots_in(options_.auto_min_scored, slot_ * static_cast<int64_t>(stride_));
  last_step = std::min(last_step, steps_);
  std::vector<size_t> candidates;
  for (size_t m = 0; m < kModels.size(); ++m) {
    if (ready(kModels[m]) && last_step >= 1 && rolling_[m].count(1) >= min_scored) {
      candidates.push_back(m);
    }
  }
  if (candidates.empty()) return c;
  // Compare on the steps every candidate has enough scores for (far steps fill up later).
  std::vector<double> sums(kModels.size(), 0.0);
  for (size_t h = 1; h <= last_step; ++h) {
    bool all = std::all_of(candidates.begin(), candidates.end(),
                           [&](size_t m) { return rolling_[m].count(h) >= min_scored; });
    if (!all) continue;
    for (size_t m : candidates) sums[m] += rolling_[m].mae(h);
    ++c.steps_compared;
  }
  if (c.steps_compared == 0) return c;
  double best = std::numeric_limits<double>::infinity();
  for (size_t m : candidates) {
    c.mean_mae_g_per_kwh[m] = sums[m] / static_cast<double>(c.steps_compared);
    if (c.mean_mae_g_per_kwh[m] < best) {
      best = c.mean_mae_g_per_kwh[m];
      c.model = kModels[m];
    }
  }
  return c;
}

Result<Forecast> Forecaster::forecast(SysTime as_of, Nanos horizon,
                                      const ForecastRequest& request) const {
  const std::string& zone = series_.zone;
  if (!ready(ModelKind::kProfile)) {
    return make_error(
        "zone {}: {} of history before {}; forecasting needs at least {} (the profile and "
        "persistence models; smoothing and regression need {})",
        zone, days_text(slot_ * static_cast<int64_t>(recent_.count())), format_utc(as_of),
        days_text(min_history(ModelKind::kProfile)),
        days_text(min_history(ModelKind::kRegression)));
  }
  SysTime data_end = data_end_utc();
  if (as_of < data_end) {
    return make_error(
        "zone {}: a forecast as of {} cannot use data up to {}: that would be look-ahead", zone,
        format_utc(as_of), format_utc(data_end));
  }
  if (horizon <= Nanos(0))
    return make_error("zone {}: the forecast horizon must be positive", zone);
  if (horizon > options_.max_horizon) {
    return make_error("zone {}: a horizon of {} is longer than carbonclock forecasts ({})", zone,
                      format_duration(horizon), format_duration(options_.max_horizon));
  }
  Forecast f;
  f.series = series_;
  f.issued_at = as_of;
  f.data_end_utc = data_end;
  f.slot = slot_;
  f.requested = request.model;
  size_t n = recent_.count();
  size_t first = static_cast<size_t>((as_of - first_slot_utc_) / slot_);
  Nanos end_offset = as_of + horizon - first_slot_utc_;
  auto end = static_cast<size_t>((end_offset + slot_ - Nanos(1)) / slot_);
  size_t first_step = first - n + 1, last_step = end - n;
  if (first_step > 1) {
    f.notes.push_back(
        fmt::format("the latest actual ends at {}, {} before the forecast; its "
                    "first slot is step {}",
                    format_utc(data_end), format_duration(as_of - data_end), first_step));
  }
  if (n - last_observed_ > calendar_.per_day()) {
    f.notes.push_back(fmt::format("the last {} before {} are gaps: models read them as the profile",
                                  format_duration(slot_ * static_cast<int64_t>(n - last_observed_)),
                                  format_utc(data_end)));
  }
  // Which model serves.
  ModelKind model = request.model;
  if (model == ModelKind::kAuto) {
    Choice c = choose(last_step);
    model = c.model;
    if (c.steps_compared == 0) {
      f.notes.emplace_back("auto: no model has enough back-test yet; using the profile");
    }
  }
  if (!ready(model)) {
    f.notes.push_back(fmt::format("{} needs {} of history, {} has {}: using the profile",
                                  to_string(model), days_text(min_history(model)), zone,
                                  days_text(slot_ * static_cast<int64_t>(n))));
    model = ModelKind::kProfile;
  }
  f.model = model;
  // Values: the model up to its horizon, the profile beyond and wherever the model has none.
  std::vector<double> values(end - first, kNaN);
  size_t model_last = model == ModelKind::kProfile ? last_step : std::min(last_step, steps_);
  if (model_last >= first_step) {
    model_forecast(model, first_step, model_last - first_step + 1, values.data());
  }
  size_t beyond = 0, missing = 0;
  f.slots.resize(values.size());
  for (size_t k = 0; k < values.size(); ++k) {
    ForecastSlot& s = f.slots[k];
    s.step = first_step + k;
    s.start_utc = first_slot_utc_ + slot_ * static_cast<int64_t>(first + k);
    s.model = model;
    s.g_per_kwh = values[k];
    if (std::isnan(s.g_per_kwh)) {
      (s.step > model_last ? beyond : missing) += 1;
      s.model = ModelKind::kProfile;
      s.g_per_kwh = profile_.value(first + k);
    }
  }
  if (beyond) {
    f.notes.push_back(fmt::format("{} slots beyond {}'s horizon ({}) use the profile", beyond,
                                  to_string(model),
                                  format_duration(slot_ * static_cast<int64_t>(steps_))));
  }
  if (missing) {
    f.notes.push_back(fmt::format("{} slots use the profile: {} lacked inputs (gaps)", missing,
                                  to_string(model)));
  }
  // Intervals: the model's recent errors at the step (the profile's at the last scored step
  // beyond the horizon); a step with too few errors borrows the nearest shorter one's.
  if (request.intervals) {
    std::array<size_t, kModels.size()> good_until{};
    for (size_t m = 0; m < kModels.size(); ++m) {
      for (size_t h = 1; h <= steps_ && rolling_[m].count(h) >= kMinIntervalSamples; ++h) {
        good_until[m] = h;
      }
    }
    size_t without = 0, borrowed = 0;
    for (ForecastSlot& s : f.slots) {
      size_t m = index(s.model);
      size_t step = std::min(s.step, good_until[m]);
      if (step == 0) {
        s.p10_g_per_kwh = s.p50_g_per_kwh = s.p90_g_per_kwh = kNaN;
        ++without;
        continue;
      }
      ErrorQuantiles q = rolling_[m].quantiles(step);
      if (q.samples < kMinIntervalSamples) {
        s.p10_g_per_kwh = s.p50_g_per_kwh = s.p90_g_per_kwh = kNaN;
        ++without;
        continue;
      }
      if (step < std::min(s.step, steps_)) ++borrowed;
      s.p10_g_per_kwh = std::max(0.0, s.g_per_kwh + q.q10);
      s.p50_g_per_kwh = std::max(0.0, s.g_per_kwh + q.q50);
      s.p90_g_per_kwh = std::max(0.0, s.g_per_kwh + q.q90);
    }
    if (without) {
      f.notes.push_back(fmt::format("{} slots have no interval: fewer than {} back-tested errors",
                                    without, kMinIntervalSamples));
    }
    if (borrowed) {
      f.notes.push_back(
          fmt::format("{} slots borrow the interval of a shorter step (too few "
                      "back-tested errors at their own)",
                      borrowed));
    }
  }
  size_t skill_steps = std::min(last_step, steps_);
  f.skill = skill(model, skill_steps);
  f.profile_skill = skill(ModelKind::kProfile, skill_steps);
  return f;
}

Result<HistoryForecaster> HistoryForecaster::create(const SlotHistory& history,
                                                    const ForecasterOptions& options) {
  auto f = Forecaster::create(history.info, history.first_slot_utc, history.slot, options);
  if (!f) return f.error();
  return HistoryForecaster(history, options, std::move(*f));
}

Result<Forecast> HistoryForecaster::forecast_at(SysTime decision_time, Nanos horizon,
                                                const ForecastRequest& request) {
  if (decision_time < forecaster_.data_end_utc()) {  // earlier than the last one: start again
    auto fresh =
        Forecaster::create(history_->info, history_->first_slot_utc, history_->slot, options_);
    if (!fresh) return fresh.error();
    forecaster_ = std::move(*fresh);
  }
  // Feed exactly the slots that end at or before the decision time.
  size_t n = forecaster_.observed_slots();
  while (n < history_->size() && history_->slot_start(n + 1) <= decision_time) {
    forecaster_.advance(history_->g_per_kwh[n]);
    ++n;
  }
  return forecaster_.forecast(decision_time, horizon, request);
}

}  // namespace carbonclock

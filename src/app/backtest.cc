#include "app/backtest.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#include "app/store_access.h"
#include "common/strings.h"
#include "execution/online_planner.h"
#include "forecasting/decision_quality.h"
#include "intensity/intensity_provider.h"
#include "shifting/plan.h"

namespace carbonclock {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// What the planner sees at each issue time: planning slots (of the truth's length) from the
/// issue time on, in µg/kWh, computed once per issue time and kept while starts need it.
class PlanningBook {
 public:
  PlanningBook(const SlottedIntensity& truth, const SlotHistory& history,
               const BacktestForecast& forecast, size_t view_slots, BacktestZoneStats& stats,
               const StoredForecasts* stored)
      : truth_(truth),
        history_(history),
        forecast_(forecast),
        view_slots_(view_slots),
        stats_(stats),
        stored_(stored) {
    issue_step_ = std::max<Nanos>(history.slot, std::chrono::hours(1));
    double sum = 0;
    size_t n = 0;
    for (double v : history.g_per_kwh) {
      if (!std::isnan(v)) sum += v, ++n;
    }
    mean_g_ = n ? sum / static_cast<double>(n) : 0;
  }

  Status init() {
    if (forecast_.kind != BacktestForecast::Kind::kModel &&
        forecast_.kind != BacktestForecast::Kind::kStored) {
      return {};
    }
    auto f = HistoryForecaster::create(history_);
    if (!f) return f.error();
    rolling_.emplace(std::move(*f));
    return {};
  }

  /// The issue time of the forecast the planner holds at t.
  SysTime issue(SysTime t) const {
    if (forecast_.kind == BacktestForecast::Kind::kOracle) return truth_.first_slot_utc;
    SysTime tau = floor_to(t, issue_step_);
    if (const StoredForecastIssue* latest = latest_stored(t)) {
      // A stored forecast is first seen at the first planning slot boundary at or after its
      // issue (decision times are slot boundaries), never before it.
      SysTime seen = floor_to(latest->issued_at, truth_.slot);
      if (seen < latest->issued_at) seen += truth_.slot;
      tau = std::max(tau, seen);
    }
    return tau;
  }

  /// Planning values as of t for the planning slots [t, t + count): values()[offset + i]. Error
  /// when no forecast can be made at t.
  Result<const std::vector<int64_t>*> at(SysTime t, size_t count, size_t& offset) {
    if (forecast_.kind == BacktestForecast::Kind::kOracle) {
      offset = static_cast<size_t>((t - truth_.first_slot_utc) / truth_.slot);
      if (offset + count > truth_.size()) return make_error("outside the data");
      return &truth_.ug_per_kwh;
    }
    const SysTime tau = issue(t);
    offset = static_cast<size_t>((t - tau) / truth_.slot);
    if (offset + count > view_slots_) return make_error("internal: view too short");
    auto it = cache_.find(tau);
    if (it == cache_.end()) {
      auto made = make(tau);
      if (!made) return made.error();
      it = cache_.emplace(tau, std::move(*made)).first;
    }
    return &it->second;
  }

  /// How many planning slots from t at() can give.
  size_t reach(SysTime t) const {
    if (forecast_.kind == BacktestForecast::Kind::kOracle) {
      return truth_.size() - static_cast<size_t>((t - truth_.first_slot_utc) / truth_.slot);
    }
    return view_slots_ - static_cast<size_t>((t - issue(t)) / truth_.slot);
  }

  /// The latest stored forecast issued at or before t (--forecast stored), or null.
  const StoredForecastIssue* latest_stored(SysTime t) const {
    if (forecast_.kind != BacktestForecast::Kind::kStored || stored_ == nullptr) return nullptr;
    const auto& issues = stored_->issues;
    auto it =
        std::upper_bound(issues.begin(), issues.end(), t,
                         [](SysTime v, const StoredForecastIssue& i) { return v < i.issued_at; });
    return it == issues.begin() ? nullptr : &*std::prev(it);
  }

  /// --forecast stored: error unless a stored forecast issued at or before the decision time t
  /// reaches past t (a start without one has no row).
  Status usable(SysTime t) const {
    if (forecast_.kind != BacktestForecast::Kind::kStored) return {};
    const StoredForecastIssue* f = latest_stored(t);
    if (f == nullptr) {
      if (stored_ == nullptr || stored_->series.empty()) {
        return make_error("no forecast of the zone is stored");
      }
      return make_error("no stored forecast ({}) was issued by then", stored_->series);
    }
    if (f->points.empty() || f->points.back().end() <= t) {
      return make_error("the latest stored forecast issued by then ({}, issued {}) ends at {}",
                        f->source, format_utc(f->issued_at),
                        f->points.empty() ? "its issue" : format_utc(f->points.back().end()));
    }
    return {};
  }

  /// Forgets issue times before t (starts come in time order).
  void forget_before(SysTime t) { cache_.erase(cache_.begin(), cache_.lower_bound(issue(t))); }

 private:
  /// The truth's planning slot at time t in µg/kWh, the history's mean where it has none.
  int64_t truth_at(SysTime t) const {
    auto i = truth_.index_of(t);
    if (i && truth_.covered[*i]) return truth_.ug_per_kwh[*i];
    return std::llround(mean_g_ * kMicrogramsPerGram);
  }

  Result<std::vector<int64_t>> make(SysTime tau) {
    ++stats_.forecasts;
    std::vector<int64_t> out(view_slots_);
    const Nanos slot = truth_.slot;
    if (forecast_.kind == BacktestForecast::Kind::kNoise) {
      // Noise per history slot, drawn afresh at each issue time (seeded by it).
      std::seed_seq seq{static_cast<uint64_t>(forecast_.seed),
                        static_cast<uint64_t>(tau.time_since_epoch().count())};
      std::mt19937_64 rng(seq);
      std::normal_distribution<double> noise(0.0, forecast_.noise_pct / 100.0 * mean_g_);
      const SysTime first = floor_to(tau, history_.slot);
      std::vector<double> drawn;
      for (size_t p = 0; p < view_slots_; ++p) {
        SysTime t = tau + slot * static_cast<int64_t>(p);
        auto k = static_cast<size_t>((floor_to(t, history_.slot) - first) / history_.slot);
        while (drawn.size() <= k) drawn.push_back(noise(rng));
        out[p] = truth_at(t) + std::llround(drawn[k] * kMicrogramsPerGram);
      }
      return out;
    }
    const Nanos horizon = slot * static_cast<int64_t>(view_slots_);
    std::vector<uint8_t> filled(view_slots_, 0);
    size_t stored_slots = 0;
    if (forecast_.kind == BacktestForecast::Kind::kStored) {
      // Look-ahead: only a forecast issued at or before tau (latest_stored), never a later one.
      // A start needs one (usable()); a later re-plan whose latest forecast has run out rests
      // on carbonclock's own forecast alone, as `run`'s planning chain does.
      const StoredForecastIssue* f = latest_stored(tau);
      size_t k = 0;
      for (size_t p = 0; f != nullptr && p < view_slots_; ++p) {
        const SysTime a = tau + slot * static_cast<int64_t>(p), b = a + slot;
        while (k < f->points.size() && f->points[k].end() <= a) ++k;
        double weighted = 0;
        Nanos covered{0};
        for (size_t q = k; q < f->points.size() && f->points[q].start < b; ++q) {
          const SysTime s0 = std::max(a, f->points[q].start), e0 = std::min(b, f->points[q].end());
          if (e0 <= s0) continue;
          weighted += f->points[q].g_per_kwh * to_seconds(e0 - s0);
          covered += e0 - s0;
        }
        if (covered != slot) continue;
        out[p] = std::llround(weighted / to_seconds(slot) * kMicrogramsPerGram);
        filled[p] = 1;
        ++stored_slots;
      }
      stats_.stored_slots += stored_slots;
      stats_.own_slots += view_slots_ - stored_slots;
      if (stored_slots == view_slots_) return out;
    }
    // Beyond a stored forecast's horizon: carbonclock's own forecast, as the planning chain.
    const ModelKind model =
        forecast_.kind == BacktestForecast::Kind::kStored ? ModelKind::kAuto : forecast_.model;
    auto fc = rolling_->forecast_at(tau, horizon,
                                    {model, forecast_.quantile != ForecastQuantile::kPoint});
    if (!fc) {
      if (forecast_.kind != BacktestForecast::Kind::kStored) return fc.error();
      return make_error("beyond the stored forecast's horizon there is no own forecast: {}",
                        fc.error().message());
    }
    if (fc->slots.empty()) return make_error("the forecast at {} is empty", format_utc(tau));
    ++stats_.served[static_cast<size_t>(fc->model)];
    std::vector<double> values = fc->values(forecast_.quantile);
    for (size_t k = 0; k < values.size(); ++k) {
      if (std::isnan(values[k])) values[k] = fc->slots[k].g_per_kwh;
    }
    const SysTime first = fc->slots.front().start_utc;
    for (size_t p = 0; p < view_slots_; ++p) {
      if (filled[p]) continue;
      SysTime t = tau + slot * static_cast<int64_t>(p);
      int64_t k = t < first ? 0 : (t - first) / fc->slot;
      k = std::min<int64_t>(k, static_cast<int64_t>(values.size()) - 1);
      out[p] = std::llround(values[static_cast<size_t>(k)] * kMicrogramsPerGram);
    }
    return out;
  }

  const SlottedIntensity& truth_;
  const SlotHistory& history_;
  const BacktestForecast& forecast_;
  size_t view_slots_;
  BacktestZoneStats& stats_;
  const StoredForecasts* stored_;
  Nanos issue_step_{};
  double mean_g_ = 0;
  std::optional<HistoryForecaster> rolling_;
  std::map<SysTime, std::vector<int64_t>> cache_;
};

/// The window decide() would cut (remaining_window) from the planning slots [offset, offset +
/// count) of `values` as an intensity starting at t, made straight from the values: t is on a
/// slot boundary and every planning slot is covered, so each slot is whole at its own value
/// (OnlinePlannerTest.RemainingWindowFromABoundaryOfACoveredIntensityIsItsSlots).
void planning_window(const std::vector<int64_t>& values, size_t offset, size_t count, SysTime t,
                     Nanos slot, std::vector<WindowSlot>& out) {
  out.resize(count);
  const double slot_s = to_seconds(slot);
  for (size_t i = 0; i < count; ++i) {
    out[i] = {t + slot * static_cast<int64_t>(i), slot_s,
              static_cast<double>(values[offset + i]) / kMicrogramsPerGram};
  }
}

struct Replayed {
  int64_t realised_ug = 0;
  int32_t pauses = 0;
};

/// Flexible Start: one decision at the requested start s, as decide() makes it, on `window`
/// (the planning values cut from s to the start's longest deadline; a deadline on a slot
/// boundary cuts the same first k + n slots, so one cut serves every job and window of the
/// start), priced on the truth.
Replayed replay_flexible_start(std::span<const WindowSlot> window, const SlottedIntensity& truth,
                               const std::vector<int64_t>& prefix, size_t s, size_t k, size_t n) {
  const double slot_s = to_seconds(truth.slot);
  Decision d = decide_in_window(Algorithm::kFlexibleStart, window.first(k + n), truth.slot,
                                truth.slot_start(s), truth.slot_start(s + k + n),
                                static_cast<double>(k) * slot_s, false);
  size_t first = d.chosen.empty() ? 0 : d.chosen.front();
  first = std::min(first, n);
  return Replayed{prefix[s + first + k] - prefix[s + first], 0};
}

/// Pause and Resume: decide() at every issue time (or every slot), the slots in between follow
/// the plan; priced on the truth.
Result<Replayed> replay_pause_resume(PlanningBook& book, const SlottedIntensity& truth, size_t s,
                                     size_t k, size_t n, bool every_slot) {
  const size_t span = k + n;
  const SysTime start = truth.slot_start(s), deadline = truth.slot_start(s + span);
  const double slot_s = to_seconds(truth.slot);
  std::vector<uint8_t> planned(span, 0);
  std::vector<WindowSlot> window;
  std::optional<SysTime> held;
  size_t remaining = k;
  bool ran_before = false, ran_last = false;
  Replayed out;
  for (size_t i = 0; i < span && remaining > 0; ++i) {
    const SysTime t = start + truth.slot * static_cast<int64_t>(i);
    const SysTime tau = book.issue(t);
    if (every_slot || !held || *held != tau) {
      size_t offset = 0;
      auto values = book.at(t, span - i, offset);
      if (!values) return values.error();
      planning_window(**values, offset, span - i, t, truth.slot, window);
      Decision d = decide_in_window(Algorithm::kPauseResume, window, truth.slot, t, deadline,
                                    static_cast<double>(remaining) * slot_s, ran_before);
      std::fill(planned.begin() + static_cast<std::ptrdiff_t>(i), planned.end(), 0);
      for (size_t c : d.chosen) planned[i + c] = 1;
      held = tau;
    }
    const bool run = planned[i] != 0;
    if (run) {
      out.realised_ug += truth.ug_per_kwh[s + i];
      --remaining;
      if (ran_before && !ran_last) ++out.pauses;
      ran_before = true;
    }
    ran_last = run;
  }
  return out;
}

}  // namespace

std::string BacktestForecast::label() const {
  switch (kind) {
    case Kind::kOracle:
      return "oracle";
    case Kind::kNoise:
      return fmt::format("noise:{:g}%", noise_pct);
    case Kind::kStored:
      return "stored";
    case Kind::kModel:
      break;
  }
  std::string out = to_string(model);
  if (quantile != ForecastQuantile::kPoint) out += fmt::format(" {}", to_string(quantile));
  return out;
}

Result<BacktestForecast> parse_backtest_forecast(std::string_view forecast, std::string_view risk) {
  BacktestForecast out;
  const std::string text = to_lower(trim(forecast));
  if (text == "oracle") {
    out.kind = BacktestForecast::Kind::kOracle;
  } else if (text == "stored") {
    out.kind = BacktestForecast::Kind::kStored;
  } else if (text.rfind("noise:", 0) == 0) {
    out.kind = BacktestForecast::Kind::kNoise;
    std::string pct = text.substr(6);
    if (!pct.empty() && pct.back() == '%') pct.pop_back();
    char* end = nullptr;
    out.noise_pct = std::strtod(pct.c_str(), &end);
    if (pct.empty() || end != pct.c_str() + pct.size() || !std::isfinite(out.noise_pct) ||
        out.noise_pct <= 0) {
      return make_error("--forecast '{}': noise needs a positive percentage, e.g. noise:5%",
                        forecast);
    }
  } else {
    auto model = parse_model(text);
    if (!model) {
      return make_error(
          "--forecast '{}': choose oracle, auto, profile, persistence, smoothing, "
          "regression, noise:P% (e.g. noise:5%) or stored",
          forecast);
    }
    out.kind = BacktestForecast::Kind::kModel;
    out.model = *model;
  }
  if (!risk.empty()) {
    auto q = parse_forecast_quantile(risk);
    if (!q) return q.error().with_context("--risk");
    if (*q != ForecastQuantile::kPoint && out.kind != BacktestForecast::Kind::kModel) {
      return make_error("--risk {}: only a model's forecast has prediction intervals (not {})",
                        risk, out.label());
    }
    out.quantile = *q;
  }
  return out;
}

std::optional<double> BacktestRow::captured_pct() const {
  return carbonclock::captured_pct(baseline_g, realised_g, oracle_g);
}

Status run_backtest(const SweepInputs& inputs, const std::vector<SlotHistory>& histories,
                    const BacktestForecast& forecast, const BacktestOptions& options,
                    const std::function<Status(std::vector<BacktestRow>&&)>& rows,
                    std::vector<BacktestZoneStats>& stats,
                    const std::vector<StoredForecasts>& stored) {
  if (histories.size() != inputs.zones.size()) {
    return make_error(ErrorCode::kInternal, "run_backtest: {} histories for {} zones",
                      histories.size(), inputs.zones.size());
  }
  if (forecast.kind == BacktestForecast::Kind::kStored && stored.size() != inputs.zones.size()) {
    return make_error(ErrorCode::kInternal, "run_backtest: stored forecasts for {} of {} zones",
                      stored.size(), inputs.zones.size());
  }
  stats.assign(inputs.zones.size(), {});
  // Zones are independent (each its own sweep, forecaster and rows): they run in parallel, one
  // per worker, and their rows are handed to `rows` in zone order.
  const size_t zones = inputs.zones.size();
  const auto workers = static_cast<unsigned>(
      std::clamp<size_t>(std::thread::hardware_concurrency(), 1, std::max<size_t>(zones, 1)));
  auto zone_rows = [&](size_t z, std::vector<BacktestRow>& out) -> Status {
    const SweepZone& zone = inputs.zones[z];
    const SlottedIntensity& truth = zone.intensity;
    // The oracle and the baseline: `sweep` itself.
    std::vector<SweepCell> cells;
    SweepOptions sweep_options;
    sweep_options.slot = truth.slot;
    sweep_options.threads = workers > 1 ? 1 : 0;  // the zones already use every core
    std::vector<SweepZone> one{zone};
    Status swept = run_sweep(inputs.jobs, one, inputs.windows, sweep_options,
                             [&](SweepCell&& c) { cells.push_back(std::move(c)); });
    if (!swept) return swept;
    std::ranges::sort(cells, {}, &SweepCell::job);
    size_t longest = 0;
    for (const SweepCell& c : cells) {
      for (const auto& w : c.windows) longest = std::max(longest, c.job_slots + w.window_slots);
    }
    const Nanos issue_step = std::max<Nanos>(histories[z].slot, std::chrono::hours(1));
    const size_t view_slots = longest + static_cast<size_t>(issue_step / truth.slot) + 1;
    if ((forecast.kind == BacktestForecast::Kind::kModel ||
         forecast.kind == BacktestForecast::Kind::kStored) &&
        truth.slot * static_cast<int64_t>(view_slots) > std::chrono::days(31)) {
      return make_error(
          "zone {}: a job plus its window spans more than 31 days, longer than a "
          "forecast may reach",
          truth.zone);
    }
    if (forecast.kind == BacktestForecast::Kind::kStored) {
      stats[z].stored_series = stored[z].series;
      stats[z].stored_issues = stored[z].issues.size();
    }
    PlanningBook book(truth, histories[z], forecast, view_slots, stats[z],
                      forecast.kind == BacktestForecast::Kind::kStored ? &stored[z] : nullptr);
    if (Status s = book.init(); !s)
      return s.error().with_context(fmt::format("zone {}", truth.zone));
    std::vector<int64_t> prefix(truth.size() + 1, 0);
    for (size_t i = 0; i < truth.size(); ++i) prefix[i + 1] = prefix[i] + truth.ug_per_kwh[i];
    // Starts in time order (the forecaster rolls forward).
    std::vector<size_t> order(zone.starts.size());
    std::iota(order.begin(), order.end(), 0);
    std::ranges::stable_sort(order, {}, [&](size_t i) { return zone.starts[i]; });
    std::vector<std::vector<BacktestRow>> per_job(cells.size());
    for (size_t oi : order) {
      const SysTime start = floor_to(zone.starts[oi], truth.slot);
      book.forget_before(start);
      if (start < truth.first_slot_utc) continue;
      const auto s = static_cast<size_t>((start - truth.first_slot_utc) / truth.slot);
      // Cut at the start's first Flexible Start: the planning values to its longest deadline.
      std::vector<WindowSlot> fs_window;
      bool fs_cut = false;
      for (size_t c = 0; c < cells.size(); ++c) {
        const SweepCell& cell = cells[c];
        const double per_ug = cell.energy_kwh_per_slot / kMicrogramsPerGram;
        for (size_t w = 0; w < cell.windows.size(); ++w) {
          const SweepCell::Window& win = cell.windows[w];
          if (win.status[oi] == StartStatus::kOutsideData) ++stats[z].skipped_outside;
          if (win.status[oi] == StartStatus::kGap) ++stats[z].skipped_gap;
          if (win.status[oi] != StartStatus::kOk) continue;
          const size_t k = cell.job_slots, n = win.window_slots;
          BacktestRow row{cell.job, z, w, oi, start, false, win.baseline_g[oi], 0, 0, 0};
          std::optional<Replayed> fs, pr;
          std::string why;
          if (Status ok = book.usable(start); !ok) why = ok.error().message();
          if (options.flexible_start && why.empty() && !fs_cut) {
            size_t offset = 0;
            const size_t count = std::min(longest, book.reach(start));
            auto values = book.at(start, count, offset);
            if (values) {
              planning_window(**values, offset, count, start, truth.slot, fs_window);
              fs_cut = true;
            } else {
              why = values.error().message();
            }
          }
          if (options.flexible_start && why.empty()) {
            if (k + n > fs_window.size()) {
              why = forecast.kind == BacktestForecast::Kind::kOracle ? "outside the data"
                                                                     : "internal: view too short";
            } else {
              fs = replay_flexible_start(fs_window, truth, prefix, s, k, n);
            }
          }
          if (options.pause_resume && why.empty()) {
            auto r = replay_pause_resume(book, truth, s, k, n, options.replan_every_slot);
            if (r)
              pr = *r;
            else
              why = r.error().message();
          }
          if (!why.empty()) {
            if (stats[z].starts_unplanned++ == 0) {
              stats[z].first_unplanned_reason =
                  fmt::format("no forecast at {}: {}", format_utc(start), why);
            }
            continue;
          }
          ++stats[z].starts_planned;
          if (fs) {
            row.pause_resume = false;
            row.realised_g = static_cast<double>(fs->realised_ug) * per_ug;
            row.oracle_g = win.fs_g[oi];
            row.pauses = 0;
            per_job[c].push_back(row);
          }
          if (pr) {
            row.pause_resume = true;
            row.realised_g = static_cast<double>(pr->realised_ug) * per_ug;
            row.oracle_g = win.pr_g[oi];
            row.pauses = pr->pauses;
            per_job[c].push_back(row);
          }
        }
      }
    }
    for (auto& job_rows : per_job) {
      // `sweep`'s order: the zone's requested starts as given, then window, then algorithm.
      std::ranges::stable_sort(job_rows, {}, &BacktestRow::start_index);
      out.insert(out.end(), job_rows.begin(), job_rows.end());
    }
    return {};
  };
  // Workers take the next zone; this thread hands finished zones over in order.
  struct Done {
    bool ready = false;
    Status status;
    std::vector<BacktestRow> rows;
  };
  std::vector<Done> done(zones);
  std::mutex mutex;
  std::condition_variable cv;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  auto worker = [&] {
    for (size_t z; !stop && (z = next++) < zones;) {
      std::vector<BacktestRow> out;
      Status st = zone_rows(z, out);
      std::lock_guard lock(mutex);
      done[z].status = std::move(st);
      done[z].rows = std::move(out);
      done[z].ready = true;
      cv.notify_all();
    }
  };
  // Every worker is a thread of its own (this one only waits and hands over): with one worker
  // fewer, a 2-core machine ran the zones one at a time.
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < workers; ++i) pool.emplace_back(worker);
  Status result;
  for (size_t z = 0; z < zones && result; ++z) {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return done[z].ready; });
    Status st = std::move(done[z].status);
    std::vector<BacktestRow> out = std::move(done[z].rows);
    lock.unlock();
    if (st) st = rows(std::move(out));
    if (!st) {
      result = std::move(st);
      stop = true;
    }
  }
  stop = true;
  for (auto& t : pool) t.join();
  return result;
}

// ---- summary ---------------------------------------------------------------------------------

BacktestSummary::BacktestSummary(size_t jobs, size_t zones, size_t windows)
    : jobs_(jobs), zones_(zones), windows_(windows), cells_(jobs * zones * windows * 2) {}

void BacktestSummary::add(const BacktestRow& r) {
  Cell& c =
      cells_[((r.job * zones_ + r.zone) * windows_ + r.window) * 2 + (r.pause_resume ? 1 : 0)];
  c.realised += reduction_pct(r.baseline_g, r.realised_g);
  c.oracle += reduction_pct(r.baseline_g, r.oracle_g);
  ++c.n;
  ++rows;
}

double BacktestSummary::over_zones(size_t j, size_t w, size_t a, bool realised) const {
  double sum = 0;
  size_t n = 0;
  for (size_t z = 0; z < zones_; ++z) {
    const Cell& c = cell(j, z, w, a);
    if (c.n == 0) continue;
    sum += (realised ? c.realised : c.oracle) / static_cast<double>(c.n);
    ++n;
  }
  return n ? sum / static_cast<double>(n) : kNaN;
}

double BacktestSummary::realised_pct(size_t j, size_t w, size_t a) const {
  return over_zones(j, w, a, true);
}
double BacktestSummary::oracle_pct(size_t j, size_t w, size_t a) const {
  return over_zones(j, w, a, false);
}
double BacktestSummary::captured_pct(size_t j, size_t w, size_t a) const {
  double o = oracle_pct(j, w, a);
  if (std::isnan(o) || std::abs(o) < 1e-9) return kNaN;
  return 100.0 * realised_pct(j, w, a) / o;
}
double BacktestSummary::mean_captured_pct(size_t j, size_t a) const {
  double sum = 0;
  size_t n = 0;
  for (size_t jj = 0; jj < jobs_; ++jj) {
    if (j != static_cast<size_t>(-1) && jj != j) continue;
    for (size_t w = 0; w < windows_; ++w) {
      double c = captured_pct(jj, w, a);
      if (std::isnan(c)) continue;
      sum += c;
      ++n;
    }
  }
  return n ? sum / static_cast<double>(n) : kNaN;
}

// ---- the use case ----------------------------------------------------------------------------

namespace {

/// --forecast stored: every forecast of the zone stored for the sweep's signal and factor (under
/// any of the zone's ids, the first that has any) that was issued before the sweep's data ends
/// and reaches past its start, each read whole, in issued_at order.
Result<StoredForecasts> load_stored_forecasts(IntensityProvider& provider, GridStore& store,
                                              const ZoneSelection& zone,
                                              const SlottedIntensity& truth) {
  StoredForecasts out;
  auto queries = provider.stored_series(zone, truth.signal, truth.factor, true);
  if (!queries) return queries.error();
  if (queries->empty()) return out;
  auto listed = store.list();
  if (!listed) return listed.error();
  const SysTime from = truth.first_slot_utc, to = truth.end_utc();
  for (const SeriesQuery& q : *queries) {
    std::vector<SysTime> issued;
    for (const StoredSeriesInfo& info : *listed) {
      if (!info.issued_at || !iequals(info.zone, q.zone) || info.signal != *q.signal ||
          info.factor != *q.factor || *info.issued_at >= to || info.last_end <= from) {
        continue;
      }
      if (issued.empty() || issued.back() != *info.issued_at) issued.push_back(*info.issued_at);
    }
    if (issued.empty()) continue;
    out.series = fmt::format("{} {}/{}", q.zone, to_string(*q.signal), to_string(*q.factor));
    std::ranges::sort(issued);
    issued.erase(std::unique(issued.begin(), issued.end()), issued.end());
    for (SysTime at : issued) {
      // The latest issued at or before `at` is the issue of `at` itself.
      auto f = store.latest_forecast(q, at, at, std::max(to, at) + std::chrono::days(31));
      if (!f) return f.error();
      if (!*f) continue;
      out.issues.push_back({at, (*f)->source, std::move((*f)->points)});
    }
    break;
  }
  return out;
}

}  // namespace

Result<BacktestRun> run_backtest_request(
    const BacktestRequest& r, AppContext& ctx,
    const std::function<Status(const BacktestRun&, std::vector<BacktestRow>&&)>& rows) {
  BacktestRun run;
  auto forecast = parse_backtest_forecast(r.forecast, r.risk);
  if (!forecast) return forecast.error();
  run.forecast = *forecast;
  run.forecast.seed = r.seed;
  if (r.algorithms == "both") {
  } else if (r.algorithms == "flexible-start") {
    run.options.pause_resume = false;
  } else if (r.algorithms == "pause-resume") {
    run.options.flexible_start = false;
  } else {
    return make_error("--algorithms '{}': choose both, flexible-start or pause-resume",
                      r.algorithms);
  }
  run.options.replan_every_slot = r.replan_every_slot;
  auto inputs = prepare_sweep(r.grid, ctx);
  if (!inputs) return inputs.error();
  run.labels = inputs->labels;
  // Each zone's history at its own granularity, from the store, for the forecasts.
  auto opened = open_store(r.grid.db, StoreMode::kIfExists, ctx.env);
  if (!opened) return opened.error();
  if (!opened->get())
    return make_error(ErrorCode::kNotFound, "{}: nothing to back-test", opened->note);
  IntensityProvider provider(opened->get());
  std::vector<SlotHistory> histories;
  std::vector<StoredForecasts> stored;
  for (const SweepZone& z : inputs->zones) {
    const SlottedIntensity& t = z.intensity;
    auto zone = select_zone(std::nullopt, t.zone);
    if (!zone) return zone.error();
    // Everything stored before the decision times counts, also before --from (the sweep's
    // series starts there): a year, as the planning chain's own forecasts read.
    auto series = provider.forecast_history(
        *zone, t.signal, t.factor, t.first_slot_utc - IntensityProvider::kOwnForecastHistory,
        t.end_utc());
    if (!series) return series.error();
    auto history = history_from_series(*series);
    if (!history) return history.error().with_context(fmt::format("zone {}", t.zone));
    run.history_series.push_back(fmt::format("{} {}/{} ({}), {} slots of {}", series->zone,
                                             to_string(series->signal), to_string(series->factor),
                                             series->source, history->size(),
                                             format_duration(history->slot)));
    histories.push_back(std::move(*history));
    if (run.forecast.kind == BacktestForecast::Kind::kStored) {
      auto loaded = load_stored_forecasts(provider, *opened->get(), *zone, t);
      if (!loaded) return loaded.error().with_context(fmt::format("zone {}", t.zone));
      stored.push_back(std::move(*loaded));
    }
  }
  run.summary = BacktestSummary(inputs->jobs.size(), inputs->zones.size(), inputs->windows.size());
  size_t done = 0;
  auto sink = [&](std::vector<BacktestRow>&& zone_rows) -> Status {
    for (const BacktestRow& row : zone_rows) run.summary.add(row);
    ctx.observer.progress(++done, inputs->zones.size());
    if (rows) return rows(run, std::move(zone_rows));
    return {};
  };
  if (Status s =
          run_backtest(*inputs, histories, run.forecast, run.options, sink, run.zone_stats, stored);
      !s) {
    return s.error();
  }
  return run;
}

}  // namespace carbonclock

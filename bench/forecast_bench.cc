// carbonclock's own forecasts on the 16 Electricity Maps zone-years in ../shared/data: quality and
// speed, in one run.
//
// Quality (printed as Markdown before the timings):
//  1. Forecast error: every model forecasts 48 h ahead at every hour from the day each zone has
//     two weeks of history (min_history of the adaptive models); MAE and MAPE per horizon step,
//     and which model auto served.
//  2. Decision quality (a prototype of the back-test of issue 14): at the sweep's requested
//     starts (--starts-per-month 5 by default, from two weeks into each zone-year), the paper's 11
//     jobs × 8 windows choose their slots with Flexible Start and Pause and Resume on each model's
//     forecast and are priced on the actuals, (a) with one plan at the requested start
//     (shifting/plan.h on the forecast) and (b) re-planned at every 5-minute slot on the
//     forecast issued at the start of each hour, as the executor re-plans. captured = 100 ×
//     realised mean reduction / oracle mean reduction, means over each zone's starts, then over
//     zones, as `sweep` averages. Reference rows: the actuals (must give 100), the actuals plus
//     Gaussian noise of 5 % of the zone's mean (Let's Wait Awhile's error model), and the actuals
//     for the first 24 or 48 hours followed by the profile (what a perfect day-ahead forecast
//     could capture).
//  3. Interval coverage: the share of actuals inside auto's p10–p90 band.
// Speed (Google Benchmark): rolling forecasts at every hourly start of all 16 zone-years (48 h,
// auto, with intervals) against fitting from scratch at each start, scaled from a subset.
//
// Flags before the Google Benchmark ones: --starts-per-month K | --every-hours H, --zones N
// (first N files), --variants NAME,... (rows to compute), --options KEY=VALUE,... (forecaster
// settings, see parse_options), --quality-only, --decisions-only, --speed-only.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <random>
#include <thread>

#include "forecasting/decision_quality.h"
#include "forecasting/forecaster.h"
#include "grid/importers.h"
#include "shifting/sweep.h"

namespace carbonclock {
namespace {

constexpr Nanos kHour = std::chrono::hours(1);
constexpr Nanos kFive = std::chrono::minutes(5);
constexpr size_t kErrorSteps = 48;
const char* kWindows = "6h,12h,18h,24h,25%,50%,75%,100%";

struct Zone {
  std::string name;
  SlotHistory history;        ///< hourly, the series' own granularity
  SlottedIntensity five_min;  ///< the actuals the plans are priced on (as `sweep`)
};

struct Flags {
  int starts_per_month = 5;
  int every_hours = 0;
  size_t zones = 16;
  bool errors = true;
  bool decisions = true;
  bool speed = true;
};
Flags g_flags;
ForecasterOptions g_options;
std::vector<std::string> g_variants;  // empty: all

// --options "profile_weeks=8,half_life_days=60,...": the settings compared in
// docs/forecasting.md. Returns false on an unknown key.
bool parse_options(const std::string& text, ForecasterOptions& o) {
  for (size_t pos = 0; pos < text.size();) {
    size_t comma = std::min(text.find(',', pos), text.size());
    std::string item = text.substr(pos, comma - pos);
    pos = comma + 1;
    size_t eq = item.find('=');
    if (eq == std::string::npos) return false;
    std::string key = item.substr(0, eq);
    double v = std::strtod(item.c_str() + eq + 1, nullptr);
    if (key == "profile_weeks") {
      o.profile_weeks = static_cast<size_t>(v);
    } else if (key == "model_horizon_h") {
      o.model_horizon = std::chrono::hours(static_cast<int>(v));
    } else if (key == "error_window_days") {
      o.error_window = std::chrono::days(static_cast<int>(v));
    } else if (key == "half_life_days") {
      o.regression.half_life_days = v;
    } else if (key == "ridge") {
      o.regression.ridge = v;
    } else if (key == "prior_samples") {
      o.regression.prior_samples = v;
    } else if (key == "alpha") {
      o.smoothing.alpha = v;
    } else if (key == "beta") {
      o.smoothing.beta = v;
    } else if (key == "phi") {
      o.smoothing.phi = v;
    } else if (key == "gamma_day") {
      o.smoothing.gamma_day = v;
    } else if (key == "gamma_week") {
      o.smoothing.gamma_week = v;
    } else if (key == "psi") {
      o.smoothing.psi = v;
    } else {
      return false;
    }
  }
  return true;
}

bool wanted(const std::string& name) {
  return g_variants.empty() ||
         std::find(g_variants.begin(), g_variants.end(), name) != g_variants.end();
}

std::vector<Zone> load_zones() {
  std::vector<Zone> zones;
  auto dir = std::filesystem::path(CARBONCLOCK_SHARED_DATA) / "electricitymaps_hourly";
  std::vector<std::filesystem::path> files;
  if (std::filesystem::exists(dir)) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (zones.size() == g_flags.zones) break;
    ImportOptions options;
    options.factor = Factor::kLifecycle;
    auto series = read_series_file(f, options);
    if (!series || series->empty()) continue;
    auto history = history_from_series(series->front());
    auto five = slot_series(series->front(), kFive);
    if (!history || !five) continue;
    std::string name = f.stem().string();
    name = name.substr(0, name.rfind("_hourly"));
    zones.push_back({name, std::move(*history), std::move(*five)});
  }
  return zones;
}

const std::vector<Zone>& zones() {
  static const std::vector<Zone> z = load_zones();
  return z;
}

// Runs fn(zone index) over the zones on two threads.
void for_each_zone(const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t z = next++; z < zones().size(); z = next++) fn(z);
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
}

// ---- 1. Forecast error ----

struct Variant {
  std::string name;
  ModelKind model;
  ForecastQuantile quantile;
  double noise_pct = -1;   ///< >= 0: not a model but the actuals plus Gaussian noise (LWA)
  size_t truth_steps = 0;  ///< > 0: the actuals for this many steps, the model beyond
};

std::vector<Variant> filtered(std::vector<Variant> all) {
  std::erase_if(all, [](const Variant& v) { return !wanted(v.name); });
  return all;
}

const std::vector<Variant>& error_variants() {
  static const std::vector<Variant> v =
      filtered({{"profile", ModelKind::kProfile, ForecastQuantile::kPoint},
                {"persistence", ModelKind::kPersistence, ForecastQuantile::kPoint},
                {"smoothing", ModelKind::kSmoothing, ForecastQuantile::kPoint},
                {"regression", ModelKind::kRegression, ForecastQuantile::kPoint},
                {"auto", ModelKind::kAuto, ForecastQuantile::kPoint}});
  return v;
}

void forecast_error_tables() {
  const auto& variants = error_variants();
  std::vector<std::vector<HorizonErrors>> errors(
      zones().size(), std::vector<HorizonErrors>(variants.size(), HorizonErrors(kErrorSteps)));
  std::vector<std::array<size_t, kModels.size()>> picks(zones().size());
  for_each_zone([&](size_t z) {
    const SlotHistory& h = zones()[z].history;
    auto rolling = HistoryForecaster::create(h, g_options).value();
    size_t first = static_cast<size_t>(min_history(ModelKind::kRegression) / h.slot);
    picks[z].fill(0);
    for (size_t o = first; o + kErrorSteps <= h.size(); ++o) {
      for (size_t v = 0; v < variants.size(); ++v) {
        auto f = rolling.forecast_at(h.slot_start(o), kHour * int64_t{kErrorSteps},
                                     {variants[v].model, false});
        if (!f) continue;
        if (variants[v].model == ModelKind::kAuto) ++picks[z][static_cast<size_t>(f->model)];
        for (const ForecastSlot& s : f->slots) {
          errors[z][v].add(s.step, s.g_per_kwh, h.g_per_kwh[o + s.step - 1]);
        }
      }
    }
  });
  const std::vector<size_t> steps = {1, 6, 12, 24, 48};
  fmt::print("## Forecast error per horizon (hourly origins from day 14, 48 h ahead)\n\n");
  fmt::print("MAE in g/kWh at horizon steps (hours), mean over the 16 zones:\n\n| model |");
  for (size_t s : steps) fmt::print(" {} h |", s);
  fmt::print(" mean 1-48 h | MAPE 1 h | MAPE 24 h | MAPE mean 1-48 h |\n|---|");
  for (size_t i = 0; i < steps.size() + 4; ++i) fmt::print("---:|");
  fmt::print("\n");
  for (size_t v = 0; v < variants.size(); ++v) {
    auto mean_over_zones = [&](auto metric) {
      double sum = 0;
      for (size_t z = 0; z < zones().size(); ++z) sum += metric(errors[z][v]);
      return sum / static_cast<double>(zones().size());
    };
    fmt::print("| {} |", variants[v].name);
    for (size_t s : steps) {
      fmt::print(" {:.1f} |", mean_over_zones([&](const HorizonErrors& e) { return e.mae(s); }));
    }
    fmt::print(
        " {:.1f} | {:.1f} | {:.1f} | {:.1f} |\n",
        mean_over_zones([](const HorizonErrors& e) { return e.mean_mae(1, kErrorSteps); }),
        mean_over_zones([](const HorizonErrors& e) { return e.mape_pct(1); }),
        mean_over_zones([](const HorizonErrors& e) { return e.mape_pct(24); }),
        mean_over_zones([](const HorizonErrors& e) { return e.mean_mape_pct(1, kErrorSteps); }));
  }
  fmt::print("\nPer zone: mean MAE over 1-48 h in g/kWh (MAPE %), and auto's picks:\n\n| zone |");
  for (const Variant& v : variants) fmt::print(" {} |", v.name);
  fmt::print(" auto picked |\n|---|");
  for (size_t i = 0; i <= variants.size(); ++i) fmt::print("---:|");
  fmt::print("\n");
  for (size_t z = 0; z < zones().size(); ++z) {
    fmt::print("| {} |", zones()[z].name);
    for (size_t v = 0; v < variants.size(); ++v) {
      fmt::print(" {:.1f} ({:.1f} %) |", errors[z][v].mean_mae(1, kErrorSteps),
                 errors[z][v].mean_mape_pct(1, kErrorSteps));
    }
    size_t total = 0;
    for (size_t n : picks[z]) total += n;
    std::string picked;
    for (size_t m = 0; m < kModels.size(); ++m) {
      if (picks[z][m] == 0) continue;
      picked += fmt::format("{}{} {:.0f} %", picked.empty() ? "" : ", ", to_string(kModels[m]),
                            100.0 * static_cast<double>(picks[z][m]) / static_cast<double>(total));
    }
    fmt::print(" {} |\n", picked);
  }
  fmt::print("\n");
}

// ---- 2. Decision quality ----

const std::vector<Variant>& decision_variants() {
  static const std::vector<Variant> v =
      filtered({{"profile", ModelKind::kProfile, ForecastQuantile::kPoint},
                {"persistence", ModelKind::kPersistence, ForecastQuantile::kPoint},
                {"smoothing", ModelKind::kSmoothing, ForecastQuantile::kPoint},
                {"regression", ModelKind::kRegression, ForecastQuantile::kPoint},
                {"auto", ModelKind::kAuto, ForecastQuantile::kPoint},
                {"auto p90", ModelKind::kAuto, ForecastQuantile::kP90},
                {"actuals+5%noise", ModelKind::kProfile, ForecastQuantile::kPoint, 5},
                {"actuals", ModelKind::kProfile, ForecastQuantile::kPoint, 0},
                {"actuals24h+profile", ModelKind::kProfile, ForecastQuantile::kPoint, -1, 24},
                {"actuals48h+profile", ModelKind::kProfile, ForecastQuantile::kPoint, -1, 48}});
  return v;
}

// Re-planned every hour on the forecast issued then, as the executor does.
const std::vector<Variant>& replan_variants() {
  static const std::vector<Variant> v =
      filtered({{"profile", ModelKind::kProfile, ForecastQuantile::kPoint},
                {"regression", ModelKind::kRegression, ForecastQuantile::kPoint},
                {"auto", ModelKind::kAuto, ForecastQuantile::kPoint},
                {"actuals", ModelKind::kProfile, ForecastQuantile::kPoint, 0}});
  return v;
}

constexpr size_t kMaxVariants = 16;
constexpr size_t kSlotsPerHour = 12;
constexpr size_t kWindowHours = 18 * 24;  // the longest job plus window: 216 h + 100 %

struct Acc {
  double oracle_pct = 0;  // reductions summed over starts
  double once_pct[kMaxVariants] = {}, replan_pct[kMaxVariants] = {};
  size_t n = 0;
};

// Forecasts issued at every hour from `first` on, kWindowHours long (NaN past the data), for
// the re-planning simulation: row o is the forecast issued at hour first + o.
struct HourlyForecasts {
  size_t first = 0;
  std::vector<float> values;
  const float* at(size_t hour) const { return &values[(hour - first) * kWindowHours]; }
};

HourlyForecasts hourly_forecasts(const SlotHistory& h, size_t first, size_t last,
                                 const Variant& v) {
  HourlyForecasts out;
  out.first = first;
  out.values.assign((last - first) * kWindowHours, NAN);
  auto rolling = HistoryForecaster::create(h, g_options).value();
  for (size_t o = first; o < last; ++o) {
    float* row = &out.values[(o - first) * kWindowHours];
    size_t hours = std::min(kWindowHours, h.size() - o);
    if (v.noise_pct == 0) {  // the truth
      for (size_t k = 0; k < hours; ++k) row[k] = static_cast<float>(h.g_per_kwh[o + k]);
      continue;
    }
    auto f =
        rolling.forecast_at(h.slot_start(o), kHour * static_cast<int64_t>(hours), {v.model, false});
    if (!f) continue;
    for (size_t k = 0; k < hours; ++k) row[k] = static_cast<float>(f->slots[k].g_per_kwh);
  }
  return out;
}

// Pause and Resume, flat profile, re-planned at every 5-minute slot on the forecast of the
// current hour: a slot runs when fewer slots of the rest of the window are strictly cheaper
// than the work left (ties go to the earliest slot, as cheapest_slots does). Returns Σ I over
// the slots run, in g/kWh, from `actual` (5-minute values from the requested start).
double replan_pause_resume(const HourlyForecasts& f, size_t start_hour, size_t k, size_t n,
                           const double* actual) {
  size_t deadline = k + n, left = k;
  double sum = 0;
  for (size_t t = 0; t < deadline && left > 0; t += kSlotsPerHour) {
    const float* row = f.at(start_hour + t / kSlotsPerHour);
    size_t here = std::min(kSlotsPerHour, deadline - t);
    size_t cheaper = 0;
    for (size_t u = t + kSlotsPerHour, hour = 1; u < deadline; u += kSlotsPerHour, ++hour) {
      if (row[hour] < row[0]) cheaper += std::min(kSlotsPerHour, deadline - u);
    }
    size_t run = left > cheaper ? std::min(here, left - cheaper) : 0;
    for (size_t i = t; i < t + run; ++i) sum += actual[i];
    left -= run;
  }
  return sum;
}

// Flexible Start re-planned at every 5-minute slot until it starts: start now when no later
// candidate start (up to the window's end) is strictly cheaper on the current hour's forecast.
double replan_flexible_start(const HourlyForecasts& f, size_t start_hour, size_t k, size_t n,
                             const double* actual) {
  std::vector<double> prefix, suffix_min;
  for (size_t hour_start = 0; hour_start <= n; hour_start += kSlotsPerHour) {
    const float* row = f.at(start_hour + hour_start / kSlotsPerHour);
    size_t end = n + k;  // slots [hour_start, end) matter
    prefix.assign(end - hour_start + 1, 0.0);
    for (size_t x = hour_start; x < end; ++x) {
      prefix[x - hour_start + 1] = prefix[x - hour_start] + row[(x - hour_start) / kSlotsPerHour];
    }
    auto cost = [&](size_t c) { return prefix[c + k - hour_start] - prefix[c - hour_start]; };
    suffix_min.assign(n - hour_start + 2, std::numeric_limits<double>::infinity());
    for (size_t c = n + 1; c-- > hour_start;) {
      suffix_min[c - hour_start] = std::min(cost(c), suffix_min[c - hour_start + 1]);
    }
    for (size_t t = hour_start; t < std::min(hour_start + kSlotsPerHour, n + 1); ++t) {
      if (t == n || cost(t) <= suffix_min[t - hour_start + 1]) {
        double sum = 0;
        for (size_t i = t; i < t + k; ++i) sum += actual[i];
        return sum;
      }
    }
  }
  return NAN;  // unreachable: t == n always starts
}

// Prints per job (mean over windows), the mean over jobs and windows, and per window.
void print_captured(const std::string& title, const std::vector<Variant>& variants,
                    const std::vector<SweepJob>& jobs, const std::vector<ShiftWindow>& windows,
                    const std::function<double(size_t, size_t, size_t)>& captured,
                    const std::function<double(size_t, size_t)>& oracle_pct) {
  fmt::print("### {}\n\n| job |", title);
  for (const Variant& v : variants) fmt::print(" {} |", v.name);
  fmt::print(" oracle reduction % |\n|---|");
  for (size_t i = 0; i <= variants.size(); ++i) fmt::print("---:|");
  fmt::print("\n");
  std::vector<double> overall(variants.size(), 0.0);
  std::vector<size_t> overall_n(variants.size(), 0);
  for (size_t j = 0; j < jobs.size(); ++j) {
    fmt::print("| {} |", jobs[j].name);
    for (size_t v = 0; v < variants.size(); ++v) {
      double sum = 0;
      size_t n = 0;
      for (size_t w = 0; w < windows.size(); ++w) {
        double c = captured(j, w, v);
        if (std::isnan(c)) continue;  // no saving to capture (e.g. 25 % of 20 min, hourly data)
        sum += c;
        ++n;
        overall[v] += c;
        overall_n[v] += 1;
      }
      fmt::print(" {:.1f} |", n ? sum / static_cast<double>(n) : NAN);
    }
    double oracle_sum = 0;
    for (size_t w = 0; w < windows.size(); ++w) oracle_sum += oracle_pct(j, w);
    fmt::print(" {:.2f} |\n", oracle_sum / static_cast<double>(windows.size()));
  }
  fmt::print("| **mean over jobs and windows** |");
  for (size_t v = 0; v < variants.size(); ++v) {
    fmt::print(" **{:.1f}** |",
               overall[v] / static_cast<double>(std::max<size_t>(overall_n[v], 1)));
  }
  fmt::print(" |\n\n| window |");
  for (const Variant& v : variants) fmt::print(" {} |", v.name);
  fmt::print("\n|---|");
  for (size_t i = 0; i < variants.size(); ++i) fmt::print("---:|");
  fmt::print("\n");
  for (size_t w = 0; w < windows.size(); ++w) {
    fmt::print("| {} |", windows[w].label);
    for (size_t v = 0; v < variants.size(); ++v) {
      double sum = 0;
      size_t n = 0;
      for (size_t j = 0; j < jobs.size(); ++j) {
        double c = captured(j, w, v);
        if (std::isnan(c)) continue;
        sum += c;
        ++n;
      }
      fmt::print(" {:.1f} |", n ? sum / static_cast<double>(n) : NAN);
    }
    fmt::print("\n");
  }
  fmt::print("\n");
}

void decision_quality_tables() {
  const auto& variants = decision_variants();
  const auto& replans = replan_variants();
  if (variants.size() > kMaxVariants || replans.size() > kMaxVariants) return;
  auto jobs = paper_jobs();
  auto windows = parse_windows(kWindows).value();
  std::vector<Acc> acc(zones().size() * jobs.size() * windows.size() * 2);
  auto at = [&](size_t z, size_t j, size_t w, size_t a) -> Acc& {
    return acc[((z * jobs.size() + j) * windows.size() + w) * 2 + a];
  };
  std::vector<size_t> starts_used(zones().size(), 0), skipped(zones().size(), 0);
  std::vector<double> inside(zones().size(), 0), covered_total(zones().size(), 0);
  for_each_zone([&](size_t z) {
    const Zone& zone = zones()[z];
    const SlotHistory& h = zone.history;
    SysTime from = h.first_slot_utc + min_history(ModelKind::kRegression);
    auto starts = g_flags.every_hours > 0
                      ? starts_every(from, h.end_utc(), kHour * g_flags.every_hours)
                      : starts_per_month(from, h.end_utc(), g_flags.starts_per_month);
    if (starts.empty()) return;
    size_t first_hour = static_cast<size_t>((starts.front() - h.first_slot_utc) / kHour);
    std::vector<HourlyForecasts> hourly;
    for (const Variant& v : replans) hourly.push_back(hourly_forecasts(h, first_hour, h.size(), v));
    auto rolling = HistoryForecaster::create(h, g_options).value();
    double mean = 0;
    size_t observed = 0;
    for (size_t i = 0; i < h.size(); ++i) {
      if (!h.observed(i)) continue;
      mean += h.g_per_kwh[i];
      ++observed;
    }
    mean /= static_cast<double>(std::max<size_t>(observed, 1));
    std::mt19937_64 rng(z + 1);
    std::vector<double> actual;
    for (SysTime s : starts) {
      Nanos horizon = std::min<Nanos>(kHour * int64_t{kWindowHours}, h.end_utc() - s);
      size_t count = static_cast<size_t>(horizon / kFive);
      size_t start_slot = *zone.five_min.index_of(s);
      size_t start_hour = static_cast<size_t>((s - h.first_slot_utc) / kHour);
      std::vector<SlottedIntensity> planning;
      for (const Variant& v : variants) {
        auto f = rolling.forecast_at(s, horizon, {v.model, true});
        if (!f) break;
        for (ForecastSlot& fs : f->slots) {
          double truth =
              h.g_per_kwh[static_cast<size_t>((fs.start_utc - h.first_slot_utc) / h.slot)];
          if (v.noise_pct >= 0) {  // the truth, with noise of noise_pct % of the mean (LWA)
            std::normal_distribution<double> noise(0, v.noise_pct / 100 * mean);
            fs.g_per_kwh = truth + (v.noise_pct > 0 ? noise(rng) : 0.0);
          } else if (fs.step <= v.truth_steps) {
            fs.g_per_kwh = truth;
          }
          if (v.model == ModelKind::kAuto && v.quantile == ForecastQuantile::kPoint &&
              !std::isnan(fs.p10_g_per_kwh) && fs.step <= kErrorSteps) {
            covered_total[z] += 1;
            inside[z] += (truth >= fs.p10_g_per_kwh && truth <= fs.p90_g_per_kwh) ? 1 : 0;
          }
        }
        planning.push_back(planning_intensity(*f, v.quantile, s, count, kFive).value());
      }
      if (planning.size() != variants.size()) {
        ++skipped[z];
        continue;
      }
      ++starts_used[z];
      actual.resize(count);
      for (size_t i = 0; i < count; ++i) actual[i] = zone.five_min.g_per_kwh(start_slot + i);
      for (size_t j = 0; j < jobs.size(); ++j) {
        auto job = flat_profile(jobs[j].name, from_seconds(jobs[j].duration_h * 3600),
                                jobs[j].energy_kwh, kFive)
                       .value();
        double e = job.energy_kwh.front();
        for (size_t w = 0; w < windows.size(); ++w) {
          size_t n = window_slots(windows[w], job.slots(), kFive);
          if (job.slots() + n > count ||
              !check_window(zone.five_min, start_slot, job.slots() + n).ok()) {
            continue;
          }
          for (size_t a = 0; a < 2; ++a) {
            Algorithm algorithm = a == 0 ? Algorithm::kFlexibleStart : Algorithm::kPauseResume;
            auto oracle = make_plan(algorithm, job, zone.five_min, start_slot, n).value();
            Acc& cell = at(z, j, w, a);
            cell.oracle_pct += oracle.reduction_pct();
            for (size_t v = 0; v < variants.size(); ++v) {
              auto out = plan_on_forecast(job, zone.five_min, oracle, planning[v]).value();
              cell.once_pct[v] += reduction_pct(out.baseline_g, out.realised_g);
            }
            for (size_t v = 0; v < replans.size(); ++v) {
              double sum =
                  a == 0
                      ? replan_flexible_start(hourly[v], start_hour, job.slots(), n, actual.data())
                      : replan_pause_resume(hourly[v], start_hour, job.slots(), n, actual.data());
              cell.replan_pct[v] += reduction_pct(oracle.baseline_g, e * sum);
            }
            ++cell.n;
          }
        }
      }
    }
  });
  // captured = 100 × mean realised reduction / mean oracle reduction, means over each zone's
  // starts, then over zones.
  auto mean_over_zones = [&](size_t j, size_t w, size_t a, auto field) {
    double sum = 0;
    size_t nz = 0;
    for (size_t z = 0; z < zones().size(); ++z) {
      const Acc& c = at(z, j, w, a);
      if (c.n == 0) continue;
      sum += field(c) / static_cast<double>(c.n);
      ++nz;
    }
    return nz ? sum / static_cast<double>(nz) : NAN;
  };
  size_t used = 0, skip = 0;
  for (size_t z = 0; z < zones().size(); ++z) {
    used += starts_used[z];
    skip += skipped[z];
  }
  fmt::print("## Decision quality: share of the oracle saving captured (%)\n\n");
  fmt::print(
      "{} zone-years, {} requested starts ({} skipped: no forecast), the paper's 11 jobs × 8 "
      "windows. captured = 100 × mean realised reduction / mean oracle reduction (means over "
      "each zone's starts, then over zones); pairs without any oracle saving are left out.\n\n",
      zones().size(), used, skip);
  for (size_t a = 0; a < 2; ++a) {
    std::string algorithm = a == 0 ? "Flexible Start" : "Pause and Resume";
    auto oracle = [&](size_t j, size_t w) {
      return mean_over_zones(j, w, a, [](const Acc& c) { return c.oracle_pct; });
    };
    print_captured(
        algorithm + ", one plan at the requested start (shifting/plan.h on the forecast)", variants,
        jobs, windows,
        [&](size_t j, size_t w, size_t v) {
          double o = oracle(j, w);
          return o != 0
                     ? 100.0 *
                           mean_over_zones(j, w, a, [v](const Acc& c) { return c.once_pct[v]; }) / o
                     : NAN;
        },
        oracle);
    print_captured(
        algorithm + ", re-planned every 5 minutes on the forecast issued each hour", replans, jobs,
        windows,
        [&](size_t j, size_t w, size_t v) {
          double o = oracle(j, w);
          return o != 0
                     ? 100.0 *
                           mean_over_zones(j, w, a, [v](const Acc& c) { return c.replan_pct[v]; }) /
                           o
                     : NAN;
        },
        oracle);
  }
  double in = 0, total = 0;
  for (size_t z = 0; z < zones().size(); ++z) {
    in += inside[z];
    total += covered_total[z];
  }
  fmt::print(
      "Interval coverage (auto, steps 1-48 at the requested starts): {:.1f} % of actuals inside "
      "p10-p90 (nominal 80 %).\n\n",
      total > 0 ? 100.0 * in / total : NAN);
}

// ---- Speed ----

double g_rolling_us_per_forecast = 0;

// Arg 1: with intervals (what the speed-up below compares), 0: point forecasts only.
void BM_RollingForecastEveryHour(benchmark::State& state) {
  bool intervals = state.range(0) != 0;
  size_t forecasts = 0;
  for (auto _ : state) {
    forecasts = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (const Zone& zone : zones()) {
      auto rolling = HistoryForecaster::create(zone.history, g_options).value();
      for (size_t o = 24; o + kErrorSteps <= zone.history.size(); ++o) {
        auto f = rolling.forecast_at(zone.history.slot_start(o), kHour * int64_t{kErrorSteps},
                                     {ModelKind::kAuto, intervals});
        benchmark::DoNotOptimize(f);
        ++forecasts;
      }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double per = 1e6 * seconds / static_cast<double>(forecasts);
    if (intervals) g_rolling_us_per_forecast = per;
    state.counters["seconds"] = seconds;
    state.counters["us_per_forecast"] = per;
  }
  state.counters["forecasts"] = static_cast<double>(forecasts);
}
BENCHMARK(BM_RollingForecastEveryHour)
    ->Arg(1)
    ->Arg(0)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

// The baseline: a fresh fit on all history before each start (what a forecaster without rolling
// updates costs), at 12 starts spread over one zone-year, scaled per forecast.
void BM_RefitFromScratchPerStart(benchmark::State& state) {
  const SlotHistory& h = zones().front().history;
  constexpr size_t kSubset = 12;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < kSubset; ++i) {
      size_t o = 24 + (i + 1) * (h.size() - 24 - kErrorSteps) / (kSubset + 1);
      SysTime t = h.slot_start(o);
      auto f = Forecaster::fit(h, t, g_options).value().forecast(t, kHour * int64_t{kErrorSteps});
      benchmark::DoNotOptimize(f);
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double per = 1e6 * seconds / kSubset;
    state.counters["us_per_forecast"] = per;
    if (g_rolling_us_per_forecast > 0) {
      state.counters["rolling_speedup"] = per / g_rolling_us_per_forecast;
    }
  }
}
BENCHMARK(BM_RefitFromScratchPerStart)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace carbonclock

int main(int argc, char** argv) {
  using carbonclock::g_flags;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--starts-per-month" && i + 1 < argc) {
      g_flags.starts_per_month = std::atoi(argv[++i]);
    } else if (a == "--every-hours" && i + 1 < argc) {
      g_flags.every_hours = std::atoi(argv[++i]);
    } else if (a == "--zones" && i + 1 < argc) {
      g_flags.zones = static_cast<size_t>(std::atoi(argv[++i]));
    } else if (a == "--options" && i + 1 < argc) {
      if (!carbonclock::parse_options(argv[++i], carbonclock::g_options)) {
        fmt::print(stderr, "forecast_bench: bad --options '{}'\n", argv[i]);
        return 2;
      }
    } else if (a == "--variants" && i + 1 < argc) {
      std::string list = argv[++i];
      for (size_t p = 0; p <= list.size();) {
        size_t c = list.find(',', p);
        if (c == std::string::npos) c = list.size();
        carbonclock::g_variants.push_back(list.substr(p, c - p));
        p = c + 1;
      }
    } else if (a == "--quality-only") {
      g_flags.speed = false;
    } else if (a == "--decisions-only") {
      g_flags.speed = g_flags.errors = false;
    } else if (a == "--speed-only") {
      g_flags.errors = g_flags.decisions = false;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (carbonclock::zones().empty()) {
    fmt::print(stderr, "forecast_bench: no zone-years under {}/electricitymaps_hourly\n",
               CARBONCLOCK_SHARED_DATA);
    return 1;
  }
  if (g_flags.errors) carbonclock::forecast_error_tables();
  if (g_flags.decisions) carbonclock::decision_quality_tables();
  if (g_flags.speed) {
    int n = static_cast<int>(rest.size());
    benchmark::Initialize(&n, rest.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
  }
  return 0;
}

// carbonclock's own forecasts on the 16 Electricity Maps zone-years in ../shared/data: quality and
// speed, in one run.
//
// Quality (printed as Markdown before the timings):
//  1. Forecast error: every model forecasts 48 h ahead at every hour from the day each zone has
//     two weeks of history (min_history of the adaptive models); MAE and MAPE per horizon step.
//  2. Decision quality (a prototype of the back-test of issue 14): at the sweep's requested
//     starts (--starts-per-month 5 by default, from two weeks into each zone-year), the paper's 11
//     jobs × 8 windows choose their slots with Flexible Start and Pause and Resume (one plan at
//     the requested start, shifting/plan.h) on each model's forecast, and are priced on the
//     actuals. captured = 100 × realised mean reduction / oracle mean reduction, means over each
//     zone's starts, then over zones, as `sweep` averages.
//  3. Interval coverage: the share of actuals inside the served model's p10–p90 band.
// Speed (Google Benchmark): rolling forecasts at every hourly start of all 16 zone-years (48 h,
// auto, with intervals) against fitting from scratch at each start, scaled from a subset.
//
// Flags before the Google Benchmark ones: --starts-per-month K | --every-hours H, --zones N
// (first N files), --quality-only, --decisions-only, --speed-only.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
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
ForecasterOptions g_options;          // EXPERIMENT
std::vector<std::string> g_variants;  // empty: all

ForecasterOptions experiment_options() {  // EXPERIMENT: CC_EXP="hl=21,ridge=0.02,..."
  ForecasterOptions o;
  const char* env = std::getenv("CC_EXP");
  if (!env) return o;
  std::string text = env;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq);
    double v = std::strtod(item.c_str() + eq + 1, nullptr);
    if (key == "hl") o.regression.half_life_days = v;
    if (key == "ridge") o.regression.ridge = v;
    if (key == "prior") o.regression.prior_samples = v;
    if (key == "weeks") o.profile_weeks = static_cast<size_t>(v);
    if (key == "alpha") o.smoothing.alpha = v;
    if (key == "beta") o.smoothing.beta = v;
    if (key == "phi") o.smoothing.phi = v;
    if (key == "gd") o.smoothing.gamma_day = v;
    if (key == "gw") o.smoothing.gamma_week = v;
    if (key == "psi") o.smoothing.psi = v;
    if (key == "win") o.error_window = std::chrono::days(static_cast<int>(v));
    if (key == "hz") o.model_horizon = std::chrono::hours(static_cast<int>(v));
    pos = comma + 1;
  }
  return o;
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
                {"actuals + 5 % noise", ModelKind::kAuto, ForecastQuantile::kPoint, 5},
                {"actuals (check)", ModelKind::kAuto, ForecastQuantile::kPoint, 0},
                {"truth24+profile", ModelKind::kProfile, ForecastQuantile::kPoint, -1, 24},
                {"truth48+profile", ModelKind::kProfile, ForecastQuantile::kPoint, -1, 48},
                {"truth24+regression", ModelKind::kRegression, ForecastQuantile::kPoint, -1, 24}});
  return v;
}

struct Acc {
  double oracle_pct = 0, realised_pct[16] = {};  // reductions summed over starts, per variant
  size_t n = 0;
};

void decision_quality_tables() {
  const auto& variants = decision_variants();
  auto jobs = paper_jobs();
  auto windows = parse_windows(kWindows).value();
  // acc[zone][job][window][algorithm]
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
    for (SysTime s : starts) {
      Nanos horizon = std::min<Nanos>(std::chrono::days(18), h.end_utc() - s);
      size_t count = static_cast<size_t>(horizon / kFive);
      size_t start_slot = *zone.five_min.index_of(s);
      std::vector<SlottedIntensity> planning;
      for (const Variant& v : variants) {
        auto f = rolling.forecast_at(s, horizon, {v.model, true});
        if (!f) break;
        if (v.noise_pct >= 0) {  // the truth, perhaps with noise of noise_pct % of the mean
          std::normal_distribution<double> noise(0, v.noise_pct / 100 * mean);
          for (ForecastSlot& fs : f->slots) {
            size_t i = static_cast<size_t>((fs.start_utc - h.first_slot_utc) / h.slot);
            fs.g_per_kwh = h.g_per_kwh[i] + (v.noise_pct > 0 ? noise(rng) : 0.0);
          }
        }
        for (ForecastSlot& fs : f->slots) {
          if (fs.step > v.truth_steps) break;
          fs.g_per_kwh =
              h.g_per_kwh[static_cast<size_t>((fs.start_utc - h.first_slot_utc) / h.slot)];
        }
        if (v.model == ModelKind::kAuto && v.quantile == ForecastQuantile::kPoint) {
          for (const ForecastSlot& fs : f->slots) {
            size_t i = static_cast<size_t>((fs.start_utc - h.first_slot_utc) / h.slot);
            if (std::isnan(fs.p10_g_per_kwh) || fs.step > kErrorSteps) continue;
            covered_total[z] += 1;
            double y = h.g_per_kwh[i];
            inside[z] += (y >= fs.p10_g_per_kwh && y <= fs.p90_g_per_kwh) ? 1 : 0;
          }
        }
        planning.push_back(planning_intensity(*f, v.quantile, s, count, kFive).value());
      }
      if (planning.size() != variants.size()) {
        ++skipped[z];
        continue;
      }
      ++starts_used[z];
      for (size_t j = 0; j < jobs.size(); ++j) {
        auto job = flat_profile(jobs[j].name, from_seconds(jobs[j].duration_h * 3600),
                                jobs[j].energy_kwh, kFive)
                       .value();
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
              cell.realised_pct[v] += reduction_pct(out.baseline_g, out.realised_g);
            }
            ++cell.n;
          }
        }
      }
    }
  });
  // captured(j, w, a, v) = 100 × mean_z(mean realised) / mean_z(mean oracle).
  auto means = [&](size_t j, size_t w, size_t a, size_t v, double& realised, double& oracle) {
    realised = oracle = 0;
    size_t nz = 0;
    for (size_t z = 0; z < zones().size(); ++z) {
      const Acc& c = at(z, j, w, a);
      if (c.n == 0) continue;
      realised += c.realised_pct[v] / static_cast<double>(c.n);
      oracle += c.oracle_pct / static_cast<double>(c.n);
      ++nz;
    }
    realised /= static_cast<double>(std::max<size_t>(nz, 1));
    oracle /= static_cast<double>(std::max<size_t>(nz, 1));
  };
  auto captured = [&](size_t j, size_t w, size_t a, size_t v) {
    double realised = 0, oracle = 0;
    means(j, w, a, v, realised, oracle);
    return oracle != 0 ? 100.0 * realised / oracle : NAN;
  };
  size_t used = 0, skip = 0;
  for (size_t z = 0; z < zones().size(); ++z) {
    used += starts_used[z];
    skip += skipped[z];
  }
  fmt::print("## Decision quality: share of the oracle saving captured (%)\n\n");
  fmt::print(
      "{} zone-years, {} requested starts ({} skipped: no forecast), the paper's 11 jobs × "
      "8 windows; one plan at the requested start on the forecast, priced on actuals.\n\n",
      zones().size(), used, skip);
  for (size_t a = 0; a < 2; ++a) {
    fmt::print("### {}: captured % per job (mean over the 8 windows)\n\n| job |",
               a == 0 ? "Flexible Start" : "Pause and Resume");
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
          double c = captured(j, w, a, v);
          if (std::isnan(c)) continue;  // no saving to capture (e.g. 25 % of 20 min, hourly data)
          sum += c;
          ++n;
          overall[v] += c;
          overall_n[v] += 1;
        }
        fmt::print(" {:.1f} |", n ? sum / static_cast<double>(n) : NAN);
      }
      double oracle_sum = 0;
      for (size_t w = 0; w < windows.size(); ++w) {
        double realised = 0, oracle = 0;
        means(j, w, a, 0, realised, oracle);
        oracle_sum += oracle;
      }
      fmt::print(" {:.2f} |\n", oracle_sum / static_cast<double>(windows.size()));
    }
    fmt::print("| **mean over jobs and windows** |");
    for (size_t v = 0; v < variants.size(); ++v) {
      fmt::print(" **{:.1f}** |",
                 overall[v] / static_cast<double>(std::max<size_t>(overall_n[v], 1)));
    }
    fmt::print(" |\n\n");
    fmt::print("Per window (mean over jobs):\n\n| window |");
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
          double c = captured(j, w, a, v);
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
  double in = 0, total = 0;
  for (size_t z = 0; z < zones().size(); ++z) {
    in += inside[z];
    total += covered_total[z];
  }
  fmt::print(
      "Interval coverage (auto, steps 1-48 at the requested starts): {:.1f} % of actuals "
      "inside p10-p90 (nominal 80 %).\n\n",
      total > 0 ? 100.0 * in / total : NAN);
}

// ---- Speed ----

double g_rolling_us_per_forecast = 0;

void BM_RollingForecastEveryHour(benchmark::State& state) {
  size_t forecasts = 0;
  for (auto _ : state) {
    forecasts = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (const Zone& zone : zones()) {
      auto rolling = HistoryForecaster::create(zone.history, g_options).value();
      for (size_t o = 24; o + kErrorSteps <= zone.history.size(); ++o) {
        auto f = rolling.forecast_at(zone.history.slot_start(o), kHour * int64_t{kErrorSteps});
        benchmark::DoNotOptimize(f);
        ++forecasts;
      }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    g_rolling_us_per_forecast = 1e6 * seconds / static_cast<double>(forecasts);
    state.counters["seconds"] = seconds;
  }
  state.counters["forecasts"] = static_cast<double>(forecasts);
  state.counters["us_per_forecast"] = g_rolling_us_per_forecast;
}
BENCHMARK(BM_RollingForecastEveryHour)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

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
      auto f = Forecaster::fit(h, t).value().forecast(t, kHour * int64_t{kErrorSteps});
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
  carbonclock::g_options = carbonclock::experiment_options();
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

// The paper's full evaluation grid, timed: 16 zones of one year of hourly data upsampled to
// 5-minute slots × the 11 jobs of Table 2 × 8 windows × a requested start at every hour of the
// year, both algorithms, by the fast path (run_sweep); and the brute-force reference (every
// candidate start for Flexible Start, a fresh sort per start for Pause and Resume) on a subset
// of starts, scaled to the full grid, in the same run. Zones come from
// ../shared/data/electricitymaps_hourly/*.csv when present, else from a deterministic
// synthetic series.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>

#include "grid/importers.h"
#include "shifting/brute_force.h"
#include "shifting/flat_sweep.h"
#include "shifting/sweep.h"

namespace carbonclock {
namespace {

constexpr size_t kZones = 16;
constexpr size_t kHours = 8760;
const char* kWindows = "6h,12h,18h,24h,25%,50%,75%,100%";

std::vector<SweepZone> load_zones() {
  std::vector<SweepZone> zones;
  std::filesystem::path dir =
      std::filesystem::path(CARBONCLOCK_SHARED_DATA) / "electricitymaps_hourly";
  std::vector<std::filesystem::path> files;
  if (std::filesystem::exists(dir)) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (zones.size() == kZones) break;
    ImportOptions options;
    options.factor = Factor::kLifecycle;
    auto series = read_series_file(f, options);
    if (!series || series->empty()) continue;
    auto in = slot_series(series->front(), std::chrono::minutes(5));
    if (!in) continue;
    zones.push_back({std::move(*in), {}});
  }
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 25);
  while (zones.size() < kZones) {  // synthetic: a daily cycle plus noise
    std::vector<double> hourly(kHours);
    for (size_t h = 0; h < kHours; ++h) {
      hourly[h] =
          std::max(0.0, 400 + 150 * std::sin(2 * M_PI * static_cast<double>(h) / 24) + noise(rng));
    }
    auto series = series_from_values("SYN" + std::to_string(zones.size()),
                                     SysTime{std::chrono::hours(24 * 18262)},  // 2020-01-01
                                     std::chrono::hours(1), hourly);
    zones.push_back({slot_series(series, std::chrono::minutes(5)).value(), {}});
  }
  for (SweepZone& z : zones) {
    for (size_t h = 0; h < kHours; ++h) {
      z.starts.push_back(z.intensity.first_slot_utc + std::chrono::hours(h));
    }
  }
  return zones;
}

const std::vector<SweepZone>& zones() {
  static const std::vector<SweepZone> z = load_zones();
  return z;
}

double g_fast_seconds = 0;

void BM_FastSweepFullGrid(benchmark::State& state) {
  const auto& z = zones();
  auto jobs = paper_jobs();
  auto windows = parse_windows(kWindows).value();
  SweepOptions options;
  options.threads = static_cast<unsigned>(state.range(0));
  size_t rows = 0;
  for (auto _ : state) {
    rows = 0;
    auto t0 = std::chrono::steady_clock::now();
    Status s = run_sweep(jobs, z, windows, options, [&](SweepCell&& cell) {
      for (const auto& w : cell.windows) {
        for (StartStatus st : w.status) rows += st == StartStatus::kOk ? 2 : 0;
      }
    });
    if (!s) state.SkipWithError(s.error().message().c_str());
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (options.threads == 2) g_fast_seconds = seconds;
    state.counters["seconds"] = seconds;
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["zones"] = static_cast<double>(z.size());
}
BENCHMARK(BM_FastSweepFullGrid)
    ->Arg(2)
    ->Arg(1)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

// Brute force on every job and window in one zone at kSubset starts spread over the year, each
// checked against the fast path; the time is scaled by (zones × 8,760) / kSubset.
void BM_BruteForceScaledToFullGrid(benchmark::State& state) {
  constexpr size_t kSubset = 24;
  const SweepZone& full = zones().front();
  SweepZone zone{full.intensity, {}};
  for (size_t i = 0; i < kSubset; ++i) zone.starts.push_back(full.starts[i * (kHours / kSubset)]);
  auto jobs = paper_jobs();
  auto windows = parse_windows(kWindows).value();
  FlatSweepIndex index(zone.intensity);
  FlatSweepWorkspace ws;
  const auto& ug = zone.intensity.ug_per_kwh;
  double checksum = 0;
  size_t mismatches = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    for (const SweepJob& job : jobs) {
      size_t k = job_slots(from_seconds(job.duration_h * 3600), zone.intensity.slot);
      std::vector<double> energy(k, job.energy_kwh / static_cast<double>(k));
      for (const ShiftWindow& w : windows) {
        size_t n = window_slots(w, k, zone.intensity.slot);
        for (SysTime t : zone.starts) {
          size_t s = *zone.intensity.index_of(t);
          if (!zone.intensity.window_covered(s, s + k + n)) continue;
          auto fs = brute::flexible_start(energy, ug, s, n);
          auto pr = brute::pause_resume_flat_sort(energy, ug, s, n);
          checksum += fs.emissions_g + pr.emissions_g + static_cast<double>(pr.pauses);
        }
      }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double scaled = seconds * static_cast<double>(kZones * kHours) / kSubset;
    state.counters["subset_seconds"] = seconds;
    state.counters["scaled_full_grid_seconds"] = scaled;
    if (g_fast_seconds > 0) state.counters["speedup_vs_fast_2_threads"] = scaled / g_fast_seconds;
  }
  // Outside the timing: the fast path gives the same numbers on this subset.
  for (const SweepJob& job : jobs) {
    SweepCell cell = sweep_cell(job, zone, index, windows, zone.intensity.slot, ws);
    std::vector<double> energy(cell.job_slots, cell.energy_kwh_per_slot);
    for (const auto& w : cell.windows) {
      for (size_t q = 0; q < zone.starts.size(); ++q) {
        if (w.status[q] != StartStatus::kOk) continue;
        size_t s = *zone.intensity.index_of(zone.starts[q]);
        auto fs = brute::flexible_start(energy, ug, s, w.window_slots);
        auto pr = brute::pause_resume_flat_sort(energy, ug, s, w.window_slots);
        if (std::abs(fs.emissions_g - w.fs_g[q]) > 1e-9 * fs.emissions_g ||
            std::abs(pr.emissions_g - w.pr_g[q]) > 1e-9 * pr.emissions_g ||
            static_cast<int32_t>(pr.pauses) != w.pr_pauses[q]) {
          ++mismatches;
        }
      }
    }
  }
  if (mismatches) state.SkipWithError("fast path and brute force disagree");
  benchmark::DoNotOptimize(checksum);
}
BENCHMARK(BM_BruteForceScaledToFullGrid)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace carbonclock

BENCHMARK_MAIN();

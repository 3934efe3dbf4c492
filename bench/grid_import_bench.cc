// Grid store speed: import one year of 5-minute data for 16 zones (~1.7 M points) and read one
// zone-year back. Targets on the 2-core dev machine: import <= 2 s, read <= 50 ms. Each
// benchmark also reports its time as a ratio to baselines measured in the same run:
//   parse_only   — parse_generic_csv over the same CSV bytes, storing nothing;
//   sqlite_loop  — a plain prepared INSERT loop of the same rows into a rowid table, one
//                  transaction (what "just use SQLite" costs).
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "grid/importers.h"
#include "grid/store.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;
constexpr int kZones = 16;
constexpr int kPointsPerZone = 366 * 24 * 12;  // 2020, a leap year, at 5 minutes

const std::vector<std::string>& zone_csvs() {
  static const std::vector<std::string> csvs = [] {
    std::vector<std::string> out;
    auto start = parse_utc("2020-01-01T00:00Z").value();
    for (int z = 0; z < kZones; ++z) {
      std::string text = "Time,Carbon Intensity\n";
      text.reserve(static_cast<size_t>(kPointsPerZone) * 32);
      uint32_t seed = 12345u + static_cast<uint32_t>(z);
      for (int i = 0; i < kPointsPerZone; ++i) {
        seed = seed * 1664525u + 1013904223u;
        double v = 100 + z * 20 + (seed >> 16) % 4000 / 10.0;
        text += fmt::format("{},{}\n", format_utc(start + i * std::chrono::minutes(5)), v);
      }
      out.push_back(std::move(text));
    }
    return out;
  }();
  return csvs;
}

std::vector<IntensitySeries> parse_all() {
  std::vector<IntensitySeries> all;
  for (int z = 0; z < kZones; ++z) {
    ImportOptions o;
    o.format = ImportFormat::kGenericCsv;
    o.zone = fmt::format("Z{:02d}", z);
    auto r = parse_generic_csv(zone_csvs()[static_cast<size_t>(z)], "bench.csv", o);
    if (!r) throw std::runtime_error(r.error().message());
    all.push_back(std::move((*r)[0]));
  }
  return all;
}

fs::path fresh_dir() {
  std::string tmpl = (fs::temp_directory_path() / "cc-bench-XXXXXX").string();
  return fs::path(::mkdtemp(tmpl.data()));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Baseline: the plain-SQLite insert loop, rowid table, one transaction.
double sqlite_loop_once(const std::vector<IntensitySeries>& all) {
  fs::path dir = fresh_dir();
  sqlite3* db = nullptr;
  sqlite3_open((dir / "plain.db").c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE p (series "
               "INTEGER, start_s INTEGER, duration_s INTEGER, v REAL, est INTEGER)",
               nullptr, nullptr, nullptr);
  auto t0 = std::chrono::steady_clock::now();
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO p VALUES (?, ?, ?, ?, ?)", -1, &st, nullptr);
  for (size_t z = 0; z < all.size(); ++z) {
    for (const auto& p : all[z].points) {
      sqlite3_bind_int64(st, 1, static_cast<int64_t>(z));
      sqlite3_bind_int64(st, 2, std::chrono::floor<Seconds>(p.start).time_since_epoch().count());
      sqlite3_bind_int64(st, 3, std::chrono::floor<Seconds>(p.duration).count());
      sqlite3_bind_double(st, 4, p.g_per_kwh);
      sqlite3_bind_int(st, 5, p.estimated);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
  }
  sqlite3_finalize(st);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  double s = seconds_since(t0);
  sqlite3_close(db);
  fs::remove_all(dir);
  return s;
}

struct Baselines {
  double parse_s = 0;
  double sqlite_loop_s = 0;
};

const Baselines& baselines() {
  static const Baselines b = [] {
    Baselines out;
    zone_csvs();
    auto t0 = std::chrono::steady_clock::now();
    auto all = parse_all();
    out.parse_s = seconds_since(t0);
    out.sqlite_loop_s = sqlite_loop_once(all);
    return out;
  }();
  return b;
}

void report(benchmark::State& state, double total_s, int64_t points) {
  const Baselines& b = baselines();
  double per_iter_s = total_s / static_cast<double>(state.iterations());
  state.counters["points"] = static_cast<double>(points);
  state.counters["ms_per_iter"] = per_iter_s * 1e3;
  state.counters["ratio_vs_parse"] = per_iter_s / b.parse_s;
  state.counters["ratio_vs_sqlite_loop"] = per_iter_s / b.sqlite_loop_s;
  state.counters["baseline_parse_ms"] = b.parse_s * 1e3;
  state.counters["baseline_sqlite_loop_ms"] = b.sqlite_loop_s * 1e3;
}

// Parsing alone (the parse_only baseline, measured as a benchmark of its own).
void BM_GridParse16ZoneYears(benchmark::State& state) {
  zone_csvs();
  double total_s = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    auto all = parse_all();
    total_s += seconds_since(t0);
    benchmark::DoNotOptimize(all.data());
  }
  report(state, total_s, int64_t{kZones} * kPointsPerZone);
}

// The real import: parse the CSV bytes and store them in a fresh database.
void BM_GridImport16ZoneYears(benchmark::State& state) {
  zone_csvs();
  double total_s = 0;
  for (auto _ : state) {
    fs::path dir = fresh_dir();
    auto t0 = std::chrono::steady_clock::now();
    auto all = parse_all();
    auto store = GridStore::open(dir / "cc.db");
    auto r = store->import(all, "bench");
    if (!r) state.SkipWithError(r.error().message().c_str());
    total_s += seconds_since(t0);
    fs::remove_all(dir);
  }
  report(state, total_s, int64_t{kZones} * kPointsPerZone);
}

// Read one zone-year back from a store holding all 16 zones.
void BM_GridReadZoneYear(benchmark::State& state) {
  static fs::path dir = fresh_dir();
  static bool filled = false;
  if (!filled) {
    auto store = GridStore::open(dir / "cc.db");
    auto r = store->import(parse_all(), "bench");
    if (!r) state.SkipWithError(r.error().message().c_str());
    filled = true;
  }
  auto store = GridStore::open(dir / "cc.db");
  auto from = parse_utc("2020-01-01T00:00Z").value();
  auto to = parse_utc("2021-01-01T00:00Z").value();
  double total_s = 0;
  size_t n = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    auto s = store->read({"Z07", Signal::kAverage, Factor::kLifecycle}, from, to);
    total_s += seconds_since(t0);
    n = s->points.size();
    benchmark::DoNotOptimize(s->points.data());
  }
  if (n != static_cast<size_t>(kPointsPerZone)) state.SkipWithError("wrong point count");
  report(state, total_s, static_cast<int64_t>(n));
}

BENCHMARK(BM_GridParse16ZoneYears)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_GridImport16ZoneYears)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_GridReadZoneYear)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace
}  // namespace carbonclock

BENCHMARK_MAIN();

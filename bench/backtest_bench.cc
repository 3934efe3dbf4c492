// The back-test against the oracle `sweep` (issue 14's speed target): the paper's grid (the 16
// Electricity Maps zone-years of ../shared/data/electricitymaps_hourly, the 11 jobs of Table 2,
// the 8 windows, `sweep`'s default requested starts, --starts-per-month 5, on 5-minute slots)
// through the same use cases the commands run, in the same run, interleaved, medians:
//   baseline:    `carbonclock sweep` (prepare_sweep + run_sweep_streaming, both algorithms);
//   carbonclock: `carbonclock backtest --forecast auto --algorithms flexible-start`
//                (run_backtest_request: the sweep's baseline and oracle, the rolling forecasts,
//                decide() at every start).
// The zone-years share two zone ids twice (DE-LU 2022/2024, US-CAL-CISO 2022/2023), so they are
// imported into two stores (as the commands would be run), each store timed as one run; a
// repetition is both stores. Wall and CPU seconds (every thread).
//
//   backtest_bench [--reps N] [--zones N] [--starts-per-month K | --every STEP]
//                  [--forecast F] [--algorithms A]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "app/backtest.h"
#include "app/sweep.h"
#include "common/clock.h"
#include "compare.h"
#include "grid/importers.h"
#include "grid/store.h"
#include "shifting/sweep.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;

struct Flags {
  int reps = 3;
  size_t zones = 16;
  int starts_per_month = 5;
  std::string every;
  std::string forecast = "auto";
  std::string algorithms = "flexible-start";
};

/// A store and the zone ids stored in it.
struct Store {
  fs::path db;
  std::vector<std::string> zones;
};

class CountingSink final : public SweepSink {
 public:
  Status consume(const SweepBlock& block, std::string_view) override {
    rows += block.results.size();
    return {};
  }
  size_t rows = 0;
};

int run(const Flags& flags) {
  const fs::path dir = fs::path(CARBONCLOCK_SHARED_DATA) / "electricitymaps_hourly";
  std::vector<fs::path> files;
  if (fs::is_directory(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".csv") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    fmt::print("no data in {}: nothing to measure\n", dir.string());
    return 1;
  }
  if (files.size() > flags.zones) files.resize(flags.zones);
  const fs::path tmp = fs::temp_directory_path() / fmt::format("cc_backtest_bench_{}", ::getpid());
  fs::create_directories(tmp);
  // A zone id seen twice goes into the next store.
  std::vector<Store> stores;
  for (const fs::path& file : files) {
    auto series = read_series_file(file, {});
    if (!series) {
      fmt::print("{}\n", series.error().message());
      return 1;
    }
    const std::string zone = series->front().zone;
    size_t s = 0;
    while (s < stores.size() && std::find(stores[s].zones.begin(), stores[s].zones.end(), zone) !=
                                    stores[s].zones.end()) {
      ++s;
    }
    if (s == stores.size()) stores.push_back({tmp / fmt::format("store{}.db", s), {}});
    auto store = GridStore::open(stores[s].db);
    if (!store || !store->import(*series, file.filename().string())) {
      fmt::print("cannot import {}\n", file.string());
      return 1;
    }
    stores[s].zones.push_back(zone);
  }
  ManualClock clock(parse_utc("2026-01-01T00:00:00Z").value());
  Observer quiet;
  AppContext ctx{clock, nullptr, [](const char*) { return std::optional<std::string>(); }, quiet};
  auto grid = [&](const Store& s) {
    SweepRequest r;
    r.zones.clear();
    for (const std::string& z : s.zones) r.zones += (r.zones.empty() ? "" : ",") + z;
    r.db = s.db.string();
    if (flags.every.empty()) {
      r.starts_per_month = flags.starts_per_month;
    } else {
      r.every = flags.every;
    }
    return r;
  };
  size_t sweep_rows = 0, backtest_rows = 0;
  double captured = 0;
  auto sweep = [&] {
    sweep_rows = 0;
    for (const Store& s : stores) {
      auto inputs = prepare_sweep(grid(s), ctx);
      if (!inputs) std::abort();
      CountingSink sink;
      if (!run_sweep_streaming(*inputs, kDefaultSlot, SweepOrder::kZoneMajor, ctx, sink)) {
        std::abort();
      }
      sweep_rows += sink.rows;
    }
  };
  auto backtest = [&] {
    backtest_rows = 0;
    captured = 0;
    for (const Store& s : stores) {
      BacktestRequest r;
      r.grid = grid(s);
      r.forecast = flags.forecast;
      r.algorithms = flags.algorithms;
      auto result = run_backtest_request(
          r, ctx, [&](const BacktestRun&, std::vector<BacktestRow>&& rows) -> Status {
            backtest_rows += rows.size();
            return {};
          });
      if (!result) {
        fmt::print("{}\n", result.error().message());
        std::abort();
      }
      const size_t a = flags.algorithms == "pause-resume" ? 1 : 0;
      captured += result->summary.mean_captured_pct(static_cast<size_t>(-1), a) *
                  static_cast<double>(s.zones.size());
    }
    captured /= static_cast<double>(files.size());
  };
  bench::Paired p = bench::interleave(flags.reps, sweep, backtest);
  fs::remove_all(tmp);
  bench::Table t(fmt::format("backtest --forecast {} --algorithms {} against the oracle sweep",
                             flags.forecast, flags.algorithms),
                 "sweep (oracle, both algorithms)", "sweep");
  t.row("wall s", p.median_wall_baseline(), p.median_wall_carbonclock());
  t.row("CPU s (all threads)", p.median_cpu_baseline(), p.median_cpu_carbonclock());
  t.row_ratio("CPU s, paired median ratio", p.median_cpu_baseline(), p.median_cpu_carbonclock(),
              p.median_cpu_ratio());
  t.note(fmt::format(
      "{} zone-years in {} stores, {}, the paper's 11 jobs × 8 windows, 5-minute slots; {} reps "
      "interleaved, medians. Rows: sweep {}, backtest {}. Mean captured share (zone-weighted "
      "over stores): {:.1f} %",
      files.size(), stores.size(),
      flags.every.empty() ? fmt::format("--starts-per-month {}", flags.starts_per_month)
                          : "--every " + flags.every,
      flags.reps, sweep_rows, backtest_rows, captured));
  t.print();
  return 0;
}

}  // namespace
}  // namespace carbonclock

int main(int argc, char** argv) {
  carbonclock::Flags flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--reps") {
      flags.reps = std::atoi(v.c_str());
    } else if (k == "--zones") {
      flags.zones = static_cast<size_t>(std::atoi(v.c_str()));
    } else if (k == "--starts-per-month") {
      flags.starts_per_month = std::atoi(v.c_str());
    } else if (k == "--every") {
      flags.every = v;
    } else if (k == "--forecast") {
      flags.forecast = v;
    } else if (k == "--algorithms") {
      flags.algorithms = v;
    } else {
      fmt::print(stderr, "unknown option {}\n", k);
      return 2;
    }
  }
  return carbonclock::run(flags);
}

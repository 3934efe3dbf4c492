// The sweep benchmark: the paper's full evaluation grid (16 zone-years of Electricity Maps
// hourly data on 5-minute slots × the 11 jobs of Table 2 × 8 windows × a requested start every
// hour, both algorithms) by carbonclock (run_sweep_blocks) against a plain independent
// implementation of the same definitions (bench/plain_sweep.*, no pause counts), in the same
// run, interleaved, medians of CPU seconds; with the streaming floor, Flexible Start alone and
// brute force as further references; thread scaling; starts every 5 minutes against every
// hour; sparse starts; peak RSS of whole runs (child processes); CSV rows per second. Each
// benchmark prints one Markdown table: baseline, carbonclock, ratio. Zones come from
// ../shared/data/electricitymaps_hourly/*.csv (synthetic daily cycles fill up to 16 when the
// data is absent, and the output says so).
//
//   shifting_bench [--reps N] [--quick] [--only grid,threads,stride,sparse,memory,csv]
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "compare.h"
#include "grid/importers.h"
#include "plain_sweep.h"
#include "shifting/brute_force.h"
#include "shifting/flat_sweep.h"
#include "shifting/sweep.h"
#include "reports/sweep_output.h"
#include "reports/sweep_rows.h"

namespace carbonclock {
namespace {

using bench::Table;

constexpr size_t kZones = 16;
constexpr const char* kWindows = "6h,12h,18h,24h,25%,50%,75%,100%";
constexpr Nanos kSlot = std::chrono::minutes(5);

enum class Starts { kHourly, kEveryFiveMinutes, kFivePerMonth };

struct Grid {
  std::vector<SweepZone> zones;
  std::vector<SweepJob> jobs = paper_jobs();
  std::vector<ShiftWindow> windows = parse_windows(kWindows).value();
  bool synthetic = false;

  /// (job, zone, start, window) combinations requested; each gives two rows when computed.
  size_t combinations() const {
    size_t starts = 0;
    for (const SweepZone& z : zones) starts += z.starts.size();
    return starts * jobs.size() * windows.size();
  }
};

Grid load_grid(size_t max_zones) {
  Grid grid;
  std::filesystem::path dir =
      std::filesystem::path(CARBONCLOCK_SHARED_DATA) / "electricitymaps_hourly";
  std::vector<std::filesystem::path> files;
  if (std::filesystem::exists(dir)) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (grid.zones.size() == max_zones) break;
    ImportOptions options;
    options.factor = Factor::kLifecycle;
    auto series = read_series_file(f, options);
    if (!series || series->empty()) continue;
    auto in = slot_series(series->front(), kSlot);
    if (!in) continue;
    // e.g. DE-LU_2022: two years of one zone stay apart.
    in->zone = f.stem().string().substr(0, f.stem().string().rfind("_hourly"));
    grid.zones.push_back({std::move(*in), {}});
  }
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 25);
  while (grid.zones.size() < max_zones) {  // synthetic: a daily cycle plus noise
    grid.synthetic = true;
    std::vector<double> hourly(8760);
    for (size_t h = 0; h < hourly.size(); ++h) {
      hourly[h] =
          std::max(0.0, 400 + 150 * std::sin(2 * M_PI * static_cast<double>(h) / 24) + noise(rng));
    }
    auto series = series_from_values("SYN" + std::to_string(grid.zones.size()),
                                     SysTime{std::chrono::hours(24 * 18262)},  // 2020-01-01
                                     std::chrono::hours(1), hourly);
    grid.zones.push_back({slot_series(series, kSlot).value(), {}});
  }
  return grid;
}

void set_starts(Grid& grid, Starts starts) {
  for (SweepZone& z : grid.zones) {
    const SysTime from = z.intensity.first_slot_utc, to = z.intensity.end_utc();
    switch (starts) {
      case Starts::kHourly:
        z.starts = starts_every(from, to, std::chrono::hours(1));
        break;
      case Starts::kEveryFiveMinutes:
        z.starts = starts_every(from, to, std::chrono::minutes(5));
        break;
      case Starts::kFivePerMonth:
        z.starts = starts_per_month(from, to, 5);
        break;
    }
  }
}

// ---- carbonclock -------------------------------------------------------------------------

/// Exact checksums of a (job, zone, window)'s results, to compare with the baseline.
struct Check {
  size_t ok = 0;
  int64_t fs_ug = 0, fs_offset = 0, pr_ug = 0, pr_pauses = 0;
};

/// Adds up block totals per (job, zone, window), as the Markdown output needs; with rows, also
/// checksums of every result.
class TotalsSink : public SweepSink {
 public:
  TotalsSink(const Grid& grid, bool rows)
      : zones_(grid.zones.size()), windows_(grid.windows.size()), rows_(rows) {
    totals.resize(grid.jobs.size() * zones_ * windows_);
    checks.resize(totals.size());
  }
  bool wants_rows() const override { return rows_; }
  /// On the worker threads, after each block: how much CPU each thread has spent on the sweep
  /// (the calling thread's CPU before the sweep is taken off; the others start with it).
  void render(const SweepBlock&, std::string&) override {
    const double cpu = bench::thread_cpu_s();
    std::lock_guard lock(mutex_);
    const auto id = std::this_thread::get_id();
    thread_cpu_s[id] = cpu - (id == caller_ ? caller_cpu0_ : 0.0);
  }
  Status consume(const SweepBlock& block, std::string_view) override {
    for (size_t w = 0; w < windows_; ++w) {
      const size_t at = (block.job * zones_ + block.zone) * windows_ + w;
      totals[at].add(block.totals[w]);
      if (!rows_) continue;
      Check& c = checks[at];
      for (size_t i = 0; i < block.starts(); ++i) {
        const SweepResult& r = block.result(i, w);
        if (r.status != StartStatus::kOk) continue;
        ++c.ok;
        c.fs_ug += r.fs_ug;
        c.fs_offset += r.fs_offset;
        c.pr_ug += r.pr_ug;
        c.pr_pauses += r.pr_pauses;
      }
    }
    return Status::ok_status();
  }
  std::vector<SweepWindowTotals> totals;
  std::vector<Check> checks;
  std::map<std::thread::id, double> thread_cpu_s;

 private:
  std::mutex mutex_;
  std::thread::id caller_ = std::this_thread::get_id();
  double caller_cpu0_ = bench::thread_cpu_s();
  size_t zones_, windows_;
  bool rows_;
};

/// The Markdown means' work; with `busiest_thread_cpu_s`, the most CPU one thread spent.
std::vector<SweepWindowTotals> carbonclock_totals(const Grid& grid, unsigned threads,
                                                  double* busiest_thread_cpu_s = nullptr) {
  TotalsSink sink(grid, false);
  SweepOptions options;
  options.threads = threads;
  Status s = run_sweep_blocks(grid.jobs, grid.zones, grid.windows, options, sink);
  if (!s) {
    fmt::print(stderr, "sweep failed: {}\n", s.error().message());
    std::exit(1);
  }
  if (busiest_thread_cpu_s) {
    *busiest_thread_cpu_s = 0;
    for (const auto& [id, cpu] : sink.thread_cpu_s) {
      *busiest_thread_cpu_s = std::max(*busiest_thread_cpu_s, cpu);
    }
  }
  return std::move(sink.totals);
}

size_t computed(const std::vector<SweepWindowTotals>& totals) {
  size_t ok = 0;
  for (const SweepWindowTotals& t : totals) ok += t.ok;
  return ok;
}

// ---- the baseline ------------------------------------------------------------------------

struct PlainInputs {
  std::vector<plain::Zone> zones;
  std::vector<plain::Job> jobs;
};

PlainInputs plain_inputs(const Grid& grid) {
  PlainInputs p;
  for (const SweepZone& z : grid.zones) {
    plain::Zone pz;
    pz.intensity = &z.intensity;
    for (SysTime t : z.starts) {
      SysTime floored = floor_to(t, kSlot);
      pz.starts.push_back(floored < z.intensity.first_slot_utc
                              ? -1
                              : (floored - z.intensity.first_slot_utc).count() / kSlot.count());
    }
    std::sort(pz.starts.begin(), pz.starts.end());
    p.zones.push_back(std::move(pz));
  }
  for (const SweepJob& j : grid.jobs) {
    plain::Job pj;
    pj.job_slots = job_slots(from_seconds(j.duration_h * 3600.0), kSlot);
    pj.grams_per_ug = j.energy_kwh / static_cast<double>(pj.job_slots) / kMicrogramsPerGram;
    for (const ShiftWindow& w : grid.windows) {
      pj.window_slots.push_back(window_slots(w, pj.job_slots, kSlot));
    }
    p.jobs.push_back(std::move(pj));
  }
  return p;
}

// ---- benchmarks --------------------------------------------------------------------------

struct Options {
  int reps = 3;
  bool quick = false;
  std::set<std::string> only;
  bool wants(const std::string& name) const { return only.empty() || only.count(name) > 0; }
};

std::string rows_text(size_t combinations) {
  return fmt::format("{} (job, zone, start, window) combinations, {} rows (one per algorithm)",
                     bench::number(static_cast<double>(combinations), 0),
                     bench::number(2.0 * static_cast<double>(combinations), 0));
}

/// Full grid, hourly starts: the Markdown output's work (means per job, zone and window).
/// Returns the medians of the 2-thread CPU and wall seconds of carbonclock and the baseline.
struct GridFigures {
  double cc_cpu = 0, cc_wall = 0, plain_cpu = 0, plain_wall = 0;
  size_t combinations = 0;
};

GridFigures bench_grid(const Grid& grid, const PlainInputs& plain_in, const Options& o,
                       bool& exact) {
  GridFigures f;
  f.combinations = grid.combinations();
  // Correctness first, untimed: every result of carbonclock equals the baseline's.
  TotalsSink check(grid, true);
  SweepOptions options;
  options.threads = 2;
  if (Status s = run_sweep_blocks(grid.jobs, grid.zones, grid.windows, options, check); !s) {
    fmt::print(stderr, "sweep failed: {}\n", s.error().message());
    std::exit(1);
  }
  auto reference = plain::sweep(plain_in.zones, plain_in.jobs, 2);
  size_t mismatches = 0, rows_ok = 0;
  int64_t pauses = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const Check& c = check.checks[i];
    const plain::Totals& r = reference[i];
    rows_ok += c.ok;
    pauses += c.pr_pauses;
    if (c.ok != r.ok || c.fs_ug != r.fs_ug || c.fs_offset != r.fs_offset || c.pr_ug != r.pr_ug) {
      ++mismatches;
    }
  }
  exact = exact && mismatches == 0;

  std::vector<SweepWindowTotals> totals;
  std::vector<plain::Totals> plain_totals;
  auto p = bench::interleave(
      o.reps, [&] { plain_totals = plain::sweep(plain_in.zones, plain_in.jobs, 2); },
      [&] { totals = carbonclock_totals(grid, 2); });
  f.cc_cpu = p.median_cpu_carbonclock();
  f.cc_wall = p.median_wall_carbonclock();
  f.plain_cpu = p.median_cpu_baseline();
  f.plain_wall = p.median_wall_baseline();
  const auto rows = static_cast<double>(computed(totals));
  Table t(fmt::format("Full paper grid, hourly starts, both algorithms, Markdown means "
                      "({} zones × {} jobs × {} windows), 2 threads",
                      grid.zones.size(), grid.jobs.size(), grid.windows.size()),
          "baseline: plain");
  t.row_ratio(fmt::format("CPU s (median of {}; ratio: median of paired ratios)", o.reps),
              f.plain_cpu, f.cc_cpu, p.median_cpu_ratio(), 2);
  t.row("wall s (median)", f.plain_wall, f.cc_wall, 2);
  t.row("CPU ns per combination", f.plain_cpu / rows * 1e9, f.cc_cpu / rows * 1e9, 0);
  t.row_text("exact pause counts", "no", "yes", "");
  t.note(fmt::format(
      "{}; {} computed, the rest skipped (window past the end of the data). Every computed "
      "combination's results are equal in both (checksums of the integer µg/kWh sums and "
      "Flexible Start offsets per job, zone and window): {} mismatches. Pauses counted: {}.",
      rows_text(f.combinations), bench::number(static_cast<double>(rows_ok), 0), mismatches,
      bench::number(static_cast<double>(pauses), 0)));
  t.print();
  return f;
}

/// Brute force on every job and window in one zone at 24 starts spread over the year, checked
/// against carbonclock; its CPU time scaled to the full grid.
double brute_force_scaled(const Grid& grid, size_t combinations, bool& exact) {
  constexpr size_t kSubset = 24;
  const SlottedIntensity& in = grid.zones.front().intensity;
  FlatSweepIndex index(in);
  FlatSweepWindow pass;
  const auto& ug = in.ug_per_kwh;
  size_t measured = 0, mismatches = 0;
  std::vector<std::pair<brute::Choice, brute::Choice>> brute_results;
  std::vector<FlatStartResult> fast_results;
  const size_t hours = in.size() / 12;
  auto sample = bench::measure([&] {
    for (const SweepJob& job : grid.jobs) {
      size_t k = job_slots(from_seconds(job.duration_h * 3600), kSlot);
      std::vector<double> energy(k, 1.0);  // 1 kWh per slot: grams = µg/kWh sum / 1e6
      for (const ShiftWindow& w : grid.windows) {
        size_t n = window_slots(w, k, kSlot);
        for (size_t q = 0; q < kSubset; ++q) {
          size_t s = q * (hours / kSubset) * 12;
          if (!in.window_covered(s, s + k + n)) continue;
          brute_results.emplace_back(brute::flexible_start(energy, ug, s, n),
                                     brute::pause_resume_flat_sort(energy, ug, s, n));
          ++measured;
        }
      }
    }
  });
  size_t at = 0;
  for (const SweepJob& job : grid.jobs) {  // outside the timing: carbonclock agrees
    size_t k = job_slots(from_seconds(job.duration_h * 3600), kSlot);
    for (const ShiftWindow& w : grid.windows) {
      size_t n = window_slots(w, k, kSlot);
      pass.reset(index, k, n);
      for (size_t q = 0; q < kSubset; ++q) {
        size_t s = q * (hours / kSubset) * 12;
        if (!in.window_covered(s, s + k + n)) continue;
        FlatStartResult r = pass.at(s);
        const auto& [fs, pr] = brute_results[at++];
        if (std::abs(static_cast<double>(r.fs_ug) - fs.emissions_g * 1e6) >
                1e-9 * fs.emissions_g * 1e6 ||
            std::abs(static_cast<double>(r.pr_ug) - pr.emissions_g * 1e6) >
                1e-9 * pr.emissions_g * 1e6 ||
            static_cast<size_t>(r.fs_offset) != fs.slots.front() - s ||
            static_cast<size_t>(r.pr_pauses) != pr.pauses) {
          ++mismatches;
        }
      }
    }
  }
  if (mismatches) fmt::print("brute force and carbonclock disagree on {} starts\n", mismatches);
  exact = exact && mismatches == 0;
  return sample.cpu_s * static_cast<double>(combinations) / static_cast<double>(measured);
}

void bench_references(const Grid& grid, const PlainInputs& plain_in, const GridFigures& f,
                      const Options& o, bool& exact) {
  std::vector<double> floor_cpu, fs_cpu;
  for (int i = 0; i < o.reps; ++i) {
    floor_cpu.push_back(bench::measure([&] {
                          plain::sweep(plain_in.zones, plain_in.jobs, 2, plain::Mode::kReadOnce);
                        }).cpu_s);
    fs_cpu.push_back(bench::measure([&] {
                       plain::sweep(plain_in.zones, plain_in.jobs, 2,
                                    plain::Mode::kFlexibleStartOnly);
                     }).cpu_s);
  }
  const double brute = brute_force_scaled(grid, f.combinations, exact);
  Table t("References on the same grid (CPU s; carbonclock: both algorithms with pauses)",
          "reference", "reference");
  t.row("streaming floor: read each slot once per (zone, job, window)", bench::median(floor_cpu),
        f.cc_cpu, 2);
  t.row("plain Flexible Start alone", bench::median(fs_cpu), f.cc_cpu, 2);
  t.row("plain, both algorithms, no pauses (the baseline above)", f.plain_cpu, f.cc_cpu, 2);
  t.row("brute force, scaled from 24 starts × 88 job-windows of one zone", brute, f.cc_cpu, 2);
  t.note(
      "Brute force: every candidate start for Flexible Start, a fresh sort of the window per "
      "start for Pause and Resume (src/shifting/brute_force.h); carbonclock's results equal it "
      "on every sampled start (sums, chosen start, pauses).");
  t.print();
}

void bench_threads(const Grid& grid, const PlainInputs& plain_in) {
  // Wall-clock speed-up needs two free cores; on a shared machine it is capped by what the
  // scheduler gives. The busiest thread's CPU time is what the wall time would be on two free
  // cores, so 1-thread CPU ÷ busiest thread's CPU is the speed-up the split of the work allows.
  std::vector<double> plain_threads;
  double cc_busiest = 0;
  auto plain1 = bench::measure([&] { plain::sweep(plain_in.zones, plain_in.jobs, 1); });
  auto cc1 = bench::measure([&] { carbonclock_totals(grid, 1); });
  auto plain2 = bench::measure(
      [&] { plain::sweep(plain_in.zones, plain_in.jobs, 2, plain::Mode::kBoth, &plain_threads); });
  auto cc2 = bench::measure([&] { carbonclock_totals(grid, 2, &cc_busiest); });
  const double plain_busiest = *std::max_element(plain_threads.begin(), plain_threads.end());
  Table t("Threads: full grid, hourly starts, 1 and 2 threads", "baseline: plain");
  t.row("wall s, 1 thread", plain1.wall_s, cc1.wall_s, 2);
  t.row("wall s, 2 threads", plain2.wall_s, cc2.wall_s, 2);
  t.row("measured wall speed-up (1 thread ÷ 2 threads)", plain1.wall_s / plain2.wall_s,
        cc1.wall_s / cc2.wall_s, 2);
  t.row("CPU s, 1 thread", plain1.cpu_s, cc1.cpu_s, 2);
  t.row("CPU s, 2 threads", plain2.cpu_s, cc2.cpu_s, 2);
  t.row("CPU s of the busiest of the 2 threads", plain_busiest, cc_busiest, 2);
  t.row("speed-up on two free cores (1-thread CPU ÷ busiest thread's CPU)",
        plain1.cpu_s / plain_busiest, cc1.cpu_s / cc_busiest, 2);
  t.row("cores busy with 2 threads (CPU s ÷ wall s)", plain2.cpu_s / plain2.wall_s,
        cc2.cpu_s / cc2.wall_s, 2);
  t.note(fmt::format(
      "One run each. Load average during the run: {:.2f} on 2 cores: other processes take "
      "their share, which caps the measured wall-clock speed-up at the cores-busy row; the "
      "busiest thread's CPU time is what the wall time would be on two free cores.",
      bench::load_average()));
  t.print();
}

void bench_stride(const Options& o, size_t zones) {
  Grid hourly = load_grid(zones), five = load_grid(zones);
  set_starts(hourly, Starts::kHourly);
  set_starts(five, Starts::kEveryFiveMinutes);
  PlainInputs ph = plain_inputs(hourly), p5 = plain_inputs(five);
  std::vector<SweepWindowTotals> th, t5;
  auto h = bench::interleave(
      o.reps, [&] { plain::sweep(ph.zones, ph.jobs, 2); },
      [&] { th = carbonclock_totals(hourly, 2); });
  auto m = bench::interleave(
      o.quick ? 1 : o.reps, [&] { plain::sweep(p5.zones, p5.jobs, 2); },
      [&] { t5 = carbonclock_totals(five, 2); });
  const auto rh = static_cast<double>(computed(th)), r5 = static_cast<double>(computed(t5));
  const double bh = h.median_cpu_baseline() / rh * 1e9, ch = h.median_cpu_carbonclock() / rh * 1e9;
  const double b5 = m.median_cpu_baseline() / r5 * 1e9, c5 = m.median_cpu_carbonclock() / r5 * 1e9;
  Table t(fmt::format("Start every 5 minutes against every hour ({} zones, all jobs and "
                      "windows): CPU ns per combination, 2 threads",
                      zones),
          "baseline: plain");
  t.row("hourly starts", bh, ch, 0);
  t.row("5-minute starts", b5, c5, 0);
  t.row_text("5-minute ÷ hourly, per combination (target for carbonclock: ≤ 1.5)",
             bench::number(b5 / bh, 2), bench::number(c5 / ch, 2), "");
  t.note(fmt::format("{} combinations computed at hourly starts, {} at 5-minute starts.",
                     bench::number(rh, 0), bench::number(r5, 0)));
  t.print();
}

void bench_sparse(Grid& grid, const Options& o) {
  set_starts(grid, Starts::kFivePerMonth);
  PlainInputs p = plain_inputs(grid);
  std::vector<SweepWindowTotals> totals;
  auto r = bench::interleave(
      std::max(o.reps, 5), [&] { plain::sweep(p.zones, p.jobs, 2); },
      [&] { totals = carbonclock_totals(grid, 2); });
  const auto rows = static_cast<double>(computed(totals));
  Table t("Sparse starts: 5 a month (the CLI's default), full grid, 2 threads", "baseline: plain");
  t.row_ratio("CPU ms (median; ratio: median of paired ratios)", r.median_cpu_baseline() * 1e3,
              r.median_cpu_carbonclock() * 1e3, r.median_cpu_ratio(), 1);
  t.row("CPU µs per combination", r.median_cpu_baseline() / rows * 1e6,
        r.median_cpu_carbonclock() / rows * 1e6, 2);
  t.note(
      fmt::format("{} combinations computed. The baseline re-adds each window slot by slot "
                  "when it does not overlap the previous one; carbonclock adds whole runs "
                  "of equal values.",
                  bench::number(rows, 0)));
  t.print();
}

// ---- child runs (peak RSS of a whole run) ------------------------------------------------

/// Streams CSV rows (formatted on the worker threads) to a FILE.
class CsvStreamSink : public SweepSink {
 public:
  CsvStreamSink(const SweepCsvRows& rows, std::FILE* out) : rows_(rows), out_(out) {}
  void render(const SweepBlock& block, std::string& text) override { rows_.append(block, text); }
  Status consume(const SweepBlock&, std::string_view text) override {
    if (std::fwrite(text.data(), 1, text.size(), out_) != text.size()) {
      return make_error("write failed");
    }
    bytes += text.size();
    return Status::ok_status();
  }
  size_t bytes = 0;

 private:
  const SweepCsvRows& rows_;
  std::FILE* out_;
};

SweepLabels labels_of(const Grid& grid) {
  SweepLabels labels;
  for (const SweepJob& j : grid.jobs) labels.jobs.push_back(j.name);
  for (const SweepZone& z : grid.zones) {
    labels.zones.push_back(z.intensity.zone);
    labels.zone_starts.push_back(z.starts);
    labels.zone_series.push_back(z.intensity.zone);
  }
  for (const ShiftWindow& w : grid.windows) labels.windows.push_back(w.label);
  labels.slot = kSlot;
  return labels;
}

/// One whole run in this process, for its peak RSS: load the zones, sweep, write the output.
/// Prints "cpu_s wall_s bytes peak_rss_mib".
int child(const std::string& mode) {
  Grid grid = load_grid(kZones);
  set_starts(grid, Starts::kHourly);
  if (mode == "md-carbonclock-sparse") set_starts(grid, Starts::kFivePerMonth);
  std::FILE* null = std::fopen("/dev/null", "w");
  size_t bytes = 0;
  auto sample = bench::measure([&] {
    if (mode == "md-carbonclock" || mode == "md-carbonclock-sparse") {
      auto totals = carbonclock_totals(grid, 2);
      bytes = computed(totals);
    } else if (mode == "md-plain") {
      PlainInputs p = plain_inputs(grid);
      auto totals = plain::sweep(p.zones, p.jobs, 2);
      bytes = totals.size();
    } else if (mode == "csv-carbonclock") {
      SweepLabels labels = labels_of(grid);
      SweepCsvRows rows(labels.jobs, labels.zones, labels.windows);
      CsvStreamSink sink(rows, null);
      std::string header = sweep_csv_header();
      std::fwrite(header.data(), 1, header.size(), null);
      SweepOptions options;
      options.threads = 2;
      if (!run_sweep_blocks(grid.jobs, grid.zones, grid.windows, options, sink)) std::exit(1);
      bytes = header.size() + sink.bytes;
    } else if (mode == "csv-cells") {  // what `sweep --format csv` did: every cell, one string
      SweepLabels labels = labels_of(grid);
      std::vector<std::optional<SweepCell>> cells(grid.jobs.size() * grid.zones.size());
      SweepOptions options;
      options.threads = 2;
      if (!run_sweep(grid.jobs, grid.zones, grid.windows, options, [&](SweepCell&& cell) {
            cells[cell.job * grid.zones.size() + cell.zone] = std::move(cell);
          })) {
        std::exit(1);
      }
      std::string out = sweep_csv_header();
      for (const auto& cell : cells) append_sweep_csv(*cell, labels, out);
      std::fwrite(out.data(), 1, out.size(), null);
      bytes = out.size();
    } else {
      std::exit(2);
    }
  });
  std::fclose(null);
  fmt::print("{} {} {} {}\n", sample.cpu_s, sample.wall_s, bytes, bench::peak_rss_mib());
  return 0;
}

struct ChildFigures {
  double rss_mib = 0, cpu_s = 0, wall_s = 0, bytes = 0;
  bool ok = false;
};

ChildFigures run_child(const std::string& mode) {
  bench::ChildRun run = bench::run_child({"--child", mode});
  ChildFigures f;
  std::istringstream in(run.output);
  f.ok = run.ok && static_cast<bool>(in >> f.cpu_s >> f.wall_s >> f.bytes >> f.rss_mib);
  if (!f.ok) fmt::print("child run '{}' failed: {}\n", mode, run.output);
  return f;
}

void bench_memory() {
  ChildFigures plain_md = run_child("md-plain"), cc_md = run_child("md-carbonclock");
  Table t(
      "Peak RSS of a whole run: load 16 zone-years, sweep the full grid (hourly starts), "
      "Markdown means, 2 threads",
      "baseline: plain");
  t.row("peak RSS MiB (target for carbonclock: ≤ 64)", plain_md.rss_mib, cc_md.rss_mib, 1);
  t.row("CPU s of the sweep (loading not included)", plain_md.cpu_s, cc_md.cpu_s, 2);
  t.note(
      "Each figure is a separate process (this program with --child), so one run's memory "
      "does not hide another's. Loading parses the 16 CSV files and holds every zone's "
      "slotted series (14 bytes a slot) as the CLI does.");
  t.print();
}

void bench_csv(const Grid& grid, const Options& o) {
  // Formatting alone, one thread: one zone's rows, through append_sweep_csv (fmt, the
  // current cell formatter) and SweepCsvRows (blocks); byte-equal.
  Grid one;
  one.zones.push_back(grid.zones.front());
  SweepLabels labels = labels_of(one);
  std::vector<SweepCell> cells;
  SweepOptions options;
  options.threads = 2;
  if (!run_sweep(one.jobs, one.zones, one.windows, options,
                 [&](SweepCell&& c) { cells.push_back(std::move(c)); })) {
    std::exit(1);
  }
  struct Keep : SweepSink {
    std::vector<std::pair<SweepBlock, std::vector<SweepResult>>> blocks;
    std::vector<std::vector<uint32_t>> index;
    std::vector<std::vector<int64_t>> slots;
    Status consume(const SweepBlock& b, std::string_view) override {
      blocks.emplace_back(b, std::vector<SweepResult>(b.results.begin(), b.results.end()));
      index.emplace_back(b.start_index.begin(), b.start_index.end());
      slots.emplace_back(b.start_slot.begin(), b.start_slot.end());
      return Status::ok_status();
    }
  } keep;
  if (!run_sweep_blocks(one.jobs, one.zones, one.windows, options, keep)) std::exit(1);
  for (size_t i = 0; i < keep.blocks.size(); ++i) {  // re-point the copies
    keep.blocks[i].first.results = keep.blocks[i].second;
    keep.blocks[i].first.start_index = keep.index[i];
    keep.blocks[i].first.start_slot = keep.slots[i];
  }
  SweepCsvRows rows(labels.jobs, labels.zones, labels.windows);
  std::string a, b;
  auto paired = bench::interleave(
      o.reps,
      [&] {
        a.clear();
        for (const SweepCell& c : cells) append_sweep_csv(c, labels, a);
      },
      [&] {
        b.clear();
        for (const auto& blk : keep.blocks) rows.append(blk.first, b);
      });
  const bool equal = a == b;
  const double mb = static_cast<double>(a.size()) / 1e6;
  // The whole grid streamed to /dev/null, and the cells-then-string path, as separate runs.
  ChildFigures stream = run_child("csv-carbonclock");
  ChildFigures whole = o.quick ? ChildFigures{} : run_child("csv-cells");
  Table t("CSV rows", "baseline: append_sweep_csv (fmt), whole output in memory");
  t.row("format one zone's rows, 1 thread: MB/s", mb / paired.median_cpu_baseline(),
        mb / paired.median_cpu_carbonclock(), 0);
  if (!o.quick) {
    t.row("full grid to /dev/null, end to end: MB/s of CSV per wall s",
          whole.bytes / 1e6 / whole.wall_s, stream.bytes / 1e6 / stream.wall_s, 0);
    t.row("full grid: MB of CSV per CPU s", whole.bytes / 1e6 / whole.cpu_s,
          stream.bytes / 1e6 / stream.cpu_s, 0);
    t.row("full grid: peak RSS MiB (target for carbonclock: ≤ 64)", whole.rss_mib, stream.rss_mib,
          1);
    t.row("full grid: CPU s", whole.cpu_s, stream.cpu_s, 2);
  } else {
    t.row_text("full grid to /dev/null, end to end: MB/s of CSV per wall s", "(--quick)",
               bench::number(stream.bytes / 1e6 / stream.wall_s, 0), "");
    t.row_text("full grid: peak RSS MiB", "(--quick)", bench::number(stream.rss_mib, 1), "");
  }
  t.note(fmt::format(
      "One zone: {} MB of CSV; the two formatters' bytes are {}. Full grid: {} MB of CSV. "
      "carbonclock streams blocks of {} starts formatted on both worker threads "
      "(run_sweep_blocks + SweepCsvRows), in a deterministic order (zone, job, start, window, "
      "algorithm); the baseline keeps every cell, then builds the whole file in one string "
      "(job-major), as `sweep --format csv` did. Loading the zones is included in both.",
      bench::number(mb, 1), equal ? "identical" : "DIFFERENT", bench::number(stream.bytes / 1e6, 0),
      bench::number(static_cast<double>(SweepOptions{}.block_starts), 0)));
  t.print();
  if (!equal) std::exit(1);
}

int run(const Options& o) {
  Grid grid = load_grid(kZones);
  set_starts(grid, Starts::kHourly);
  fmt::print("# Sweep benchmark\n\nZones ({}{}):", grid.zones.size(),
             grid.synthetic ? ", some SYNTHETIC: shared data missing" : "");
  size_t runs = 0, distinct = 0, slots = 0;
  for (const SweepZone& z : grid.zones) {
    FlatSweepIndex index(z.intensity);
    runs += index.runs();
    distinct += index.distinct();
    slots += index.size();
    fmt::print(" {}", z.intensity.zone);
  }
  fmt::print(
      ".\n{} slots of 5 minutes in all; {} runs of equal values, {} distinct values (sums over "
      "zones). Load average at start: {:.2f}. Repetitions: {}.\n",
      bench::number(static_cast<double>(slots), 0), bench::number(static_cast<double>(runs), 0),
      bench::number(static_cast<double>(distinct), 0), bench::load_average(), o.reps);
  bool exact = true;
  PlainInputs plain_in = plain_inputs(grid);
  GridFigures f;
  if (o.wants("grid") || o.wants("threads")) {
    f = bench_grid(grid, plain_in, o, exact);
    if (o.wants("grid")) bench_references(grid, plain_in, f, o, exact);
    if (o.wants("threads")) bench_threads(grid, plain_in);
  }
  if (o.wants("stride")) bench_stride(o, 2);
  if (o.wants("sparse")) {
    Grid sparse = grid;
    bench_sparse(sparse, o);
  }
  if (o.wants("memory")) bench_memory();
  if (o.wants("csv")) bench_csv(grid, o);
  if (!exact) {
    fmt::print("\nFAILED: results differ between carbonclock and a reference\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace carbonclock

int main(int argc, char** argv) {
  carbonclock::Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--child" && i + 1 < argc) return carbonclock::child(argv[i + 1]);
    if (a == "--reps" && i + 1 < argc) {
      o.reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--quick") {
      o.quick = true;
      o.reps = 1;
    } else if (a == "--only" && i + 1 < argc) {
      std::string list = argv[++i];
      for (size_t p = 0; p <= list.size();) {
        size_t c = list.find(',', p);
        if (c == std::string::npos) c = list.size();
        o.only.insert(list.substr(p, c - p));
        p = c + 1;
      }
    } else {
      fmt::print(stderr,
                 "usage: shifting_bench [--reps N] [--quick] "
                 "[--only grid,threads,stride,sparse,memory,csv]\n");
      return 2;
    }
  }
  return carbonclock::run(o);
}

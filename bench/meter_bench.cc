// Metering overhead: carbonclock's own CPU time per 1,000 samples of 8 (fake) GPUs plus
// 2 RAPL packages with their DRAM domains, the worst case at 10 Hz.
//
// The budget is 0.5 % of one core at 10 Hz, i.e. 5 ms of CPU per second, 0.5 ms per sample,
// 500 ms per 1,000 samples. Each benchmark reports `budget_ratio` = measured / budget, and
// the baseline BM_ReadClocks (the two clock reads every sample needs anyway) in the same run.
//
// The GPUs come from the fake libnvidia-ml.so.1 built for the tests, loaded through the real
// dlopen path; a real driver's calls cost more than the fake's (NVML's energy query is
// tens of microseconds), so bench/overhead.sh also measures a whole run wrapping `sleep`.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "common/clock.h"
#include "metering/journal.h"
#include "metering/meter.h"
#include "sensors/fake_sysfs.h"
#include "sensors/nvml_sensor.h"
#include "sensors/rapl_sensor.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;

struct Fleet {
  fs::path dir = fs::temp_directory_path() / ("cc_meter_bench_" + std::to_string(::getpid()));
  FakeSysfs sysfs{dir / "sysfs"};
  std::vector<std::unique_ptr<Sensor>> sensors;

  Fleet() {
    std::string script;
    for (int i = 0; i < 8; ++i) script += "gpu\nname Fake H100\npower 300\n";
    std::ofstream(dir / "nvml.script") << script;
    ::setenv("FAKE_NVML_SCRIPT", (dir / "nvml.script").c_str(), 1);
    NvmlOptions nvml;
    nvml.library_path = FAKE_NVML_LIBRARY;
    auto gpus = open_nvml_sensor(nvml);
    if (!gpus) std::abort();
    sensors.push_back(std::move(*gpus));
    sysfs.add_zone("0", "package-0", 1000);
    sysfs.add_zone("0:0", "dram", 1000);
    sysfs.add_zone("1", "package-1", 1000);
    sysfs.add_zone("1:0", "dram", 1000);
    auto rapl = probe_rapl(sysfs.root());
    if (!rapl.sensor) std::abort();
    sensors.push_back(std::move(rapl.sensor));
  }
};

double process_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Sets cpu_ms_per_1000_samples and budget_ratio (measured / 500 ms budget) from the process
// CPU time spent in the timed loop.
void report(benchmark::State& state, double cpu_s) {
  double per_1000_ms = 1e3 * 1000 * cpu_s / static_cast<double>(state.iterations());
  state.counters["cpu_ms_per_1000_samples"] = per_1000_ms;
  state.counters["budget_ratio"] = per_1000_ms / 500.0;
}

void BM_ReadClocks(benchmark::State& state) {
  RealClock clock;
  double t0 = process_cpu_s();
  for (auto _ : state) {
    benchmark::DoNotOptimize(clock.monotonic_now());
    benchmark::DoNotOptimize(clock.system_now());
  }
  report(state, process_cpu_s() - t0);
}
BENCHMARK(BM_ReadClocks)->MeasureProcessCPUTime();

void BM_SampleFleet(benchmark::State& state) {
  const bool journal = state.range(0) != 0;
  Fleet fleet;
  RealClock clock;
  Meter meter(std::move(fleet.sensors), clock, {});
  meter.start();
  std::unique_ptr<JournalWriter> writer;
  if (journal) {
    RunRecord run;
    run.id = "bench";
    run.command = {"sleep"};
    run.timeline.devices = meter.devices();
    writer = std::move(JournalWriter::create(fleet.dir, run).value());
    meter.set_journal(writer.get());
  }
  double t0 = process_cpu_s();
  for (auto _ : state) meter.sample();
  report(state, process_cpu_s() - t0);
  state.SetLabel(journal ? "8 GPUs + 2 RAPL packages + 2 DRAM, journal on"
                         : "8 GPUs + 2 RAPL packages + 2 DRAM, no journal");
  fs::remove_all(fleet.dir);
}
BENCHMARK(BM_SampleFleet)->Arg(0)->Arg(1)->MeasureProcessCPUTime();

}  // namespace
}  // namespace carbonclock

BENCHMARK_MAIN();

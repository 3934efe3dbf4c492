// Metering overhead against the rest of the host: carbonclock's CPU time per sample with 1, 8
// and 64 (fake) GPUs and the job's CPU and DRAM estimated from its process tree, while 10,
// 1,000 and 5,000 unrelated sleeping processes run on the host.
//
// Baseline: the same meter with the estimate sensor finding the job's processes the way
// carbonclock did before it followed children files, by reading every process in /proc at
// each sample (EstimateModel::scan_all_processes). carbonclock: the default, following the
// job's tree through /proc/PID/task/TID/children. Both read the tree at every sample (as at
// --interval 1s), write the journal, and run alternately in the same process (5 repetitions
// each, medians; the ratio is the median of the paired ratios).
//
// The GPUs come from the fake libnvidia-ml.so.1 built for the tests, loaded through the real
// dlopen path; a real driver's calls cost more (NVML's energy query is tens of microseconds),
// so bench/overhead.sh also measures whole runs of the carbonclock binary.
//
// Usage: meter_bench [--reps N] [--max-processes N]
//        meter_bench --spawn-host N   starts N sleeping processes in a new process group,
//                                     prints its id and exits (bench/overhead.sh kills it)
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "metering/journal.h"
#include "metering/meter.h"
#include "sensors/estimate_sensor.h"
#include "sensors/nvml_sensor.h"
#include "sensors/process_tree.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;

double process_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

size_t processes_on_host() {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) ++n;
  }
  return n;
}

// Unrelated processes: a helper in its own process group that forks sleeping children on
// request, so that they are neither the job's nor the bench's children.
class Host {
 public:
  Host() {
    int to[2], from[2];
    if (::pipe(to) != 0 || ::pipe(from) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      // Nothing of the caller's stays open (a shell reading our stdout must see its end).
      const int devnull = ::open("/dev/null", O_RDWR);
      for (int fd = 0; fd <= 2; ++fd) ::dup2(devnull, fd);
      ::close(to[1]);
      ::close(from[0]);
      ::signal(SIGPIPE, SIG_IGN);
      long have = 0, want = 0;
      while (::read(to[0], &want, sizeof want) == static_cast<ssize_t>(sizeof want)) {
        for (; have < want; ++have) {
          pid_t c = ::fork();
          if (c == 0) {
            for (;;) ::pause();
          }
          if (c < 0) break;
        }
        (void)!::write(from[1], &have, sizeof have);
      }
      for (;;) ::pause();  // released (or the bench is gone): sleep with the others
    }
    ::setpgid(pid_, pid_);
    ::close(to[0]);
    ::close(from[1]);
    to_ = to[1];
    from_ = from[0];
  }
  ~Host() {
    if (pid_ <= 0) return;
    ::close(to_);
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(from_);
  }
  /// Grows to `n` sleeping processes; returns how many it has.
  long grow(long n) {
    long have = 0;
    if (::write(to_, &n, sizeof n) != static_cast<ssize_t>(sizeof n)) return 0;
    if (::read(from_, &have, sizeof have) != static_cast<ssize_t>(sizeof have)) return 0;
    return have;
  }
  pid_t pid() const { return pid_; }
  /// Leaves the processes running (their group is pid()); the caller kills them.
  void release() {
    ::close(to_);
    ::close(from_);
    to_ = from_ = -1;
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
};

// A sampled meter: N fake GPUs and the estimate sensor on the job, journal on.
struct Rig {
  Rig(const fs::path& dir, int gpus, pid_t job, bool scan_all) {
    NvmlOptions nvml;
    nvml.library_path = FAKE_NVML_LIBRARY;
    auto opened = open_nvml_sensor(nvml);
    if (!opened) {
      std::fprintf(stderr, "meter_bench: %s\n", opened.error().message().c_str());
      std::abort();
    }
    if (static_cast<int>((*opened)->devices().size()) != gpus) std::abort();
    std::vector<std::unique_ptr<Sensor>> sensors;
    sensors.push_back(std::move(*opened));
    EstimateModel model;
    model.min_scan_interval = Nanos(0);  // a tree reading every sample, as at --interval 1s
    model.scan_all_processes = scan_all;
    sensors.push_back(make_estimate_sensor(model));
    meter = std::make_unique<Meter>(std::move(sensors), clock, MeterOptions{});
    meter->start();
    RunRecord run;
    run.id = "bench";
    run.command = {"sleep"};
    run.timeline.devices = meter->devices();
    journal_dir = dir / (scan_all ? "baseline" : "carbonclock");
    fs::create_directories(journal_dir);
    journal = std::move(JournalWriter::create(journal_dir, run).value());
    meter->set_journal(journal.get());
    meter->attach_job(job);
  }
  ~Rig() { fs::remove_all(journal_dir); }
  /// CPU seconds per sample over `n` samples.
  double sample(int n) {
    const double t0 = process_cpu_s();
    for (int i = 0; i < n; ++i) meter->sample();
    return (process_cpu_s() - t0) / n;
  }

  RealClock clock;
  std::unique_ptr<Meter> meter;
  std::unique_ptr<JournalWriter> journal;
  fs::path journal_dir;
};

struct Row {
  int gpus;
  long host_processes;
  size_t on_host;
  double baseline_s, carbonclock_s, ratio;
};

std::string with_commas(long v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

int run(int reps, long max_processes) {
  const fs::path dir = fs::temp_directory_path() / ("cc_meter_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Host host;  // before adoption: a helper, as carbonclock's watchdog is
  if (Status s = adopt_orphans(); !s)
    std::fprintf(stderr, "note: %s\n", s.error().message().c_str());
  pid_t job = ::fork();  // the job: one sleeping process
  if (job == 0) {
    for (;;) ::pause();
  }
  std::vector<Row> rows;
  for (long want : {10L, 1000L, 5000L}) {
    if (want > max_processes) break;
    const long have = host.grow(want);
    if (have < want) std::fprintf(stderr, "note: only %ld of %ld processes started\n", have, want);
    for (int gpus : {1, 8, 64}) {
      std::string script;
      for (int i = 0; i < gpus; ++i) script += "gpu\nname Fake H100\npower 300\n";
      std::ofstream(dir / "nvml.script", std::ios::trunc) << script;
      ::setenv("FAKE_NVML_SCRIPT", (dir / "nvml.script").c_str(), 1);
      Rig baseline(dir, gpus, job, true);
      Rig carbonclock(dir, gpus, job, false);
      // Calibrate: about 0.2 s of CPU per repetition of the slower one.
      baseline.sample(3);
      carbonclock.sample(3);
      const double slow_s = std::max(baseline.sample(5), carbonclock.sample(5));
      const int n = std::clamp(static_cast<int>(0.2 / std::max(slow_s, 1e-7)), 5, 20000);
      std::vector<double> b, c, r;
      for (int rep = 0; rep < reps; ++rep) {
        b.push_back(baseline.sample(n));
        c.push_back(carbonclock.sample(n));
        r.push_back(c.back() / b.back());
      }
      rows.push_back({gpus, have, processes_on_host(), median(b), median(c), median(r)});
      std::fprintf(stderr, "done: %d GPUs, %ld processes\n", gpus, have);
    }
  }
  stop_adopting_orphans();
  ::kill(job, SIGKILL);
  ::waitpid(job, nullptr, 0);
  fs::remove_all(dir);

  std::printf(
      "## Meter: CPU per sample against the host's process count\n\n"
      "Fake GPUs + CPU/DRAM estimated from the job's process tree (a sleeping job), journal on, "
      "a tree reading every sample. Baseline: the job's processes found by reading every "
      "process in /proc (carbonclock before children files). Medians of %d interleaved "
      "repetitions; ratio = carbonclock / baseline (paired median).\n\n",
      reps);
  std::printf(
      "| GPUs | unrelated processes (on host) | baseline us/sample | carbonclock us/sample | "
      "ratio | carbonclock %% of a core at 1 s |\n"
      "|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& row : rows) {
    std::printf("| %d | %s (%s) | %.1f | %.1f | %.4f | %.4f %% |\n", row.gpus,
                with_commas(row.host_processes).c_str(),
                with_commas(static_cast<long>(row.on_host)).c_str(), row.baseline_s * 1e6,
                row.carbonclock_s * 1e6, row.ratio, row.carbonclock_s * 100);
  }
  return 0;
}

}  // namespace
}  // namespace carbonclock

int main(int argc, char** argv) {
  int reps = 5;
  long max_processes = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--spawn-host") == 0) {
      carbonclock::Host host;
      const long want = std::atol(argv[i + 1]);
      const long have = host.grow(want);
      std::printf("%d\n", static_cast<int>(host.pid()));
      host.release();
      return have == want ? 0 : 1;
    }
    if (std::strcmp(argv[i], "--reps") == 0) {
      reps = std::max(1, std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--max-processes") == 0) {
      max_processes = std::atol(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: meter_bench [--reps N] [--max-processes N]\n");
      return 2;
    }
  }
  return carbonclock::run(reps, max_processes);
}

// Drives the real loading code (dlopen, symbol probing, nvmlInit) against the scripted fake
// libnvidia-ml.so.1 built in tests/fake_nvml; script format in tests/fake_nvml/README.md.
#include "sensors/nvml_sensor.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "sensors/gpu_processes.h"

namespace carbonclock {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

const char* const kUuid0 = "GPU-aaaa1111-0000-0000-0000-000000000000";
const char* const kUuid1 = "GPU-bbbb2222-0000-0000-0000-000000000000";
const char* const kUuid2 = "GPU-cccc3333-0000-0000-0000-000000000000";

double mono_s(MonoTime t) { return to_seconds(t.time_since_epoch()); }

// Test hooks the fake exports besides the NVML symbols; the library is the same object the
// sensor dlopens, so they see its state.
class FakeHooks {
 public:
  explicit FakeHooks(const char* path) : handle_(::dlopen(path, RTLD_NOW | RTLD_LOCAL)) {}
  ~FakeHooks() {
    if (handle_ != nullptr) ::dlclose(handle_);
  }
  bool ok() const { return handle_ != nullptr; }
  // Seconds of the fake's clock (time since nvmlInit) at monotonic time `t`.
  double fake_time_s(MonoTime t) const {
    auto fn = reinterpret_cast<double (*)()>(::dlsym(handle_, "fake_nvml_init_monotonic_s"));
    return mono_s(t) - fn();
  }
  unsigned process_queries() const {
    return reinterpret_cast<unsigned (*)()>(::dlsym(handle_, "fake_nvml_process_queries"))();
  }
  void* handle() const { return handle_; }

 private:
  void* handle_;
};

class NvmlSensorTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("FAKE_NVML_SCRIPT"); }

  // Writes the script and points the fake at it.
  void script(const std::string& text) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    script_path_ =
        std::filesystem::temp_directory_path() / (std::string("nvml_sensor_test_") + info->name() +
                                                  "_" + std::to_string(::getpid()) + ".script");
    std::ofstream(script_path_) << text;
    ::setenv("FAKE_NVML_SCRIPT", script_path_.c_str(), 1);
  }

  Result<std::unique_ptr<Sensor>> open(NvmlOptions options = {},
                                       const char* library = FAKE_NVML_LIBRARY) {
    if (options.library_path.empty()) options.library_path = library;
    return open_nvml_sensor(options);
  }

  std::vector<std::string> ids(const Sensor& sensor) {
    std::vector<std::string> out;
    for (const DeviceInfo& d : sensor.devices()) out.push_back(d.id);
    return out;
  }

  // Reads `sensor` every `interval` for `duration`; returns the read times.
  std::vector<MonoTime> sample(Sensor& sensor, Nanos duration, Nanos interval,
                               std::vector<double>& energy_j, std::vector<std::string>& warnings) {
    energy_j.assign(sensor.devices().size(), -1.0);
    std::vector<MonoTime> times;
    const MonoTime start = std::chrono::steady_clock::now();
    while (true) {
      const MonoTime now = std::chrono::steady_clock::now();
      sensor.read(now, energy_j, warnings);
      times.push_back(now);
      if (now - start >= duration) return times;
      std::this_thread::sleep_for(interval);
    }
  }

  std::filesystem::path script_path_;
};

// Integral of a step function (value[i] from t[i]; the first value also before t[0]) on [a, b].
double step_integral_j(const std::vector<double>& t, const std::vector<double>& w, double a,
                       double b) {
  double sum = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double lo = std::max(a, i == 0 ? -1e9 : t[i]);
    const double hi = std::min(b, i + 1 < t.size() ? t[i + 1] : 1e9);
    if (hi > lo) sum += w[i] * (hi - lo);
  }
  return sum;
}

TEST_F(NvmlSensorTest, CounterPathMatchesConstantPower) {
  script("gpu\nname NVIDIA H100 80GB HBM3\nuuid " + std::string(kUuid0) + "\npower 250\n");
  auto sensor = open();
  ASSERT_TRUE(sensor) << sensor.error().message();
  ASSERT_EQ((*sensor)->devices().size(), 1u);
  const DeviceInfo& d = (*sensor)->devices()[0];
  EXPECT_EQ((*sensor)->name(), "nvml");
  EXPECT_EQ(d.id, "gpu0");
  EXPECT_EQ(d.kind, DeviceKind::kGpu);
  EXPECT_EQ(d.name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(d.uuid, kUuid0);
  EXPECT_EQ(d.method, Method::kCounter);

  std::vector<double> energy_j;
  std::vector<std::string> warnings;
  const MonoTime first = std::chrono::steady_clock::now();
  energy_j.assign(1, -1);
  (*sensor)->read(first, energy_j, warnings);
  EXPECT_EQ(energy_j[0], 0.0);  // the first read stores zeros
  std::this_thread::sleep_for(milliseconds(400));
  const MonoTime last = std::chrono::steady_clock::now();
  (*sensor)->read(last, energy_j, warnings);
  const double expected_j = 250.0 * to_seconds(last - first);
  EXPECT_NEAR(energy_j[0], expected_j, 0.01 * expected_j);
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE((*sensor)->device_used(0));
}

TEST_F(NvmlSensorTest, PowerIntegrationPathMatchesConstantPower) {
  script("gpu\nenergy_counter no\npower 120\n");
  auto sensor = open();
  ASSERT_TRUE(sensor) << sensor.error().message();
  EXPECT_EQ((*sensor)->devices()[0].method, Method::kPowerIntegration);
  EXPECT_THAT((*sensor)->devices()[0].note, HasSubstr("no energy counter"));
  std::vector<double> energy_j;
  std::vector<std::string> warnings;
  auto times = sample(**sensor, milliseconds(400), milliseconds(50), energy_j, warnings);
  const double expected_j = 120.0 * to_seconds(times.back() - times.front());
  EXPECT_NEAR(energy_j[0], expected_j, 0.01 * expected_j);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(NvmlSensorTest, BothPathsMatchSteppedPower) {
  // GPU 0 has a counter, GPU 1 only power: 100 W, then 300 W from 0.5 s after nvmlInit.
  script("gpu\npower_steps 0:100 0.5:300\ngpu\nenergy_counter no\npower_steps 0:100 0.5:300\n");
  FakeHooks hooks(FAKE_NVML_LIBRARY);
  ASSERT_TRUE(hooks.ok());
  auto sensor = open();
  ASSERT_TRUE(sensor) << sensor.error().message();
  std::vector<double> energy_j;
  std::vector<std::string> warnings;
  auto times = sample(**sensor, milliseconds(1000), milliseconds(2), energy_j, warnings);
  const double a = hooks.fake_time_s(times.front()), b = hooks.fake_time_s(times.back());
  ASSERT_LT(a, 0.5);
  ASSERT_GT(b, 0.5);
  const double expected_j = step_integral_j({0, 0.5}, {100, 300}, a, b);
  EXPECT_NEAR(energy_j[0], expected_j, 0.01 * expected_j);
  EXPECT_NEAR(energy_j[1], expected_j, 0.01 * expected_j);
}

TEST_F(NvmlSensorTest, VisibleDevicesByIndexAndUuid) {
  script("gpu\nuuid " + std::string(kUuid0) + "\ngpu\nuuid " + kUuid1 + "\ngpu\nuuid " + kUuid2 +
         "\n");
  NvmlOptions options;
  auto all = open(options);
  ASSERT_TRUE(all) << all.error().message();
  EXPECT_THAT(ids(**all), ::testing::ElementsAre("gpu0", "gpu1", "gpu2"));
  all.value().reset();

  options.cuda_visible_devices = "2,0";
  auto by_index = open(options);
  ASSERT_TRUE(by_index) << by_index.error().message();
  EXPECT_THAT(ids(**by_index), ::testing::ElementsAre("gpu2", "gpu0"));
  by_index.value().reset();

  // A full UUID and a truncated one, as CUDA accepts them.
  options.cuda_visible_devices = std::string(kUuid2) + ",GPU-bbbb";
  auto by_uuid = open(options);
  ASSERT_TRUE(by_uuid) << by_uuid.error().message();
  EXPECT_THAT(ids(**by_uuid), ::testing::ElementsAre("gpu2", "gpu1"));
  EXPECT_EQ((*by_uuid)->devices()[1].uuid, kUuid1);
  by_uuid.value().reset();

  // CUDA stops at the first item that names no device.
  options.cuda_visible_devices = "1,7,0";
  auto truncated = open(options);
  ASSERT_TRUE(truncated) << truncated.error().message();
  EXPECT_THAT(ids(**truncated), ::testing::ElementsAre("gpu1"));
  truncated.value().reset();

  options.cuda_visible_devices = "";
  auto none = open(options);
  ASSERT_FALSE(none);
  EXPECT_THAT(none.error().message(), HasSubstr("CUDA_VISIBLE_DEVICES"));
  EXPECT_EQ(none.error().message().find('\n'), std::string::npos);

  options.cuda_visible_devices = "GPU-";  // a bare prefix names nothing
  EXPECT_FALSE(open(options));
}

TEST_F(NvmlSensorTest, ListSelectionNamesGpusByIndexOrUuid) {
  script("gpu\nuuid " + std::string(kUuid0) + "\ngpu\nuuid " + kUuid1 + "\ngpu\nuuid " + kUuid2 +
         "\n");
  auto selection = parse_gpu_selection("0, GPU-cccc");
  ASSERT_TRUE(selection) << selection.error().message();
  NvmlOptions options;
  options.gpus = *selection;
  options.cuda_visible_devices = "1";  // an explicit list is not filtered by the job's view
  auto sensor = open(options);
  ASSERT_TRUE(sensor) << sensor.error().message();
  EXPECT_THAT(ids(**sensor), ::testing::ElementsAre("gpu0", "gpu2"));
  sensor.value().reset();

  options.gpus = *parse_gpu_selection("0,5");
  auto missing = open(options);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("'5' matches no single GPU"));
}

TEST(ParseGpuSelection, ReadsModesAndLists) {
  EXPECT_EQ(parse_gpu_selection("all")->mode, GpuSelection::Mode::kVisible);
  EXPECT_EQ(parse_gpu_selection("visible")->mode, GpuSelection::Mode::kVisible);
  EXPECT_EQ(parse_gpu_selection("used")->mode, GpuSelection::Mode::kUsed);
  auto list = parse_gpu_selection("0,2,GPU-8c2e,MIG-4f1a");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->mode, GpuSelection::Mode::kList);
  EXPECT_THAT(list->list, ::testing::ElementsAre("0", "2", "GPU-8c2e", "MIG-4f1a"));
  EXPECT_FALSE(parse_gpu_selection("0,,2"));
  EXPECT_FALSE(parse_gpu_selection("first"));
  EXPECT_FALSE(parse_gpu_selection(""));
  auto bad = parse_gpu_selection("0,x");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("'x' is not a GPU index or UUID"));
}

// A child running `sleep`, killed and reaped on destruction.
class SleepChild {
 public:
  SleepChild() : pid_(::fork()) {
    if (pid_ == 0) {
      ::execlp("sleep", "sleep", "30", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~SleepChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

// Waits until the child has exec'd (its comm reads "sleep").
bool wait_for_comm(pid_t pid, const std::string& comm) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string line;
    if (std::getline(in, line) && line == comm) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

TEST_F(NvmlSensorTest, UsedSelectionKeepsOnlyGpusRunningTheJob) {
  script("gpu\npower 100\nprocess_comm sleep\ngpu\npower 100\nprocess_comm cc-no-such-comm\n");
  FakeHooks hooks(FAKE_NVML_LIBRARY);
  ASSERT_TRUE(hooks.ok());
  SleepChild job;
  ASSERT_GT(job.pid(), 0);
  ASSERT_TRUE(wait_for_comm(job.pid(), "sleep"));
  NvmlOptions options;
  options.gpus = *parse_gpu_selection("used");
  auto sensor = open(options);
  ASSERT_TRUE(sensor) << sensor.error().message();
  ASSERT_EQ((*sensor)->devices().size(), 2u);  // every visible GPU is recorded
  (*sensor)->attach_job(job.pid());

  std::vector<double> energy_j(2);
  std::vector<std::string> warnings;
  const unsigned queries_before = hooks.process_queries();
  const MonoTime t = std::chrono::steady_clock::now();
  // Process lists are read at most once a second: at +0, +1.0 and +2.1 s, not in between.
  for (double offset_s : {0.0, 0.5, 0.9, 1.0, 1.5, 2.1}) {
    (*sensor)->read(t + from_seconds(offset_s), energy_j, warnings);
  }
  EXPECT_TRUE((*sensor)->device_used(0));
  EXPECT_FALSE((*sensor)->device_used(1));
  // GPU 0 is found at the first check and not asked again; GPU 1 is asked at every check.
  EXPECT_EQ(hooks.process_queries() - queries_before, 1u + 3u);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(NvmlSensorTest, VanishedGpuKeepsItsEnergyAndWarnsOnce) {
  script("gpu\nname Lost GPU\nuuid " + std::string(kUuid0) +
         "\npower 200\nvanish_after 0.3\ngpu\npower 100\n");
  FakeHooks hooks(FAKE_NVML_LIBRARY);
  ASSERT_TRUE(hooks.ok());
  auto sensor = open();
  ASSERT_TRUE(sensor) << sensor.error().message();
  std::vector<double> energy_j;
  std::vector<std::string> warnings;
  auto times = sample(**sensor, milliseconds(600), milliseconds(10), energy_j, warnings);

  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("gpu0"));
  EXPECT_THAT(warnings[0], HasSubstr(kUuid0));
  EXPECT_THAT(warnings[0], HasSubstr("GPU is lost (NVML error 15)"));
  // GPU 0's energy stopped at its last good read, just before 0.3 s on the fake's clock.
  const double first_s = hooks.fake_time_s(times.front());
  double last_good_s = first_s;
  for (MonoTime t : times) {
    if (hooks.fake_time_s(t) < 0.3) last_good_s = hooks.fake_time_s(t);
  }
  const double lost_j = 200.0 * (last_good_s - first_s);
  EXPECT_NEAR(energy_j[0], lost_j, 0.01 * lost_j + 200.0 * 0.002);
  const double kept_j = energy_j[0];
  // GPU 1 went on, and later reads change neither GPU 0 nor the warnings.
  const double expected1_j = 100.0 * to_seconds(times.back() - times.front());
  EXPECT_NEAR(energy_j[1], expected1_j, 0.01 * expected1_j);
  (*sensor)->read(std::chrono::steady_clock::now(), energy_j, warnings);
  EXPECT_EQ(energy_j[0], kept_j);
  EXPECT_EQ(warnings.size(), 1u);
}

TEST_F(NvmlSensorTest, MissingLibraryGivesOneLineError) {
  NvmlOptions options;
  options.library_path = "/nonexistent/libnvidia-ml.so.1";
  auto sensor = open_nvml_sensor(options);
  ASSERT_FALSE(sensor);
  EXPECT_THAT(sensor.error().message(), HasSubstr("NVML not available"));
  EXPECT_THAT(sensor.error().message(), HasSubstr("/nonexistent/libnvidia-ml.so.1"));
  EXPECT_EQ(sensor.error().message().find('\n'), std::string::npos);
}

TEST_F(NvmlSensorTest, EnvironmentVariableNamesTheLibrary) {
  script("gpu\npower 10\n");
  ::setenv("CARBONCLOCK_NVML_LIBRARY", FAKE_NVML_LIBRARY, 1);
  auto sensor = open_nvml_sensor(NvmlOptions{});
  ::unsetenv("CARBONCLOCK_NVML_LIBRARY");
  ASSERT_TRUE(sensor) << sensor.error().message();
  EXPECT_EQ((*sensor)->devices().size(), 1u);
}

TEST_F(NvmlSensorTest, InitFailureAndNoGpusAreErrors) {
  script("init_error 9\n");
  auto failed = open();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message(),
            "NVML initialisation failed: Driver Not Loaded (NVML error 9)");
  script("# no gpu lines\n");
  auto none = open();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "NVML found no GPUs");
}

TEST_F(NvmlSensorTest, LegacyLibraryWithoutVersionedSymbolsWorks) {
  FakeHooks legacy(FAKE_NVML_LEGACY_LIBRARY);
  ASSERT_TRUE(legacy.ok());
  // The variant really is an old driver: no _v2/_v3 entry points, no MIG calls.
  EXPECT_EQ(::dlsym(legacy.handle(), "nvmlInit_v2"), nullptr);
  EXPECT_EQ(::dlsym(legacy.handle(), "nvmlDeviceGetComputeRunningProcesses_v3"), nullptr);
  EXPECT_EQ(::dlsym(legacy.handle(), "nvmlDeviceGetMigMode"), nullptr);
  EXPECT_NE(::dlsym(legacy.handle(), "nvmlInit"), nullptr);

  script("gpu\npower 150\nprocess_comm sleep\ngpu\npower 150\nprocess_comm cc-no-such-comm\n");
  // Several `sleep` processes, the job last, so it is not the first entry of the v1 list:
  // reading v1's 16-byte entries with a larger stride would miss it.
  SleepChild other1, other2, job;
  ASSERT_TRUE(wait_for_comm(job.pid(), "sleep"));
  ASSERT_TRUE(wait_for_comm(other2.pid(), "sleep"));
  ASSERT_TRUE(wait_for_comm(other1.pid(), "sleep"));
  NvmlOptions options;
  options.gpus = *parse_gpu_selection("used");
  auto sensor = open(options, FAKE_NVML_LEGACY_LIBRARY);
  ASSERT_TRUE(sensor) << sensor.error().message();
  (*sensor)->attach_job(job.pid());
  std::vector<double> energy_j;
  std::vector<std::string> warnings;
  auto times = sample(**sensor, milliseconds(300), milliseconds(50), energy_j, warnings);
  const double expected_j = 150.0 * to_seconds(times.back() - times.front());
  EXPECT_NEAR(energy_j[0], expected_j, 0.01 * expected_j);
  EXPECT_TRUE((*sensor)->device_used(0));
  EXPECT_FALSE((*sensor)->device_used(1));
  EXPECT_TRUE(warnings.empty());
}

TEST_F(NvmlSensorTest, MigShareIsAnEstimate) {
  // Four MIG devices; the job holds the one with index 2 (the fake derives MIG UUIDs from
  // the parent's, the last digit being the MIG index).
  script("gpu\nuuid " + std::string(kUuid0) + "\npower 200\nmig 4\ngpu\nuuid " + kUuid1 +
         "\npower 50\n");
  NvmlOptions options;
  options.cuda_visible_devices = "MIG-aaaa1111-0000-0000-0000-000000000002";
  auto sensor = open(options);
  ASSERT_TRUE(sensor) << sensor.error().message();
  ASSERT_THAT(ids(**sensor), ::testing::ElementsAre("gpu0"));
  const DeviceInfo& d = (*sensor)->devices()[0];
  EXPECT_EQ(d.method, Method::kEstimate);
  EXPECT_THAT(d.note, HasSubstr("1 of the GPU's 4 MIG devices"));
  std::vector<double> energy_j;
  std::vector<std::string> warnings;
  auto times = sample(**sensor, milliseconds(300), milliseconds(50), energy_j, warnings);
  const double expected_j = 200.0 / 4 * to_seconds(times.back() - times.front());
  EXPECT_NEAR(energy_j[0], expected_j, 0.01 * expected_j);
}

// Trapezoid integral of (t, w) samples over [a, b], linear between samples.
double trace_integral_j(const std::vector<double>& t, const std::vector<double>& w, double a,
                        double b) {
  auto at = [&](double x) {
    auto it = std::upper_bound(t.begin(), t.end(), x);
    if (it == t.begin()) return w.front();
    if (it == t.end()) return w.back();
    const size_t i = static_cast<size_t>(it - t.begin()) - 1;
    return w[i] + (w[i + 1] - w[i]) * (x - t[i]) / (t[i + 1] - t[i]);
  };
  double sum = 0;
  double x = a;
  for (size_t i = 0; i < t.size() && x < b; ++i) {
    if (t[i] <= x) continue;
    const double next = std::min(t[i], b);
    sum += 0.5 * (at(x) + at(next)) * (next - x);
    x = next;
  }
  if (x < b) sum += w.back() * (b - x);
  return sum;
}

// GPU `gpu` of an nvidia-smi trace with `gpus` GPUs interleaved, read independently of the
// fake's parser: seconds since that GPU's first row, and watts.
void read_trace(const std::string& path, int gpu, int gpus, std::vector<double>& t_s,
                std::vector<double>& power_w) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  double first_s = -1;
  for (int row = 0; std::getline(in, line); ++row) {
    if (row % gpus != gpu) continue;
    int y, mo, d, h, mi;
    double s, w;
    ASSERT_EQ(std::sscanf(line.c_str(), "%d/%d/%d %d:%d:%lf, %lf", &y, &mo, &d, &h, &mi, &s, &w), 7)
        << line;
    const double day_s = h * 3600.0 + mi * 60.0 + s;  // the trace stays within one day
    if (first_s < 0) first_s = day_s;
    t_s.push_back(day_s - first_s);
    power_w.push_back(w);
  }
}

TEST_F(NvmlSensorTest, ReplayedTraceMatchesTheTracesOwnIntegral) {
  const std::string trace =
      std::string(CARBONCLOCK_SHARED_DATA) +
      "/training_profile/titanx-traces/power-trace_2gpu_2025-12-05-02-37-06.csv";
  if (!std::filesystem::exists(trace)) {
    GTEST_SKIP() << "shared data absent (" << trace << "); CARBONCLOCK_SHARED_DATA is "
                 << CARBONCLOCK_SHARED_DATA;
  }
  // Trace seconds 60..90 (training), played 20 times faster: GPU 0 by its counter, GPU 1
  // by integrating power.
  constexpr double kOffsetS = 60, kSpeed = 20;
  script("gpu\npower_trace " + trace + " gpu=0 gpus=2 offset=60 speed=20\n" +
         "gpu\nenergy_counter no\npower_trace " + trace + " gpu=1 gpus=2 offset=60 speed=20\n");
  FakeHooks hooks(FAKE_NVML_LIBRARY);
  ASSERT_TRUE(hooks.ok());
  auto sensor = open();
  ASSERT_TRUE(sensor) << sensor.error().message();
  std::vector<double> energy_j;
  std::vector<std::string> warnings;
  auto times = sample(**sensor, milliseconds(1500), milliseconds(2), energy_j, warnings);
  const double a = kOffsetS + kSpeed * hooks.fake_time_s(times.front());
  const double b = kOffsetS + kSpeed * hooks.fake_time_s(times.back());
  for (int gpu = 0; gpu < 2; ++gpu) {
    std::vector<double> t_s, power_w;
    read_trace(trace, gpu, 2, t_s, power_w);
    ASSERT_EQ(t_s.size(), 4093u);
    // The trace's energy over the window, delivered in 1/kSpeed of the time.
    const double expected_j = trace_integral_j(t_s, power_w, a, b) / kSpeed;
    EXPECT_GT(expected_j, 20.0 * (b - a) / kSpeed) << "the window should be under load";
    EXPECT_NEAR(energy_j[gpu], expected_j, 0.01 * expected_j) << "gpu" << gpu;
  }
  EXPECT_TRUE(warnings.empty());
}

// A child that names itself `comm` (prctl, no exec) and waits to be killed.
class NamedChild {
 public:
  explicit NamedChild(const std::string& comm) : pid_(::fork()) {
    if (pid_ == 0) {
      ::prctl(PR_SET_NAME, comm.c_str());
      while (true) ::pause();
    }
  }
  ~NamedChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  NamedChild(const NamedChild&) = delete;
  NamedChild& operator=(const NamedChild&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

TEST_F(NvmlSensorTest, GpuProcessesListEachProcessWithItsUtilisation) {
  NamedChild a("cc-nvt-a"), b("cc-nvt-b"), c("cc-nvt-c");
  ASSERT_TRUE(wait_for_comm(a.pid(), "cc-nvt-a"));
  ASSERT_TRUE(wait_for_comm(b.pid(), "cc-nvt-b"));
  ASSERT_TRUE(wait_for_comm(c.pid(), "cc-nvt-c"));
  script(
      "gpu\npower 100\nprocess_comm cc-nvt-a sm=75\nprocess_comm cc-nvt-b\n"
      "gpu\npower 100\nprocess_comm cc-nvt-c sm=40\n");
  for (const char* library : {FAKE_NVML_LIBRARY, FAKE_NVML_LEGACY_LIBRARY}) {
    auto sensor = open({}, library);
    ASSERT_TRUE(sensor) << sensor.error().message();
    auto* source = dynamic_cast<GpuProcessSource*>(sensor->get());
    ASSERT_NE(source, nullptr);
    for (int call = 0; call < 2; ++call) {  // fresh samples at every call
      auto gpu0 = source->gpu_processes(0);
      ASSERT_TRUE(gpu0) << gpu0.error().message();
      ASSERT_EQ(gpu0->size(), 2u) << library;
      EXPECT_EQ((*gpu0)[0].pid, a.pid());
      EXPECT_EQ((*gpu0)[0].sm_util_pct, 75.0);
      EXPECT_EQ((*gpu0)[1].pid, b.pid());
      EXPECT_FALSE((*gpu0)[1].sm_util_pct.has_value());  // no sample for it
      auto gpu1 = source->gpu_processes(1);
      ASSERT_TRUE(gpu1) << gpu1.error().message();
      ASSERT_EQ(gpu1->size(), 1u);
      EXPECT_EQ((*gpu1)[0].pid, c.pid());
      EXPECT_EQ((*gpu1)[0].sm_util_pct, 40.0);
    }
    EXPECT_TRUE(source->responding(0));
  }
}

TEST_F(NvmlSensorTest, LostGpuListsNoProcessesAndSaysWhy) {
  script("gpu\nname Lost GPU\npower 100\nvanish_after 0\n");
  auto sensor = open();
  ASSERT_TRUE(sensor) << sensor.error().message();
  auto* source = dynamic_cast<GpuProcessSource*>(sensor->get());
  ASSERT_NE(source, nullptr);
  auto list = source->gpu_processes(0);
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(list.error().message(), HasSubstr("on gpu0 ("));
  EXPECT_THAT(list.error().message(), HasSubstr("GPU is lost"));
}

TEST_F(NvmlSensorTest, ReturningGpuIsCountedOnOnlyWhenRetrying) {
  // GPU 0 has a counter, GPU 1 integrates power; both are lost from 0.2 to 0.5 s.
  script(
      "gpu\npower 100\nvanish_during 0.2 0.5\n"
      "gpu\nenergy_counter no\npower 100\nvanish_during 0.2 0.5\n");
  FakeHooks hooks(FAKE_NVML_LIBRARY);
  ASSERT_TRUE(hooks.ok());
  {
    NvmlOptions options;
    options.retry_lost_after = milliseconds(50);
    auto sensor = open(options);
    ASSERT_TRUE(sensor) << sensor.error().message();
    std::vector<double> energy_j;
    std::vector<std::string> warnings;
    auto times = sample(**sensor, milliseconds(800), milliseconds(5), energy_j, warnings);
    ASSERT_EQ(warnings.size(), 4u);  // lost and back, for each GPU
    EXPECT_THAT(warnings[0], HasSubstr("until it answers again"));
    EXPECT_THAT(warnings[2], HasSubstr("gpu0"));
    EXPECT_THAT(warnings[2], HasSubstr("answers again"));
    auto* source = dynamic_cast<GpuProcessSource*>(sensor->get());
    EXPECT_TRUE(source->responding(0));
    EXPECT_TRUE(source->responding(1));
    // The counter kept running while the GPU was lost: all of it is counted.
    const double first_s = hooks.fake_time_s(times.front());
    const double last_s = hooks.fake_time_s(times.back());
    EXPECT_NEAR(energy_j[0], 100.0 * (last_s - first_s), 0.01 * 100.0 * (last_s - first_s));
    // Power integration skips the gap, from the last read before it to the first after it.
    double before_s = first_s, after_s = last_s;
    for (MonoTime t : times) {
      const double s = hooks.fake_time_s(t);
      if (s < 0.2) before_s = s;
      if (s >= 0.5 && s < after_s) after_s = s;
    }
    // Retries come every 50 ms, so the first good one is at most 50 ms + a read after 0.5 s.
    EXPECT_LT(after_s, 0.5 + 0.05 + 0.05);
    const double integrated_s = (last_s - first_s) - (after_s - before_s);
    EXPECT_LT(energy_j[1], energy_j[0] - 100.0 * 0.25);
    EXPECT_NEAR(energy_j[1], 100.0 * integrated_s, 100.0 * 0.06);
  }
  {
    auto sensor = open();  // a run: a lost GPU stays lost
    ASSERT_TRUE(sensor) << sensor.error().message();
    std::vector<double> energy_j;
    std::vector<std::string> warnings;
    auto times = sample(**sensor, milliseconds(700), milliseconds(5), energy_j, warnings);
    EXPECT_EQ(warnings.size(), 2u);
    EXPECT_LT(energy_j[0], 100.0 * 0.21);
    auto* source = dynamic_cast<GpuProcessSource*>(sensor->get());
    EXPECT_FALSE(source->responding(0));
  }
}

}  // namespace
}  // namespace carbonclock

#include "exporter/node_meter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/units.h"
#include "exporter/proc_files.h"
#include "exporter/test_proc.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const SysTime kT0 = parse_utc("2026-03-02T00:00:00Z").value();
const JobKey kA{Scheduler::kSlurm, "101"};
const JobKey kB{Scheduler::kCarbonclock, "run-b"};

// Devices whose cumulative energy the test sets; GPUs list the processes the test sets.
class ScriptedSensor final : public Sensor, public GpuProcessSource {
 public:
  explicit ScriptedSensor(std::vector<DeviceInfo> devices)
      : devices_(std::move(devices)),
        energy_j(devices_.size(), 0.0),
        processes(devices_.size()),
        up(devices_.size(), true) {}
  std::string name() const override { return "scripted"; }
  const std::vector<DeviceInfo>& devices() const override { return devices_; }
  void read(MonoTime, std::span<double> out, std::vector<std::string>& warnings) override {
    for (size_t i = 0; i < out.size(); ++i) out[i] = energy_j[i];
    for (auto& w : pending_warnings) warnings.push_back(std::move(w));
    pending_warnings.clear();
  }
  Result<std::vector<GpuProcess>> gpu_processes(size_t index) override {
    if (!up[index]) return make_error(ErrorCode::kUnavailable, "lost");
    return processes[index];
  }
  bool responding(size_t index) const override { return up[index]; }

  std::vector<DeviceInfo> devices_;
  std::vector<double> energy_j;
  std::vector<std::vector<GpuProcess>> processes;
  std::vector<bool> up;
  std::vector<std::string> pending_warnings;
};

DeviceInfo device(const char* id, DeviceKind kind) {
  return {id, kind, id, Method::kCounter, "", ""};
}

class NodeMeterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("cc_node_meter_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    proc_ = std::make_unique<FakeProc>(dir_ / "fake");
    // 100 g/kWh until kT0 + 1h, then 300 g/kWh.
    auto store = GridStore::open(dir_ / "db.sqlite");
    ASSERT_TRUE(store) << store.error().message();
    IntensitySeries s;
    s.zone = "DE";
    s.source = "test";
    s.points = {{kT0, 1h, 100, false}, {kT0 + 1h, 1h, 300, false}};
    ASSERT_TRUE(store->import({s}, "test"));
    IntensityFeedOptions o;
    o.zone = select_zone(std::nullopt, std::string("DE")).value();
    o.db = (dir_ / "db.sqlite").string();
    feed_ = std::make_unique<IntensityFeed>(o, ctx_);
    feed_->refresh(clock_.system_now());
  }
  void TearDown() override {
    meter_.reset();
    feed_.reset();
    proc_.reset();
    fs::remove_all(dir_);
  }

  // A meter over GPUs gpu0, gpu1 and a CPU package, PUE 1.5, listing /proc every `rescan`.
  NodeMeter& meter(NodeMeterOptions options = {}, Nanos rescan = JobTrackerOptions{}.rescan) {
    auto sensor = std::make_unique<ScriptedSensor>(
        std::vector<DeviceInfo>{device("gpu0", DeviceKind::kGpu), device("gpu1", DeviceKind::kGpu),
                                device("cpu0-package", DeviceKind::kCpu)});
    sensor_ = sensor.get();
    std::vector<std::unique_ptr<Sensor>> sensors;
    sensors.push_back(std::move(sensor));
    JobTrackerOptions jobs;
    jobs.proc_root = proc_->proc();
    jobs.cgroup_root = proc_->cgroup();
    jobs.rescan = rescan;
    options.pue = 1.5;
    meter_ = std::make_unique<NodeMeter>(std::move(sensors), std::make_unique<JobTracker>(jobs),
                                         *feed_, clock_, observer_, options);
    return *meter_;
  }

  static const JobSnapshot* job(const NodeSnapshot& s, const JobKey& key) {
    for (const JobSnapshot& j : s.jobs) {
      if (j.key == key) return &j;
    }
    return nullptr;
  }

  fs::path dir_;
  std::unique_ptr<FakeProc> proc_;
  ManualClock clock_{kT0 + 59min};
  RecordingObserver observer_;
  AppContext ctx_{clock_, nullptr,
                  [](const char*) -> std::optional<std::string> { return std::nullopt; },
                  observer_};
  std::unique_ptr<IntensityFeed> feed_;
  std::unique_ptr<NodeMeter> meter_;
  ScriptedSensor* sensor_ = nullptr;
};

TEST_F(NodeMeterTest, CountersAndGramsAreExactAgainstTheIntensityInForce) {
  NodeMeter& m = meter();
  sensor_->energy_j = {5000, 7000, 100};  // whatever the sensors read first is the baseline
  m.step(true);
  // Two minutes across the 100 -> 300 g/kWh boundary: 1 kWh on each GPU, none on the CPU.
  sensor_->energy_j = {5000 + kJoulesPerKwh, 7000 + kJoulesPerKwh, 100};
  clock_.advance(2min);
  m.step(false);
  const NodeSnapshot s = m.snapshot();
  ASSERT_EQ(s.devices.size(), 3u);
  EXPECT_DOUBLE_EQ(s.devices[0].energy_j, kJoulesPerKwh);
  EXPECT_DOUBLE_EQ(s.devices[1].energy_j, kJoulesPerKwh);
  EXPECT_EQ(s.devices[2].energy_j, 0.0);
  // 2 kWh, half at 100 and half at 300 g/kWh, times PUE 1.5.
  ASSERT_EQ(s.emissions_g.size(), 1u);
  const auto& [key, grams] = *s.emissions_g.begin();
  EXPECT_EQ(key, (EmissionKey{"average", "lifecycle"}));
  EXPECT_NEAR(grams, 1.5 * (100 + 300), 1e-9);
  ASSERT_EQ(s.priced_energy_j.size(), 1u);
  EXPECT_EQ(s.priced_energy_j.begin()->first.provenance, "stored");
  EXPECT_NEAR(s.priced_energy_j.begin()->second, 2 * kJoulesPerKwh, 1e-6);
  EXPECT_EQ(s.zone, "DE");
  EXPECT_EQ(s.pue, 1.5);
  EXPECT_EQ(s.intensity.g_per_kwh, 300);
  EXPECT_EQ(s.steps, 2u);
  EXPECT_EQ(s.attributing_steps, 0u);  // the first step only set baselines
}

TEST_F(NodeMeterTest, JobsGetTheirGpusEnergyAndCpuEnergyByCpuTime) {
  proc_->add_process(100, "", "SLURM_JOB_ID=101\n");
  proc_->add_process(200, "", "CARBONCLOCK_RUN_ID=run-b\n");
  proc_->add_process(300, "", "HOME=/root\n");  // no job
  NodeMeter& m = meter();
  m.step(true);
  // Job A runs on gpu0, job B on gpu1 alongside a process of no job that uses a quarter.
  sensor_->processes[0] = {{100, 90.0}};
  sensor_->processes[1] = {{200, 75.0}, {300, 25.0}};
  // The node was busy 200 ticks: job A 100 of them, job B 50.
  const auto ticks = [](double s) {
    return static_cast<unsigned long long>(s * clock_ticks_per_s());
  };
  proc_->set_node(ticks(2.0), 0);
  proc_->set_cpu(100, ticks(0.5), ticks(0.5));
  proc_->set_cpu(200, ticks(0.5), 0);
  sensor_->energy_j = {250, 300, 80};
  clock_.advance(1s);
  m.step(false);  // a scrape: devices and grams only
  EXPECT_TRUE(m.snapshot().jobs.empty());
  sensor_->energy_j = {500, 600, 160};
  clock_.advance(1s);
  m.step(true);  // the sampler: everything since the last attribution is split
  const NodeSnapshot s = m.snapshot();
  const JobSnapshot* a = job(s, kA);
  const JobSnapshot* b = job(s, kB);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(s.jobs.size(), 2u);
  EXPECT_DOUBLE_EQ(a->device_energy_j[0], 500);  // all of gpu0
  EXPECT_EQ(a->device_energy_j[1], 0);
  EXPECT_DOUBLE_EQ(a->device_energy_j[2], 160 * 0.5);  // 1 of the node's 2 busy seconds
  EXPECT_EQ(b->device_energy_j[0], 0);
  EXPECT_DOUBLE_EQ(b->device_energy_j[1], 600 * 0.75);
  EXPECT_DOUBLE_EQ(b->device_energy_j[2], 160 * 0.25);
  // Grams follow the energy: all at 100 g/kWh (before kT0 + 1h), times PUE 1.5.
  const double g_per_j = 100 * 1.5 / kJoulesPerKwh;
  EXPECT_NEAR(a->grams.at({"average", "lifecycle"}), (500 + 80) * g_per_j, 1e-12);
  EXPECT_NEAR(b->grams.at({"average", "lifecycle"}), (450 + 40) * g_per_j, 1e-12);
  // Jobs plus what no job used is the devices' energy: gpu0 entirely, gpu1 but the quarter.
  EXPECT_DOUBLE_EQ(a->device_energy_j[0] + b->device_energy_j[0], s.devices[0].energy_j);
  EXPECT_DOUBLE_EQ(a->device_energy_j[1] + b->device_energy_j[1] + 600 * 0.25,
                   s.devices[1].energy_j);
  EXPECT_DOUBLE_EQ(s.devices[0].power_w, 250);  // over the 2 s since the last attribution
  EXPECT_DOUBLE_EQ(s.devices[1].power_w, 300);
}

TEST_F(NodeMeterTest, EndedJobsDropOutAfterTheGraceAndJobsPastTheCapShareOneSeries) {
  proc_->add_process(100, "", "SLURM_JOB_ID=101\n");
  proc_->add_process(200, "", "CARBONCLOCK_RUN_ID=run-b\n");
  NodeMeterOptions options;
  options.max_jobs = 1;
  options.job_grace = 10s;
  NodeMeter& m = meter(options);
  m.step(true);
  sensor_->processes[0] = {{100, std::nullopt}};
  sensor_->processes[1] = {{200, std::nullopt}};
  sensor_->energy_j = {100, 100, 0};
  clock_.advance(1s);
  m.step(true);
  NodeSnapshot s = m.snapshot();
  ASSERT_EQ(s.jobs.size(), 2u);  // job A, and job B counted as the overflow
  EXPECT_EQ(s.jobs[0].key, kA);
  EXPECT_EQ(s.jobs[1].key, (JobKey{Scheduler::kOverflow, "overflow"}));
  EXPECT_DOUBLE_EQ(s.jobs[1].device_energy_j[1], 100);

  // Both end. Their series stay for the grace period, then go; the energy stays in the devices.
  proc_->remove_process(100);
  proc_->remove_process(200);
  sensor_->processes = {{}, {}, {}};
  sensor_->energy_j = {200, 200, 0};
  clock_.advance(5s);
  m.step(true);
  EXPECT_EQ(m.snapshot().jobs.size(), 2u);
  clock_.advance(6s);
  m.step(true);
  s = m.snapshot();
  EXPECT_TRUE(s.jobs.empty());
  EXPECT_EQ(s.jobs_expired, 2u);
  EXPECT_DOUBLE_EQ(s.devices[0].energy_j, 200);
}

// Sampling every second and listing /proc every 5 s: a job that starts between listings gets
// CPU energy from the next listing on, a GPU process gets its GPU's energy at once (the tracker
// identifies a process NVML lists when it first sees it), and ended jobs drop out after the
// grace period.
TEST_F(NodeMeterTest, WithARescanIntervalJobsAreAttributedAndEndedJobsDropAfterTheGrace) {
  const JobKey c{Scheduler::kSlurm, "303"};
  const auto tps = static_cast<unsigned long long>(clock_ticks_per_s());
  proc_->add_process(100, "", "SLURM_JOB_ID=101\n");
  NodeMeterOptions options;
  options.job_grace = 10s;
  NodeMeter& m = meter(options, 5s);
  m.step(true);                                               // t = 0: a listing, baselines
  proc_->add_process(200, "", "CARBONCLOCK_RUN_ID=run-b\n");  // job B, CPU only
  proc_->add_process(300, "", "SLURM_JOB_ID=303\n");          // job C, on gpu0
  sensor_->processes[0] = {{300, std::nullopt}};
  // Each second: the node busy one CPU second, half of it job A's and half job B's; 100 J on
  // the CPU package and on gpu0.
  std::vector<double> b_cpu_j;
  for (unsigned long long t = 1; t <= 6; ++t) {
    proc_->set_node(t * tps, 0);
    proc_->set_cpu(100, t * tps / 2, 0);
    proc_->set_cpu(200, t * tps / 2, 0);
    sensor_->energy_j = {100.0 * t, 0, 100.0 * t};
    clock_.advance(1s);
    m.step(true);
    const NodeSnapshot now = m.snapshot();  // job() points into it: keep it alive
    const JobSnapshot* b = job(now, kB);
    b_cpu_j.push_back(b == nullptr ? 0.0 : b->device_energy_j[2]);
  }
  NodeSnapshot s = m.snapshot();
  ASSERT_NE(job(s, kA), nullptr);
  ASSERT_NE(job(s, kB), nullptr);
  ASSERT_NE(job(s, c), nullptr);
  EXPECT_DOUBLE_EQ(job(s, kA)->device_energy_j[2], 6 * 50.0);  // half of every second
  // B: nothing before the listing at t = 5, which takes its baseline; half of t = 6.
  EXPECT_EQ(b_cpu_j, (std::vector<double>{0, 0, 0, 0, 0, 50}));
  EXPECT_DOUBLE_EQ(job(s, c)->device_energy_j[0], 600);  // gpu0 from the first second

  // All end at t = 6. Their series stay for the 10 s grace, then go; energy stays in devices.
  for (int pid : {100, 200, 300}) proc_->remove_process(pid);
  sensor_->processes[0] = {};
  for (int t = 7; t <= 16; ++t) {
    clock_.advance(1s);
    m.step(true);
    ASSERT_EQ(m.snapshot().jobs.size(), 3u) << "t = " << t;
  }
  clock_.advance(1s);
  m.step(true);
  s = m.snapshot();
  EXPECT_TRUE(s.jobs.empty());
  EXPECT_EQ(s.jobs_expired, 3u);
  EXPECT_DOUBLE_EQ(s.devices[2].energy_j, 600);
}

TEST_F(NodeMeterTest, ALostGpuIsDownAndSensorWarningsAreCountedBySensor) {
  NodeMeter& m = meter();
  m.step(true);
  sensor_->up[1] = false;
  sensor_->pending_warnings = {"nvml: gpu1 stopped responding"};
  sensor_->energy_j = {10, 0, 0};
  clock_.advance(1s);
  m.step(true);
  const NodeSnapshot s = m.snapshot();
  EXPECT_TRUE(s.devices[0].up);
  EXPECT_FALSE(s.devices[1].up);
  EXPECT_EQ(s.errors.at("scripted"), 1u);
  ASSERT_EQ(observer_.warnings.size(), 1u);
  EXPECT_EQ(observer_.warnings[0], "nvml: gpu1 stopped responding");
}

TEST_F(NodeMeterTest, ASensorGoingBackwardsNeverDecreasesACounter) {
  NodeMeter& m = meter();
  sensor_->energy_j = {100, 0, 0};
  m.step(true);
  sensor_->energy_j = {50, 0, 0};
  clock_.advance(1s);
  m.step(false);
  EXPECT_EQ(m.snapshot().devices[0].energy_j, 0.0);
  sensor_->energy_j = {120, 0, 0};
  clock_.advance(1s);
  m.step(false);
  EXPECT_DOUBLE_EQ(m.snapshot().devices[0].energy_j, 20);  // counted from the highest reading
}

}  // namespace
}  // namespace carbonclock

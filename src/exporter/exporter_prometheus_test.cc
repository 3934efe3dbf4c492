// End-to-end test of `carbonclock exporter` against a real Prometheus server (Debian's
// `prometheus` package, which scripts/setup.sh installs): the fixture starts it on 127.0.0.1
// with a 1 s scrape interval and a temporary TSDB, and the test checks what PromQL answers
// against the fake NVML library's scripted power and against what the exporter's own meter
// accounted. Where no prometheus binary is installed the test is skipped, saying so.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/time.h"
#include "exporter/exporter_test_support.h"
#include "sensors/fake_sysfs.h"

extern char** environ;

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr double kIntensity = 400;  // g/kWh, imported for every hour around the test
constexpr double kPue = 1.5;
constexpr double kPowerSeconds = 18;  // the fake GPUs draw 250 and 300 W this long, then 0

// $PROMETHEUS, else `prometheus` on $PATH; empty when there is none.
fs::path find_prometheus() {
  if (const char* p = std::getenv("PROMETHEUS"); p != nullptr && *p != '\0') {
    return ::access(p, X_OK) == 0 ? fs::path(p) : fs::path();
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / "prometheus";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

// A loopback port nobody listens on now (bound, read and released).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A child process started with posix_spawn, killed and reaped when it goes out of scope.
class Child {
 public:
  Child(const fs::path& program, std::vector<std::string> args,
        const std::vector<std::string>& extra_env, const fs::path& log) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    args.insert(args.begin(), program.string());
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() { stop(SIGKILL); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  int stop(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    const int rc = CliHarness::wait_exit(pid_);
    pid_ = -1;
    return rc;
  }

 private:
  pid_t pid_ = -1;
};

// One sample of an instant query: its labels and value.
struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

class ExporterPrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prometheus_ = find_prometheus();
    if (prometheus_.empty()) {
      GTEST_SKIP() << "no prometheus binary (install Debian's `prometheus` package, as "
                      "scripts/setup.sh does, or set $PROMETHEUS): the end-to-end test against a "
                      "real Prometheus server is skipped";
    }
    dir_ = fresh_test_dir("cc_exporter_prom");
    cli_ = CliHarness(dir_);
    sysfs_ = std::make_unique<FakeSysfs>(dir_ / "sysfs");
    // RAPL counters that stay still: all the node's energy is the GPUs'.
    sysfs_->add_zone("0", "package-0", 1'000'000);
    sysfs_->add_zone("0:0", "dram", 1'000'000);
    cli_.env = {{"CARBONCLOCK_NVML_LIBRARY", FAKE_NVML_LIBRARY},
                {"FAKE_NVML_SCRIPT", (dir_ / "nvml.script").string()},
                {"CARBONCLOCK_SYSFS_ROOT", sysfs_->root().string()},
                {"CARBONCLOCK_DB", (dir_ / "carbonclock.db").string()},
                {"CARBONCLOCK_ZONE", std::nullopt},
                {"CARBONCLOCK_REGION", std::nullopt}};
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Imports kIntensity g/kWh for TESTZONE, hourly, from two hours ago for six hours.
  void import_intensity() {
    auto t = std::chrono::floor<std::chrono::hours>(std::chrono::system_clock::now()) - 2h;
    {
      std::ofstream f(dir_ / "intensity.csv");
      f << "Time,Carbon Intensity\n";
      for (int i = 0; i < 6; ++i, t += 1h) f << format_utc(t) << "," << kIntensity << "\n";
    }
    ASSERT_EQ(cli_.run({"grid", "import", (dir_ / "intensity.csv").string(), "--format", "csv",
                        "--zone", "TESTZONE", "--signal", "average", "--step", "1h"}),
              0)
        << cli_.err();
  }

  // Starts Prometheus on a free loopback port, scraping `target` every second into a
  // temporary TSDB, and waits until it is ready.
  void start_prometheus(const std::string& target) {
    std::ofstream(dir_ / "prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        // honor_labels: the exporter's own `job` label (the Slurm job, the pod, the run) stays
        // `job` instead of becoming `exported_job`; docs/exporter.md says the same.
        << "scrape_configs:\n  - job_name: carbonclock\n    honor_labels: true\n"
        << "    static_configs:\n"
        << "      - targets: ['" << target << "']\n";
    prometheus_port_ = free_port();
    server_ = std::make_unique<Child>(
        prometheus_,
        std::vector<std::string>{
            "--config.file=" + (dir_ / "prometheus.yml").string(),
            "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
            fmt::format("--web.listen-address=127.0.0.1:{}", prometheus_port_)},
        std::vector<std::string>{}, dir_ / "prometheus.log");
    ASSERT_GT(server_->pid(), 0) << "cannot start " << prometheus_;
    for (int i = 0; i < 600; ++i) {
      httplib::Client client("127.0.0.1", prometheus_port_);
      if (auto r = client.Get("/-/ready"); r && r->status == 200) break;
      std::this_thread::sleep_for(100ms);
    }
    // Prometheus hands discovered targets to its scrapers at most every 5 s: wait for the first
    // (failed) scrape, so that scrapes come every second from the moment the exporter is up.
    for (int i = 0; i < 600; ++i) {
      httplib::Client client("127.0.0.1", prometheus_port_);
      if (auto r = client.Get("/api/v1/targets"); r && r->status == 200) {
        const auto targets = nlohmann::json::parse(r->body)["data"]["activeTargets"];
        if (!targets.empty() && targets[0].value("health", "unknown") != "unknown") return;
      }
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "prometheus did not scrape " << target << " within 60 s:\n" << prometheus_log();
  }

  std::string prometheus_log() const {
    auto text = read_file(dir_ / "prometheus.log");
    return text ? *text : "";
  }

  // An instant query at `at` (seconds since the epoch; 0: now).
  std::vector<Sample> query(const std::string& expr, double at = 0) {
    httplib::Client client("127.0.0.1", prometheus_port_);
    client.set_read_timeout(30, 0);
    httplib::Params params{{"query", expr}};
    if (at > 0) params.emplace("time", fmt::format("{:.3f}", at));
    auto r = client.Get("/api/v1/query", params, httplib::Headers{});
    std::vector<Sample> out;
    if (!r || r->status != 200) {
      ADD_FAILURE() << expr << ": " << (r ? r->body : "no answer");
      return out;
    }
    const auto j = nlohmann::json::parse(r->body);
    for (const auto& s : j["data"]["result"]) {
      Sample sample;
      for (const auto& [k, v] : s["metric"].items()) sample.labels[k] = v.get<std::string>();
      sample.value = std::stod(s["value"][1].get<std::string>());
      out.push_back(std::move(sample));
    }
    return out;
  }
  // The single value of a query that must give exactly one sample (NaN otherwise).
  double query_one(const std::string& expr, double at = 0) {
    auto samples = query(expr, at);
    EXPECT_EQ(samples.size(), 1u) << expr;
    return samples.size() == 1 ? samples[0].value : std::nan("");
  }

  fs::path prometheus_;
  int prometheus_port_ = 0;
  std::unique_ptr<Child> server_;
  fs::path dir_;
  CliHarness cli_{""};
  std::unique_ptr<FakeSysfs> sysfs_;
};

double epoch_s(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// Two Slurm jobs (101 and 102), each the only process on its own fake GPU (250 and 300 W for
// 18 s, then idle), under an exporter pricing TESTZONE's imported 400 g/kWh with PUE 1.5;
// Prometheus scrapes it every second.
TEST_F(ExporterPrometheusTest, PromqlGivesDeviceAndJobJoulesAndGramsTheMeterAccounted) {
  import_intensity();
  // Job processes named for the fake's process lists: `sleep` under names of their own.
  fs::path sleep_binary = "/bin/sleep";
  ASSERT_TRUE(fs::exists(sleep_binary));
  fs::create_symlink(sleep_binary, dir_ / "cc-job-a");
  fs::create_symlink(sleep_binary, dir_ / "cc-job-b");
  Child job_a(dir_ / "cc-job-a", {"300"}, {"SLURM_JOB_ID=101"}, dir_ / "job-a.log");
  Child job_b(dir_ / "cc-job-b", {"300"}, {"SLURM_JOB_ID=102"}, dir_ / "job-b.log");
  ASSERT_GT(job_a.pid(), 0);
  ASSERT_GT(job_b.pid(), 0);
  std::ofstream(dir_ / "nvml.script") << fmt::format(
      "gpu\nname Fake H100\npower_steps 0:250 {0}:0\nprocess_comm cc-job-a sm=90\n"
      "gpu\nname Fake H100\npower_steps 0:300 {0}:0\nprocess_comm cc-job-b sm=60\n",
      kPowerSeconds);

  const int exporter_port = free_port();
  const std::string target = fmt::format("127.0.0.1:{}", exporter_port);
  start_prometheus(target);
  ExporterProcess exporter(
      cli_, {"--zone", "TESTZONE", "--pue", fmt::format("{}", kPue), "--interval", "1s"}, target);
  // The fake's time zero is the exporter's nvmlInit, just before it prints its address.
  const auto t0 = std::chrono::system_clock::now();
  ASSERT_TRUE(exporter.running()) << exporter.err();

  // 1. While the GPUs draw, rate() over 10 s of 1 s scrapes gives their power.
  const double at = epoch_s(t0 + 14s);
  std::this_thread::sleep_until(t0 + 15s);
  EXPECT_GE(query_one("count_over_time(carbonclock_device_energy_joules_total{device=\"gpu0\"}"
                      "[10s])",
                      at),
            8)
      << "scrapes missing:\n"
      << prometheus_log();
  for (const auto& [device, watts] : {std::pair{"gpu0", 250.0}, std::pair{"gpu1", 300.0}}) {
    EXPECT_NEAR(query_one(fmt::format("rate(carbonclock_device_energy_joules_total{{device=\"{}\"}}"
                                      "[10s])",
                                      device),
                          at),
                watts, 0.02 * watts)
        << device;
  }
  // increase() of the emissions is the node's energy times the imported intensity times PUE.
  const double window_j =
      query_one("sum(increase(carbonclock_device_energy_joules_total[10s]))", at);
  EXPECT_GT(window_j, 0);
  EXPECT_NEAR(query_one("increase(carbonclock_emissions_grams_total[10s])", at),
              window_j / 3.6e6 * kIntensity * kPue, 1e-6 * window_j / 3.6e6 * kIntensity * kPue);
  auto intensity = query("carbonclock_grid_carbon_intensity_grams_per_kwh", at);
  ASSERT_EQ(intensity.size(), 1u);
  EXPECT_EQ(intensity[0].labels["zone"], "TESTZONE");
  EXPECT_EQ(intensity[0].labels["provenance"], "stored");
  EXPECT_EQ(intensity[0].value, kIntensity);

  // 2. Once the GPUs are idle and the sampler has attributed the last stretch, the counters stand
  // still: what Prometheus stored last is exactly what the exporter's meter accounted.
  std::this_thread::sleep_until(t0 + std::chrono::duration<double>(kPowerSeconds + 3));
  std::string text;
  bool settled = false;
  // Settled: the meter has attributed all of both GPUs' energy to the jobs, and Prometheus's
  // last scrape holds those same values.
  for (int i = 0; i < 100 && !settled; ++i) {
    text = exporter.get("/metrics").second;
    settled = true;
    for (const auto& [job, device] : {std::pair{"101", "gpu0"}, std::pair{"102", "gpu1"}}) {
      const auto device_j = sample_value(text, "carbonclock_device_energy_joules_total",
                                         {fmt::format("device=\"{}\"", device)});
      const auto job_j =
          sample_value(text, "carbonclock_job_energy_joules_total",
                       {fmt::format("job=\"{}\"", job), fmt::format("device=\"{}\"", device)});
      const auto stored = query(fmt::format(
          "carbonclock_job_energy_joules_total{{job=\"{}\",device=\"{}\"}}", job, device));
      settled = settled && device_j && job_j && std::abs(*job_j - *device_j) <= 1e-9 * *device_j &&
                stored.size() == 1 && stored[0].value == *job_j;
    }
    if (!settled) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(settled) << text;

  double node_j = 0;
  for (const auto& [device, watts] : {std::pair{"gpu0", 250.0}, std::pair{"gpu1", 300.0}}) {
    const double meter_j = sample_value(text, "carbonclock_device_energy_joules_total",
                                        {fmt::format("device=\"{}\"", device)})
                               .value();
    EXPECT_DOUBLE_EQ(
        query_one(fmt::format("carbonclock_device_energy_joules_total{{device=\"{}\"}}", device)),
        meter_j);
    // The scripted energy, less the moment between nvmlInit and the exporter's first reading.
    EXPECT_NEAR(meter_j, watts * kPowerSeconds, 0.02 * watts * kPowerSeconds) << device;
    node_j += meter_j;
  }
  EXPECT_DOUBLE_EQ(query_one("sum(carbonclock_device_energy_joules_total)"), node_j);
  const double grams_per_j = kIntensity * kPue / 3.6e6;
  const double node_g = query_one("carbonclock_emissions_grams_total");
  EXPECT_DOUBLE_EQ(node_g, sample_value(text, "carbonclock_emissions_grams_total").value());
  EXPECT_NEAR(node_g, node_j * grams_per_j, 1e-9 * node_g);

  // Each job has its own series, on its own GPU only, holding that GPU's whole energy; the job
  // series sum to the devices' energy, and their grams to the node's.
  for (const auto& [job, device] : {std::pair{"101", "gpu0"}, std::pair{"102", "gpu1"}}) {
    auto series =
        query(fmt::format("carbonclock_job_energy_joules_total{{job=\"{}\",kind=\"gpu\"}}", job));
    ASSERT_EQ(series.size(), 1u) << job;
    EXPECT_EQ(series[0].labels["scheduler"], "slurm");
    EXPECT_EQ(series[0].labels["device"], device);
    EXPECT_DOUBLE_EQ(series[0].value, sample_value(text, "carbonclock_job_energy_joules_total",
                                                   {fmt::format("job=\"{}\"", job),
                                                    fmt::format("device=\"{}\"", device)})
                                          .value());
    EXPECT_NEAR(
        series[0].value,
        query_one(fmt::format("carbonclock_device_energy_joules_total{{device=\"{}\"}}", device)),
        1e-9 * series[0].value);
    const double job_g =
        query_one(fmt::format("sum(carbonclock_job_emissions_grams_total{{job=\"{}\"}})", job));
    EXPECT_NEAR(job_g, series[0].value * grams_per_j, 1e-9 * job_g) << job;
  }
  EXPECT_NEAR(query_one("sum(carbonclock_job_energy_joules_total)"), node_j, 1e-9 * node_j);
  EXPECT_NEAR(query_one("sum(carbonclock_job_emissions_grams_total)"), node_g, 1e-9 * node_g);

  EXPECT_EQ(query_one("up{job=\"carbonclock\"}"), 1.0);
  EXPECT_EQ(exporter.stop(), 0);
  EXPECT_EQ(server_->stop(SIGTERM), 0) << prometheus_log();
}

// "Done when": PromQL gives per-device and per-job joules and grams that match `carbonclock run`
// on the same fake workload. `carbonclock run --gpus used` meters a job (a process named for the
// fake's process list of GPU 0, at a constant 250 W; GPU 1 draws 300 W for no job) while the
// exporter, with the same fake NVML library, RAPL tree, store and zone, samples every 100 ms and
// Prometheus scrapes it every second. The job is found by the CARBONCLOCK_RUN_ID that `run`
// gives it. Power is constant because each process's fake library keeps its own clock.
TEST_F(ExporterPrometheusTest, PromqlMatchesCarbonclockRunOnTheSameFakeWorkload) {
  import_intensity();
  constexpr double kWatts = 250;
  constexpr double kJobSeconds = 8;
  constexpr double kSampleS = 0.1;  // the exporter's --interval
  fs::create_symlink("/bin/sleep", dir_ / "cc-run-job");
  std::ofstream(dir_ / "nvml.script") << fmt::format(
      "gpu\nname Fake H100\npower {}\nprocess_comm cc-run-job sm=90\n"
      "gpu\nname Fake H100\npower 300\n",
      kWatts);
  const int exporter_port = free_port();
  const std::string target = fmt::format("127.0.0.1:{}", exporter_port);
  start_prometheus(target);
  ExporterProcess exporter(
      cli_, {"--zone", "TESTZONE", "--pue", fmt::format("{}", kPue), "--interval", "100ms"},
      target);
  ASSERT_TRUE(exporter.running()) << exporter.err();
  std::this_thread::sleep_for(2s);  // a few scrapes before the job starts

  const fs::path run_dir = dir_ / "run";
  ASSERT_EQ(cli_.run({"run", "--zone", "TESTZONE", "--pue", fmt::format("{}", kPue), "--gpus",
                      "used", "--interval", "100ms", "--quiet", "--out", run_dir.string(), "--",
                      (dir_ / "cc-run-job").string(), fmt::format("{}", kJobSeconds)}),
            0)
      << cli_.err();
  ASSERT_EQ(cli_.run({"report", run_dir.string(), "--format", "json"}), 0) << cli_.err();
  const auto report = nlohmann::json::parse(cli_.out());
  const std::string run_id = report["run_id"];
  double run_gpu_j = std::nan("");
  double run_j = 0;
  for (const auto& d : report["devices"]) {
    if (d["id"] == "gpu0") run_gpu_j = d["energy_j"].get<double>();
    run_j += d["energy_j"].get<double>();
  }
  ASSERT_EQ(report["devices"].size(), 3u) << report.dump(1);  // gpu0 and the still RAPL domains
  EXPECT_NEAR(run_j, run_gpu_j, 1e-9 * run_j);
  const double run_g = report["operational_g"].get<double>();
  const double run_s = report["duration_s"].get<double>();
  const double grams_per_j = kIntensity * kPue / 3.6e6;
  EXPECT_NEAR(run_g, run_j * grams_per_j, 1e-9 * run_g);  // priced by the same import

  // The exporter attributes each 100 ms stretch wholly to the job when NVML lists the job's
  // process at its end: at most one stretch early at the start and one short at the end. `run`
  // meters from just before it starts the job to just after it has reaped it. So the job's
  // joules match within two sampling intervals of the GPU's power, plus 0.1 s for `run`'s own
  // start and stop around its job: 75 J of 2000 J.
  const double tolerance_j = (2 * kSampleS + 0.1) * kWatts;
  // Wait for the last stretch to be attributed and scraped: the job's series stands still.
  const std::string job_selector = fmt::format(R"(job="{}",scheduler="carbonclock")", run_id);
  double job_j = std::nan("");
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(500ms);
    auto series = query(
        fmt::format("carbonclock_job_energy_joules_total{{{},device=\"gpu0\"}}", job_selector));
    const auto text = exporter.get("/metrics").second;
    const auto own = sample_value(text, "carbonclock_job_energy_joules_total",
                                  {fmt::format("job=\"{}\"", run_id), "device=\"gpu0\""});
    if (series.size() == 1 && own && series[0].value == *own) {
      job_j = series[0].value;
      break;
    }
  }
  ASSERT_FALSE(std::isnan(job_j)) << "no settled job series for run " << run_id << ":\n"
                                  << exporter.get("/metrics").second;
  EXPECT_NEAR(job_j, run_gpu_j, tolerance_j) << "run " << run_s << " s";
  // The job has no energy on the other GPU, nor on the still RAPL domains.
  EXPECT_NEAR(
      query_one(fmt::format("sum(carbonclock_job_energy_joules_total{{{}}})", job_selector)), job_j,
      1e-9 * job_j);
  const double job_g =
      query_one(fmt::format("sum(carbonclock_job_emissions_grams_total{{{}}})", job_selector));
  EXPECT_NEAR(job_g, run_g, tolerance_j * grams_per_j);
  EXPECT_NEAR(job_g, job_j * grams_per_j, 1e-9 * job_g);

  // Per device: increase() of gpu0's counter over the run's span gives the run's gpu0 joules
  // (1 s scrapes of a linear counter: Prometheus extrapolates to the window's edges), and the
  // node's grams over that span are its energy priced alike.
  const auto end = parse_utc(report["end_utc"].get<std::string>()).value();
  const std::string window = fmt::format("[{}ms]", static_cast<long>(std::lround(run_s * 1000)));
  const double device_j =
      query_one("increase(carbonclock_device_energy_joules_total{device=\"gpu0\"}" + window + ")",
                epoch_s(end));
  EXPECT_NEAR(device_j, run_gpu_j, 0.02 * run_gpu_j) << "run " << run_s << " s";
  const double node_j = query_one(
      "sum(increase(carbonclock_device_energy_joules_total" + window + "))", epoch_s(end));
  EXPECT_NEAR(query_one("increase(carbonclock_emissions_grams_total" + window + ")", epoch_s(end)),
              node_j * grams_per_j, 1e-6 * node_j * grams_per_j);

  EXPECT_EQ(exporter.stop(), 0);
  EXPECT_EQ(server_->stop(SIGTERM), 0) << prometheus_log();
}

}  // namespace
}  // namespace carbonclock

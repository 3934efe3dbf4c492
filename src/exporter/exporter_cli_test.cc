// End-to-end tests of `carbonclock exporter`: the built binary with the fake NVML library and
// a fake RAPL sysfs tree, scraped over HTTP, under the bad conditions a node meets (a GPU
// lost during scrapes, RAPL unreadable, the port taken, a client flooding connections).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <fstream>

#include "exporter/exporter_test_support.h"
#include "sensors/fake_sysfs.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class ExporterCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("cc_exporter");
    cli_ = CliHarness(dir_);
    sysfs_ = std::make_unique<FakeSysfs>(dir_ / "sysfs");
    script("gpu\nname Fake H100\npower 250\ngpu\npower 300\n");
    cli_.env = {{"CARBONCLOCK_NVML_LIBRARY", FAKE_NVML_LIBRARY},
                {"FAKE_NVML_SCRIPT", (dir_ / "nvml.script").string()},
                {"CARBONCLOCK_SYSFS_ROOT", sysfs_->root().string()},
                {"CARBONCLOCK_DB", (dir_ / "carbonclock.db").string()},
                {"CARBONCLOCK_ZONE", std::nullopt},
                {"CARBONCLOCK_REGION", std::nullopt}};
  }
  void TearDown() override { fs::remove_all(dir_); }
  void script(const std::string& text) { std::ofstream(dir_ / "nvml.script") << text; }

  fs::path dir_;
  CliHarness cli_{""};
  std::unique_ptr<FakeSysfs> sysfs_;
};

TEST_F(ExporterCliTest, ServesMetricsAndHealthAndStopsCleanlyOnSigterm) {
  ExporterProcess exporter(cli_, {"--zone", "DE", "--interval", "200ms"});
  ASSERT_TRUE(exporter.running()) << exporter.err();
  EXPECT_TRUE(exporter.address().starts_with("127.0.0.1:")) << exporter.address();
  auto [status, text] = exporter.get("/metrics");
  ASSERT_EQ(status, 200);
  EXPECT_TRUE(sample_value(text, "carbonclock_device_energy_joules_total", {"device=\"gpu0\""}));
  EXPECT_TRUE(sample_value(text, "carbonclock_grid_carbon_intensity_grams_per_kwh",
                           {"zone=\"DE\"", "provenance=\"embedded\""}));
  EXPECT_EQ(exporter.get("/healthz"), (std::pair<int, std::string>{200, "ok\n"}));
  EXPECT_EQ(exporter.get("/nope").first, 404);
  EXPECT_EQ(exporter.stop(), 0);
  EXPECT_NE(cli_.err().find("carbonclock: exporter stopped by TERM"), std::string::npos)
      << cli_.err();
}

TEST_F(ExporterCliTest, APortInUseIsAClearErrorWithExit125) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string address = fmt::format("127.0.0.1:{}", ntohs(a.sin_port));
  EXPECT_EQ(cli_.run({"exporter", "--zone", "DE", "--listen", address}), 125);
  EXPECT_EQ(cli_.err(), fmt::format("carbonclock: error: cannot listen on {}: Address already in "
                                    "use (errno 98) (is another exporter running? choose "
                                    "another port "
                                    "with --listen)\n",
                                    address));
  ::close(fd);
  // Bad options are failures to start too.
  EXPECT_EQ(cli_.run({"exporter", "--zone", "DE", "--interval", "5ms"}), 125);
  EXPECT_NE(cli_.err().find("--interval 5ms: must be between 100ms and 1h"), std::string::npos)
      << cli_.err();
  EXPECT_EQ(cli_.run({"exporter", "--zone", "DE", "--job-rescan", "2h"}), 125);
  EXPECT_NE(cli_.err().find("--job-rescan 2h: must be between 0 and 1h"), std::string::npos)
      << cli_.err();
  EXPECT_EQ(cli_.run({"exporter", "--zone", "DE", "--no-such-option"}), 125);
}

TEST_F(ExporterCliTest, AGpuLostDuringScrapesHoldsItsEnergyAndCountsOnWhenItReturns) {
  script(
      "gpu\nname Fake H100\npower 250\nvanish_during 1 2.5\n"
      "gpu\npower 300\n");
  ExporterProcess exporter(cli_, {"--zone", "DE", "--interval", "200ms"});
  ASSERT_TRUE(exporter.running()) << exporter.err();
  const auto start = std::chrono::steady_clock::now();
  double last_j = 0;
  bool seen_down = false;
  std::string text;
  // Scrape every 50 ms through the loss and well past the return (retries come every 1 s).
  while (std::chrono::steady_clock::now() - start < 5s) {
    auto [status, body] = exporter.get("/metrics");
    ASSERT_EQ(status, 200) << "a scrape during the loss must be answered";
    text = body;
    const double j =
        sample_value(text, "carbonclock_device_energy_joules_total", {"device=\"gpu0\""}).value();
    EXPECT_GE(j, last_j) << "the counter went backwards";
    last_j = j;
    seen_down =
        seen_down || sample_value(text, "carbonclock_device_up", {"device=\"gpu0\""}) == 0.0;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(seen_down);
  EXPECT_EQ(sample_value(text, "carbonclock_device_up", {"device=\"gpu0\""}), 1.0);
  EXPECT_GE(sample_value(text, "carbonclock_exporter_errors_total", {"source=\"nvml\""}), 1.0);
  // The GPU's counter kept running while it was lost, so nothing is missing: gpu0 and gpu1
  // ran for the same time.
  const double gpu1_j =
      sample_value(text, "carbonclock_device_energy_joules_total", {"device=\"gpu1\""}).value();
  EXPECT_NEAR(last_j / 250.0, gpu1_j / 300.0, 0.02 * gpu1_j / 300.0);
  EXPECT_NE(exporter.err().find("gpu0 (Fake H100"), std::string::npos) << exporter.err();
  EXPECT_NE(exporter.err().find("answers again"), std::string::npos) << exporter.err();
  EXPECT_EQ(exporter.stop(), 0);
}

TEST_F(ExporterCliTest, UnreadableRaplFallsBackToTheLabelledEstimateAndSaysWhy) {
  // energy_uj that cannot be read (a directory: unreadable even for root).
  sysfs_->add_zone("0", "package-0", 1);
  fs::remove(sysfs_->energy_path("0"));
  fs::create_directory(sysfs_->energy_path("0"));
  ExporterProcess exporter(cli_, {"--zone", "DE", "--no-gpu"});
  ASSERT_TRUE(exporter.running()) << exporter.err();
  EXPECT_NE(exporter.err().find("CPU and DRAM energy is estimated from the node's busy CPU "
                                "time and memory in use"),
            std::string::npos)
      << exporter.err();
  EXPECT_NE(exporter.err().find("energy_uj: Is a directory"), std::string::npos) << exporter.err();
  auto [status, text] = exporter.get("/metrics");
  ASSERT_EQ(status, 200);
  EXPECT_TRUE(sample_value(text, "carbonclock_device_energy_joules_total",
                           {"device=\"cpu-estimate\"", "method=\"estimate\""}));
  EXPECT_EQ(exporter.stop(), 0);
}

TEST_F(ExporterCliTest, RaplBecomingUnreadableHoldsItsEnergyAndScrapesGoOn) {
  sysfs_->add_zone("0", "package-0", 5'000'000);
  sysfs_->add_zone("0:0", "dram", 0);
  // Sampling hourly: only the scrapes read the counters, never while the test rewrites them.
  ExporterProcess exporter(cli_, {"--zone", "DE", "--no-gpu", "--interval", "1h"});
  ASSERT_TRUE(exporter.running()) << exporter.err();
  sysfs_->set_energy("0", 9'000'000);  // +4 J
  auto [s1, before] = exporter.get("/metrics");
  ASSERT_EQ(s1, 200);
  EXPECT_DOUBLE_EQ(sample_value(before, "carbonclock_device_energy_joules_total",
                                {"device=\"cpu0-package\"", "method=\"counter\""})
                       .value(),
                   4.0);
  // The sensor holds energy_uj open (pread at offset 0 on each read, as sysfs wants), so the
  // file turns unreadable in place: what it gives is no longer a counter.
  std::ofstream(sysfs_->energy_path("0"), std::ios::trunc) << "unreadable\n";
  auto [s2, after] = exporter.get("/metrics");
  ASSERT_EQ(s2, 200);
  EXPECT_DOUBLE_EQ(
      sample_value(after, "carbonclock_device_energy_joules_total", {"device=\"cpu0-package\""})
          .value(),
      4.0);
  EXPECT_EQ(sample_value(after, "carbonclock_exporter_errors_total", {"source=\"rapl\""}), 1.0);
  EXPECT_NE(exporter.err().find("RAPL cpu0-package: cannot read"), std::string::npos)
      << exporter.err();
  EXPECT_EQ(exporter.stop(), 0);
}

// How much more resident the exporter may be after the flood below. The plain build grows by
// about 1 MB. Under AddressSanitizer (this test is built with the exporter's flags: CI's ASan
// stage) freed blocks wait in ASan's quarantine with their shadow memory, and the same run grows
// by about 17 MB; there LSan, at the exporter's exit, is what catches a leak.
#if defined(__SANITIZE_ADDRESS__)
#define CARBONCLOCK_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CARBONCLOCK_TEST_ASAN 1
#endif
#endif
#ifdef CARBONCLOCK_TEST_ASAN
constexpr double kFloodRssBoundKb = 48 * 1024;
#else
constexpr double kFloodRssBoundKb = 4 * 1024;
#endif

// A client opens 1,000 connections: half send nothing, half send a request and never read.
// Scrapes are still answered, the exporter keeps its two threads, its memory stays bounded,
// and every descriptor comes back once the client goes.
TEST_F(ExporterCliTest, AThousandConnectionsThatNeverReadDoNotStopScrapes) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 1200) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  ASSERT_GE(limit.rlim_cur, 1200u) << "this test needs 1,200 file descriptors (ulimit -n)";
  ExporterProcess exporter(cli_, {"--zone", "DE", "--interval", "200ms"});
  ASSERT_TRUE(exporter.running()) << exporter.err();
  // Descriptors before any client connects: the end state once the flood is gone.
  const size_t fds = exporter.open_fds();
  ASSERT_EQ(exporter.get("/metrics").first, 200);
  const double threads = exporter.status_field("Threads");
  const double rss_kb = exporter.status_field("VmRSS");
  EXPECT_EQ(threads, 2);  // the HTTP loop and the sampler

  std::vector<int> flood;
  for (int i = 0; i < 1000; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(exporter.port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << i;
    const int tiny = 1;  // the smallest receive buffer: responses stay unread on our side
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny);
    if (i % 2 == 1) {
      const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
      ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(request.size()));
    }
    flood.push_back(fd);
  }
  for (int i = 0; i < 5; ++i) {
    auto [status, text] = exporter.get("/metrics");
    ASSERT_EQ(status, 200) << "scrape " << i << " during the flood";
    EXPECT_TRUE(sample_value(text, "carbonclock_device_energy_joules_total", {"device=\"gpu1\""}));
  }
  EXPECT_EQ(exporter.status_field("Threads"), threads);
  EXPECT_LT(exporter.status_field("VmRSS") - rss_kb, kFloodRssBoundKb) << "kB more resident";
  EXPECT_LE(exporter.open_fds(), fds + 256) << "at most --max-connections (256) more";
  for (int fd : flood) ::close(fd);
  // Every connection is closed once its client is gone.
  for (int i = 0; i < 200 && exporter.open_fds() > fds; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(exporter.open_fds(), fds);
  EXPECT_EQ(exporter.stop(), 0);
}

}  // namespace
}  // namespace carbonclock

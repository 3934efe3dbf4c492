// End-to-end tests of `carbonclock run` and `carbonclock report`: the real binary, the fake
// libnvidia-ml.so.1 and a fake RAPL sysfs tree.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli_test_harness.h"
#include "common/files.h"
#include "execution/test_proc.h"
#include "sensors/fake_sysfs.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class RunCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("cc_run");
    cli_ = CliHarness(dir_);
    sysfs_ = std::make_unique<FakeSysfs>(dir_ / "sysfs");
    write_script("gpu\nname Fake A100\npower 100\n");
    cli_.env = {{"CARBONCLOCK_NVML_LIBRARY", FAKE_NVML_LIBRARY},
                {"FAKE_NVML_SCRIPT", (dir_ / "nvml.script").string()},
                {"CARBONCLOCK_SYSFS_ROOT", sysfs_->root().string()},
                {"CARBONCLOCK_DB", (dir_ / "carbonclock.db").string()},  // never the user's
                {"CUDA_VISIBLE_DEVICES", std::nullopt}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_script(const std::string& text) { std::ofstream(dir_ / "nvml.script") << text; }

  pid_t start(const std::vector<std::string>& args) { return cli_.start(args); }
  static int wait_exit(pid_t pid) { return CliHarness::wait_exit(pid); }
  int run(const std::vector<std::string>& args) { return cli_.run(args); }
  std::string err() { return cli_.err(); }
  nlohmann::json run_json() {
    return nlohmann::json::parse(read_file(dir_ / "run" / "run.json").value());
  }
  static double device_energy(const nlohmann::json& run, const std::string& id) {
    for (const auto& d : run["devices"]) {
      if (d["id"] == id) return d["energy_j"].get<double>();
    }
    ADD_FAILURE() << "no device " << id;
    return -1;
  }

  fs::path dir_;
  std::unique_ptr<FakeSysfs> sysfs_;
  CliHarness cli_{""};
};

TEST_F(RunCommandTest, EnergyMatchesScriptedGpusAndWrappingRaplWithinOnePercent) {
  write_script(
      "gpu\nname Fake A100\npower 100\n"
      "gpu\nname Fake V100\nenergy_counter no\npower 50\n");
  // RAPL package counter 10 J below its wrap point; a writer adds 1 J every 10 ms, 40 times,
  // then stops before the job ends: the run must count exactly 40 J across the wrap.
  const unsigned long long max_uj = 1'000'000'000'000ULL;
  sysfs_->add_zone("0", "package-0", max_uj - 10'000'000, max_uj);
  sysfs_->add_zone("0:0", "dram", 0, max_uj);
  pid_t pid =
      start({"run", "--interval", "50ms", "--out", (dir_ / "run").string(), "--", "sleep", "3"});
  // Write only once carbonclock has read the counter: its journal holds a sample (the first
  // flush, about 1 s in). A fixed sleep here failed on slow starts (sanitizer builds).
  ASSERT_TRUE(test::eventually(
      [&] {
        auto journal = read_file(dir_ / "run" / "journal.jsonl");
        return journal && journal->find("{\"t\":") != std::string::npos;
      },
      30s))
      << err();
  for (int i = 1; i <= 40; ++i) {
    unsigned long long v = (max_uj - 10'000'000 + i * 1'000'000ULL) % max_uj;
    std::FILE* f = std::fopen(sysfs_->energy_path("0").c_str(), "r+");
    std::fprintf(f, "%013llu\n", v);  // fixed width: rewritten in place, never truncated
    std::fclose(f);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(wait_exit(pid), 0) << err();
  auto run = run_json();
  double duration_s = run["duration_s"].get<double>();
  EXPECT_GT(duration_s, 1.1);
  EXPECT_NEAR(device_energy(run, "gpu0"), 100 * duration_s, 0.01 * 100 * duration_s);
  EXPECT_NEAR(device_energy(run, "gpu1"), 50 * duration_s, 0.01 * 50 * duration_s);
  EXPECT_NEAR(device_energy(run, "cpu0-package"), 40.0, 1e-6);
  EXPECT_EQ(device_energy(run, "cpu0-dram"), 0.0);
  EXPECT_EQ(run["devices"][0]["method"], "counter");
  EXPECT_EQ(run["devices"][1]["method"], "power-integration");
  EXPECT_DOUBLE_EQ(run["measured_share"].get<double>(), 1.0);
  // The timeline adds up to the device totals.
  double timeline_j = 0;
  for (const auto& b : run["timeline"]) {
    for (const auto& [id, e] : b["energy_j"].items()) timeline_j += e.get<double>();
  }
  EXPECT_NEAR(timeline_j, run["energy_j_total"].get<double>(), 1e-6);
  EXPECT_NE(err().find("total"), std::string::npos) << err();
}

TEST_F(RunCommandTest, ExitCodePassesThroughAndSignalDeathIs128PlusN) {
  EXPECT_EQ(run({"run", "-q", "--out", (dir_ / "a").string(), "--", "sh", "-c", "exit 5"}), 5);
  EXPECT_EQ(run({"run", "-q", "--out", (dir_ / "b").string(), "--", "sh", "-c", "kill -TERM $$"}),
            128 + SIGTERM);
  auto b = nlohmann::json::parse(read_file(dir_ / "b" / "run.json").value());
  EXPECT_EQ(b["exit_code"], 128 + SIGTERM);
}

TEST_F(RunCommandTest, UnknownCommandExits127AndLeavesNoRunDirectory) {
  EXPECT_EQ(run({"run", "--out", (dir_ / "run").string(), "--", "no-such-command-xyz"}), 127);
  EXPECT_NE(err().find("command not found"), std::string::npos) << err();
  EXPECT_FALSE(fs::exists(dir_ / "run"));
}

TEST_F(RunCommandTest, SignalsAreForwardedToTheJob) {
  auto ready = dir_ / "ready";
  pid_t pid = start({"run", "--out", (dir_ / "run").string(), "--", "sh", "-c",
                     "trap 'exit 42' INT; touch " + ready.string() + "; sleep 30 & wait"});
  for (int i = 0; i < 500 && !fs::exists(ready); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(fs::exists(ready)) << err();
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 42) << err();
  EXPECT_EQ(run_json()["exit_code"], 42);
}

TEST_F(RunCommandTest, AJobThatStopsItselfIsNamedAndSigtermStillEndsTheRunPromptly) {
  // The job stops itself; nobody will continue it. carbonclock must say so (WUNTRACED), and a
  // SIGTERM to carbonclock must reach the stopped job (SIGTERM, then SIGCONT) and end the run
  // with the job's 128+15 instead of hanging.
  pid_t pid = start({"run", "--no-gpu", "--out", (dir_ / "run").string(), "--", "sh", "-c",
                     "kill -STOP $$; exit 3"});
  bool said = false;
  for (int i = 0; i < 3000 && !said; ++i) {
    said = err().find("the job was stopped by SIGSTOP from another process") != std::string::npos;
    if (!said) std::this_thread::sleep_for(10ms);
  }
  if (!said) {
    ::kill(pid, SIGKILL);  // never hang the suite
    wait_exit(pid);
    FAIL() << err();
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 3000 && done == 0; ++i) {
    done = ::waitpid(pid, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(10ms);
  }
  if (done == 0) {
    ::kill(pid, SIGKILL);
    wait_exit(pid);
    FAIL() << "carbonclock ignored SIGTERM while the job was stopped\n" << err();
  }
  ASSERT_TRUE(WIFEXITED(status)) << err();
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << err();
  EXPECT_EQ(run_json()["exit_code"], 128 + SIGTERM);
}

TEST_F(RunCommandTest, SigkilledRunIsRecoveredFromItsJournal) {
  auto ready = dir_ / "ready";
  pid_t pid = start({"run", "--interval", "100ms", "--out", (dir_ / "run").string(), "--", "sh",
                     "-c", "echo $$ > " + ready.string() + "; exec sleep 30"});
  for (int i = 0; i < 500 && !fs::exists(ready); ++i) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(2500ms);
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  // The job outlives carbonclock; end it here.
  pid_t job = std::stoi(read_file(ready).value());
  EXPECT_EQ(::kill(job, 0), 0) << "the job should still be running";
  ::kill(job, SIGKILL);
  ASSERT_FALSE(fs::exists(dir_ / "run" / "run.json"));

  ASSERT_EQ(run({"report", (dir_ / "run").string(), "--format", "run-json"}), 0) << err();
  auto run = nlohmann::json::parse(cli_.out());
  EXPECT_TRUE(run["recovered"].get<bool>());
  EXPECT_TRUE(run["exit_code"].is_null());
  // At most the last flush interval (1 s) plus one sample is lost.
  double duration_s = run["duration_s"].get<double>();
  EXPECT_GT(duration_s, 2.5 - 1.2);
  EXPECT_NEAR(device_energy(run, "gpu0"), 100 * duration_s, 0.01 * 100 * duration_s);
  bool said = false;
  for (const auto& w : run["warnings"])
    said |= w.get<std::string>().find("recovered") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST_F(RunCommandTest, ReportOfAMissingDirectoryFails) {
  EXPECT_EQ(run({"report", (dir_ / "nope").string()}), 3);  // not found
  EXPECT_NE(err().find("no such run directory"), std::string::npos);
}

TEST_F(RunCommandTest, BadOptionsAreRejectedBeforeRunning) {
  // 125: carbonclock's own failure, never to be confused with the job's exit code.
  EXPECT_EQ(run({"run", "--interval", "10ms", "--", "true"}), 125);
  EXPECT_NE(err().find("50ms"), std::string::npos);
  EXPECT_EQ(run({"run", "--bucket", "7m", "--", "true"}), 125);
  EXPECT_EQ(run({"run", "--gpus", "0,,1", "--", "true"}), 125);
}

}  // namespace
}  // namespace carbonclock

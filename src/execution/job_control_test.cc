#include "execution/job_control.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/files.h"
#include "execution/test_proc.h"

namespace carbonclock {
namespace {

using test::eventually;
using test::proc_state;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class JobControlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Supervisor::block_signals(); }
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cc_jobctl_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> ticker(double work_s, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{TEST_TICKER, (dir_ / "ticks").string(), std::to_string(work_s),
                                  "--pid-file", (dir_ / "pid").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  pid_t ticker_pid() {
    pid_t pid = -1;
    eventually([&] {
      std::ifstream f(dir_ / "pid");
      return static_cast<bool>(f >> pid);
    });
    return pid;
  }
  JobExit wait_exit(ProcessJobControl& c, RealClock& clock) {
    for (int i = 0; i < 600; ++i) {
      WaitResult r = c.wait_until(clock.system_now() + 100ms);
      if (r.exit) return *r.exit;
    }
    ADD_FAILURE() << "the job did not end";
    return {};
  }
  fs::path dir_;
};

TEST_F(JobControlTest, SigstopPausesAndSigcontResumes) {
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(0.5), &err)) << err.message;
  RealClock clock;
  ProcessJobControl c(sup, nullptr, clock, {});
  c.job_started();
  pid_t pid = ticker_pid();
  ASSERT_GT(pid, 0);
  auto p = c.pause();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, PauseKind::kStopped);
  EXPECT_TRUE(eventually([&] { return proc_state(pid) == 'T'; }));
  ASSERT_TRUE(c.resume());
  EXPECT_TRUE(eventually([&] { return proc_state(pid) != 'T'; }));
  EXPECT_EQ(wait_exit(c, clock).exit_code, 0);
}

TEST_F(JobControlTest, PauseSignalCheckpointsAndTheResumeCommandFinishesTheWork) {
  auto cp = (dir_ / "checkpoint").string();
  std::vector<std::string> extra{"--checkpoint", cp, "--pause-signal", std::to_string(SIGUSR1)};
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(0.8, extra), &err));
  RealClock clock;
  ProcessJobControl c(sup, nullptr, clock, {SIGUSR1, ticker(0.8, extra), 5s});
  c.job_started();
  ASSERT_GT(ticker_pid(), 0);
  std::this_thread::sleep_for(200ms);
  auto p = c.pause();
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->kind, PauseKind::kCheckpointed) << p->note;
  double done = 0;
  std::ifstream(cp) >> done;
  EXPECT_GT(done, 0.05);
  EXPECT_LT(done, 0.8);
  fs::remove(dir_ / "pid");
  ASSERT_TRUE(c.resume());
  EXPECT_GT(ticker_pid(), 0);
  EXPECT_EQ(wait_exit(c, clock).exit_code, 0);
}

TEST_F(JobControlTest, AJobIgnoringThePauseSignalIsStoppedInstead) {
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(0.5, {"--ignore", std::to_string(SIGUSR1)}), &err));
  RealClock clock;
  ProcessJobControl c(sup, nullptr, clock, {SIGUSR1, {"true"}, 300ms});
  c.job_started();
  pid_t pid = ticker_pid();
  auto p = c.pause();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, PauseKind::kStopFallback);
  EXPECT_NE(p->note.find("stopped with SIGSTOP instead"), std::string::npos) << p->note;
  EXPECT_TRUE(eventually([&] { return proc_state(pid) == 'T'; }));
  ASSERT_TRUE(c.resume());
  EXPECT_EQ(wait_exit(c, clock).exit_code, 0);
}

TEST_F(JobControlTest, AFailingResumeCommandSaysHowToResumeByHand) {
  auto cp = (dir_ / "checkpoint").string();
  std::vector<std::string> extra{"--checkpoint", cp, "--pause-signal", std::to_string(SIGUSR1)};
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(5, extra), &err));
  RealClock clock;
  ProcessJobControl c(sup, nullptr, clock,
                      {SIGUSR1, {"carbonclock-no-such-resume-xyz", "--from", cp}, 5s});
  c.job_started();
  ASSERT_GT(ticker_pid(), 0);
  auto p = c.pause();
  ASSERT_TRUE(p);
  ASSERT_EQ(p->kind, PauseKind::kCheckpointed);
  Status s = c.resume();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("command not found"), std::string::npos);
  EXPECT_NE(s.error().message().find("resume it by hand with: carbonclock-no-such-resume-xyz"),
            std::string::npos)
      << s.error().message();
}

TEST(SignalNameTest, NamesAndNumbers) {
  EXPECT_EQ(parse_signal_name("USR1").value(), SIGUSR1);
  EXPECT_EQ(parse_signal_name("sigterm").value(), SIGTERM);
  EXPECT_EQ(parse_signal_name("10").value(), 10);
  EXPECT_FALSE(parse_signal_name("NOPE"));
}

}  // namespace
}  // namespace carbonclock

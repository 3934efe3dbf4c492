#include "execution/job_control.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

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
  /// A live watchdog: ProcessJobControl never pauses without one.
  static Watchdog watchdog(std::vector<std::string> resume_command = {}) {
    auto dog = Watchdog::start(std::move(resume_command));
    EXPECT_TRUE(dog) << dog.error().message();
    return std::move(*dog);
  }
  fs::path dir_;
};

TEST_F(JobControlTest, SigstopPausesAndSigcontResumes) {
  Watchdog dog = watchdog();  // first, as carbonclock does: the job must still run at the pause
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(1.5), &err)) << err.message;
  RealClock clock;
  ProcessJobControl c(sup, &dog, clock, {});
  c.job_started();
  pid_t pid = ticker_pid();
  ASSERT_GT(pid, 0);
  auto p = c.pause(clock.system_now() + 1h);
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
  Watchdog dog = watchdog(ticker(0.8, extra));
  ProcessJobControl c(sup, &dog, clock, {SIGUSR1, ticker(0.8, extra), 5s});
  c.job_started();
  ASSERT_GT(ticker_pid(), 0);
  std::this_thread::sleep_for(200ms);
  auto p = c.pause(clock.system_now() + 1h);
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
  // The watchdog first (as carbonclock starts it), so that the job's work outlasts the grace
  // however slowly the watchdog starts (sanitizer builds).
  Watchdog dog = watchdog();
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(1.5, {"--ignore", std::to_string(SIGUSR1)}), &err));
  RealClock clock;
  ProcessJobControl c(sup, &dog, clock, {SIGUSR1, {"true"}, 300ms});
  c.job_started();
  pid_t pid = ticker_pid();
  auto p = c.pause(clock.system_now() + 1h);
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
  Watchdog dog = watchdog();
  ProcessJobControl c(sup, &dog, clock,
                      {SIGUSR1, {"carbonclock-no-such-resume-xyz", "--from", cp}, 5s});
  c.job_started();
  ASSERT_GT(ticker_pid(), 0);
  auto p = c.pause(clock.system_now() + 1h);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->kind, PauseKind::kCheckpointed);
  auto s = c.resume();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("command not found"), std::string::npos);
  EXPECT_NE(s.error().message().find("resume it by hand with: carbonclock-no-such-resume-xyz"),
            std::string::npos)
      << s.error().message();
}

TEST_F(JobControlTest, NoPauseWithoutALiveWatchdog) {
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(1.0), &err)) << err.message;
  RealClock clock;
  Watchdog dog = watchdog();
  ProcessJobControl c(sup, &dog, clock, {});
  c.job_started();
  pid_t pid = ticker_pid();
  ASSERT_GT(pid, 0);
  ::kill(dog.pid(), SIGKILL);  // `pkill -9` of the watchdog
  auto p = c.pause(clock.system_now() + 1h);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("cannot confirm a live watchdog"), std::string::npos)
      << p.error().message();
  std::this_thread::sleep_for(100ms);
  EXPECT_NE(proc_state(pid), 'T');
  EXPECT_EQ(wait_exit(c, clock).exit_code, 0);
}

TEST_F(JobControlTest, APausedJobIsResumedAtOnceWhenTheWatchdogIsLost) {
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(0.5), &err)) << err.message;
  RealClock clock;
  Watchdog dog = watchdog();
  ProcessJobControl c(sup, &dog, clock, {});
  c.job_started();
  pid_t pid = ticker_pid();
  ASSERT_TRUE(c.pause(clock.system_now() + 1h));
  ASSERT_TRUE(eventually([&] { return proc_state(pid) == 'T'; }));
  ::kill(dog.pid(), SIGKILL);
  WaitResult r = c.wait_until(clock.system_now() + 1h);
  ASSERT_TRUE(r.resumed_at);
  EXPECT_TRUE(r.safety_lost);
  EXPECT_NE(r.resumed_note.find("continued at once"), std::string::npos) << r.resumed_note;
  EXPECT_TRUE(eventually([&] { return proc_state(pid) != 'T'; }));
  EXPECT_EQ(wait_exit(c, clock).exit_code, 0);
}

TEST_F(JobControlTest, AStoppedWatchdogGetsThePausedJobResumedToo) {
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(0.5), &err)) << err.message;
  RealClock clock;
  Watchdog dog = watchdog();
  ProcessJobControl c(sup, &dog, clock, {});
  c.job_started();
  pid_t pid = ticker_pid();
  ASSERT_TRUE(c.pause(clock.system_now() + 1h));
  ::kill(dog.pid(), SIGSTOP);  // a frozen cgroup, or someone's SIGSTOP
  WaitResult r = c.wait_until(clock.system_now() + 1h);
  ASSERT_TRUE(r.resumed_at);
  EXPECT_TRUE(r.safety_lost);
  EXPECT_NE(r.resumed_note.find("did not answer"), std::string::npos) << r.resumed_note;
  EXPECT_EQ(wait_exit(c, clock).exit_code, 0);
  EXPECT_NE(proc_state(pid), 'T');
}

TEST_F(JobControlTest, ACheckpointedJobIsRestartedAtOnceWhenTheWatchdogIsLost) {
  auto cp = (dir_ / "checkpoint").string();
  std::vector<std::string> extra{"--checkpoint", cp, "--pause-signal", std::to_string(SIGUSR1)};
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(0.8, extra), &err));
  RealClock clock;
  Watchdog dog = watchdog(ticker(0.8, extra));
  ProcessJobControl c(sup, &dog, clock, {SIGUSR1, ticker(0.8, extra), 5s});
  c.job_started();
  ASSERT_GT(ticker_pid(), 0);
  auto p = c.pause(clock.system_now() + 1h);
  ASSERT_TRUE(p) << p.error().message();
  ASSERT_EQ(p->kind, PauseKind::kCheckpointed);
  fs::remove(dir_ / "pid");
  ::kill(dog.pid(), SIGKILL);
  WaitResult r = c.wait_until(clock.system_now() + 1h);
  ASSERT_TRUE(r.resumed_at);
  EXPECT_TRUE(r.safety_lost);
  EXPECT_GT(ticker_pid(), 0);  // restarted from its checkpoint
  EXPECT_EQ(wait_exit(c, clock).exit_code, 0);
}

TEST_F(JobControlTest, TheWatchdogKeepsTheLatestResumeTimeWhileCarbonclockIsStopped) {
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(0.5), &err)) << err.message;
  RealClock clock;
  Watchdog dog = watchdog();
  ProcessJobControl c(sup, &dog, clock, {});
  c.job_started();
  pid_t pid = ticker_pid();
  SysTime latest = clock.system_now() + 300ms;
  ASSERT_TRUE(c.pause(latest));
  // carbonclock does nothing (as if stopped): the job runs again at its latest resume time.
  EXPECT_TRUE(eventually([&] { return proc_state(pid) == 'T'; }));
  EXPECT_TRUE(eventually([&] { return proc_state(pid) != 'T'; }));
  EXPECT_GE(clock.system_now(), latest);
  WaitResult r = c.wait_until(clock.system_now() + 1h);
  ASSERT_TRUE(r.resumed_at);
  EXPECT_FALSE(r.safety_lost);
  EXPECT_GE(*r.resumed_at, latest);
  EXPECT_NE(r.resumed_note.find("latest resume time"), std::string::npos) << r.resumed_note;
  EXPECT_EQ(wait_exit(c, clock).exit_code, 0);
}

TEST_F(JobControlTest, TheWatchdogRestartsACheckpointedJobOnTimeAndCarbonclockAdoptsIt) {
  auto cp = (dir_ / "checkpoint").string();
  std::vector<std::string> extra{"--checkpoint", cp, "--pause-signal", std::to_string(SIGUSR1)};
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(0.8, extra), &err));
  RealClock clock;
  Watchdog dog = watchdog(ticker(0.8, extra));
  ProcessJobControl c(sup, &dog, clock, {SIGUSR1, ticker(0.8, extra), 5s});
  pid_t restarted = -1;
  c.set_on_restart([&](pid_t p) { restarted = p; });
  c.job_started();
  ASSERT_GT(ticker_pid(), 0);
  std::this_thread::sleep_for(200ms);
  fs::remove(dir_ / "pid");
  auto p = c.pause(clock.system_now() + 300ms);
  ASSERT_TRUE(p) << p.error().message();
  ASSERT_EQ(p->kind, PauseKind::kCheckpointed);
  pid_t by_watchdog = ticker_pid();  // carbonclock does nothing; the watchdog restarts it
  ASSERT_GT(by_watchdog, 0);
  WaitResult r = c.wait_until(clock.system_now() + 1h);
  ASSERT_TRUE(r.resumed_at);
  EXPECT_NE(r.resumed_note.find("ran the resume command"), std::string::npos) << r.resumed_note;
  EXPECT_EQ(restarted, sup.pid());
  // The restarted job is carbonclock's child: waited for, with its exit code.
  EXPECT_EQ(wait_exit(c, clock).exit_code, 0);
  double done = 0;
  std::ifstream(cp) >> done;
  EXPECT_GT(done, 0.05);
}

TEST_F(JobControlTest, ASignalWhileCheckpointedLeavesTheCheckpointAlone) {
  auto cp = (dir_ / "checkpoint").string();
  auto marker = dir_ / "restarted";
  std::vector<std::string> extra{"--checkpoint", cp, "--pause-signal", std::to_string(SIGUSR1)};
  Supervisor sup;
  sup.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(sup.spawn(ticker(5, extra), &err));
  RealClock clock;
  std::vector<std::string> resume{"/bin/sh", "-c", "touch " + marker.string()};
  {
    Watchdog dog = watchdog(resume);
    ProcessJobControl c(sup, &dog, clock, {SIGUSR1, resume, 5s});
    c.job_started();
    ASSERT_GT(ticker_pid(), 0);
    auto p = c.pause(clock.system_now() + 1h);
    ASSERT_TRUE(p);
    ASSERT_EQ(p->kind, PauseKind::kCheckpointed);
    ::kill(::getpid(), SIGTERM);  // the user ends the run
    WaitResult r = c.wait_until(clock.system_now() + 1h);
    EXPECT_EQ(r.forwarded_signal, SIGTERM);
  }  // carbonclock ends: the watchdog must not restart what the user ended
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(fs::exists(marker));
}

TEST(SignalNameTest, NamesAndNumbers) {
  EXPECT_EQ(parse_signal_name("USR1").value(), SIGUSR1);
  EXPECT_EQ(parse_signal_name("sigterm").value(), SIGTERM);
  EXPECT_EQ(parse_signal_name("10").value(), 10);
  EXPECT_FALSE(parse_signal_name("NOPE"));
}

}  // namespace
}  // namespace carbonclock

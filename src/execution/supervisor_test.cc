#include "execution/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "execution/test_proc.h"
#include "metering/meter.h"
#include "sensors/estimate_sensor.h"
#include "sensors/process_tree.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

class SupervisorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Supervisor::block_signals(); }
};

TEST_F(SupervisorTest, ExitCodePassesThrough) {
  Supervisor s;
  SpawnError err;
  ASSERT_TRUE(s.spawn({"sh", "-c", "exit 7"}, &err)) << err.message;
  EXPECT_EQ(s.wait().exit_code, 7);
}

TEST_F(SupervisorTest, DeathBySignalGives128PlusN) {
  Supervisor s;
  SpawnError err;
  ASSERT_TRUE(s.spawn({"sh", "-c", "kill -KILL $$"}, &err));
  auto exit = s.wait();
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_EQ(exit.exit_code, 128 + SIGKILL);
}

TEST_F(SupervisorTest, UnknownCommandIs127) {
  Supervisor s;
  SpawnError err;
  EXPECT_FALSE(s.spawn({"carbonclock-no-such-command-xyz"}, &err));
  EXPECT_EQ(err.exit_code, 127);
  EXPECT_NE(err.message.find("command not found"), std::string::npos);
}

TEST_F(SupervisorTest, ForwardsTerminationSignalsToTheJobsGroup) {
  Supervisor s;
  SpawnError err;
  // The job traps TERM and exits 42; a grandchild in the same group must get it too.
  auto ready =
      std::filesystem::temp_directory_path() / ("cc_sup_ready_" + std::to_string(::getpid()));
  std::filesystem::remove(ready);
  ASSERT_TRUE(s.spawn(
      {"sh", "-c", "trap 'exit 42' TERM; sleep 30 & touch " + ready.string() + "; wait"}, &err));
  std::thread sender([ready] {
    for (int i = 0; i < 500 && !std::filesystem::exists(ready); ++i)
      std::this_thread::sleep_for(10ms);
    ::kill(::getpid(), SIGTERM);  // as if someone signalled carbonclock
  });
  auto exit = s.wait();
  sender.join();
  EXPECT_EQ(exit.exit_code, 42);
  // The terminated grandchild may linger briefly as a zombie until init reaps it.
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = ::kill(-s.pid(), 0) != 0;
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone) << "the grandchild sleep should have been terminated";
}

TEST_F(SupervisorTest, CpuTimeOfTheWholeTreeIsReported) {
  Supervisor s;
  SpawnError err;
  ASSERT_TRUE(s.spawn({"sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"}, &err));
  EXPECT_GT(s.wait().cpu_s, 0.05);
}

// ---- stops: someone else's, the terminal's; a parent that dies ----

/// Records what the supervisor reports.
class StopRecorder final : public SupervisorEvents {
 public:
  void job_stopped(int sig) override { stopped = sig; }
  void job_continued() override { continued = true; }
  std::atomic<int> stopped{0};
  std::atomic<bool> continued{false};
};

TEST_F(SupervisorTest, AJobThatStopsItselfIsReportedAndASigtermStillEndsIt) {
  Supervisor s;
  StopRecorder events;
  s.set_events(&events);
  SpawnError err;
  ASSERT_TRUE(s.spawn({"sh", "-c", "kill -STOP $$; exit 3"}, &err)) << err.message;
  std::atomic<bool> done{false};
  std::thread sender([&] {
    // The supervisor notices the stop (WUNTRACED) while it waits; then carbonclock is told to
    // end. A stopped job cannot act on SIGTERM: it must be continued after it.
    test::eventually([&] { return events.stopped != 0; }, 30s);
    ::kill(::getpid(), SIGTERM);
    // Never hang the suite: end the job if the supervisor did not.
    if (!test::eventually([&] { return done.load(); }, 30s)) {
      ::kill(-s.pid(), SIGKILL);
      ::kill(-s.pid(), SIGCONT);
    }
  });
  JobExit exit = s.wait();
  done = true;
  sender.join();
  EXPECT_EQ(events.stopped, SIGSTOP);
  EXPECT_EQ(exit.exit_code, 128 + SIGTERM);
}

TEST_F(SupervisorTest, AJobContinuedBySomeoneElseIsReportedAndEndsNormally) {
  Supervisor s;
  StopRecorder events;
  s.set_events(&events);
  SpawnError err;
  auto go = std::filesystem::temp_directory_path() / ("cc_sup_go_" + std::to_string(::getpid()));
  std::filesystem::remove(go);
  // Stopped, continued by someone else, then it waits until the test saw the continue.
  ASSERT_TRUE(
      s.spawn({"sh", "-c",
               "kill -STOP $$; while [ ! -e " + go.string() + " ]; do sleep 0.02; done; exit 3"},
              &err))
      << err.message;
  std::thread other([&] {
    if (test::eventually([&] { return events.stopped != 0; }, 30s)) {
      ::kill(-s.pid(), SIGCONT);
      test::eventually([&] { return events.continued.load(); }, 30s);
      std::ofstream(go).put('\n');
    } else {
      ::kill(-s.pid(), SIGKILL);
    }
  });
  JobExit exit = s.wait();
  other.join();
  EXPECT_EQ(events.stopped, SIGSTOP);
  EXPECT_TRUE(events.continued);
  EXPECT_EQ(exit.exit_code, 3);
  std::filesystem::remove(go);
}

TEST_F(SupervisorTest, AStoppedSessionJobIsContinuedWhenItsParentDies) {
  // Even with no watchdog left (both killed at once), the job's first process is continued
  // by its parent-death signal.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    Supervisor s;
    s.set_new_session(true);
    SpawnError err;
    if (!s.spawn({"sleep", "60"}, &err)) ::_exit(1);
    ::kill(-s.pid(), SIGSTOP);
    pid_t job = s.pid();
    if (::write(fds[1], &job, sizeof job) != sizeof job) ::_exit(2);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  pid_t job = -1;
  ASSERT_EQ(::read(fds[0], &job, sizeof job), static_cast<ssize_t>(sizeof job));
  ::close(fds[0]);
  ASSERT_TRUE(test::eventually([&] { return test::proc_state(job) == 'T'; }));
  ::kill(owner, SIGKILL);
  ::waitpid(owner, nullptr, 0);
  EXPECT_TRUE(test::eventually([&] {
    char st = test::proc_state(job);
    return st != 'T' && st != '?';
  })) << test::proc_state(job);
  ::kill(job, SIGKILL);
}

TEST_F(SupervisorTest, PendingSignalsAreTakenEvenWhenTheWaitIsLate) {
  Supervisor s;
  s.set_new_session(true);
  SpawnError err;
  ASSERT_TRUE(s.spawn({"sleep", "30"}, &err));
  ::kill(::getpid(), SIGTERM);
  // A caller behind schedule (a slow re-plan) waits zero: the signal is still taken.
  WaitResult r = s.wait_for(Nanos(0));
  EXPECT_EQ(r.forwarded_signal, SIGTERM);
  EXPECT_EQ(s.wait().exit_code, 128 + SIGTERM);
}

// ---- a job's daemons: adopted, metered, reaped ----

class AdoptingSupervisorTest : public SupervisorTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cc_adopt_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(adopt_orphans().ok());
  }
  void TearDown() override {
    stop_adopting_orphans();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<Meter> meter(Clock& clock) {
    EstimateModel model;
    model.cpu_w_per_core = 10;
    model.estimate_dram = false;
    model.min_scan_interval = Nanos(0);
    std::vector<std::unique_ptr<Sensor>> sensors;
    sensors.push_back(make_estimate_sensor(model));
    return std::make_unique<Meter>(std::move(sensors), clock, MeterOptions{50ms, 5min, 1s});
  }
  std::string file(const char* name) const { return (dir_ / name).string(); }
  static std::string text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::filesystem::path dir_;
};

TEST_F(AdoptingSupervisorTest, ADaemonisedGrandchildsCpuTimeIsMeteredAndItIsReaped) {
  // The job starts a CPU-burning daemon (setsid, its parent exits at once), waits until it
  // has finished, and ends. The daemon writes its pid first and its own stat line last.
  const std::string daemon =
      "echo $$ > " + file("pid") +
      "; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; cat /proc/$$/stat > " +
      file("stat.tmp") + "; mv " + file("stat.tmp") + " " + file("stat");
  const std::string job = "(setsid sh -c '" + daemon + "' &); while [ ! -e " + file("stat") +
                          " ]; do sleep 0.05; done; sleep 0.3";
  RealClock clock;
  auto m = meter(clock);
  m->start();
  Supervisor s;
  SpawnError err;
  ASSERT_TRUE(s.spawn({"sh", "-c", job}, &err)) << err.message;
  m->attach_job(s.pid());
  m->start_thread();
  JobExit exit = s.wait();
  m->finish(exit.cpu_s);
  ASSERT_EQ(exit.exit_code, 0);

  // The daemon's own CPU time, from its stat line: utime + stime (fields 14 and 15).
  std::istringstream stat(text(file("stat")).substr(text(file("stat")).rfind(')') + 2));
  std::vector<std::string> fields{"", "", ""};  // fields 1-2 consumed with the comm
  for (std::string f; stat >> f;) fields.push_back(f);
  ASSERT_GT(fields.size(), 15u);
  const double tick_s = 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double daemon_cpu_s = (std::stod(fields[14]) + std::stod(fields[15])) * tick_s;
  EXPECT_GT(daemon_cpu_s, 0.05);

  // The job's own kernel total lacks the daemon (never its child's child it waited for); the
  // meter has both, to /proc's clock-tick rounding.
  const double metered_cpu_s = m->timeline().total_j() / 10;
  EXPECT_GE(metered_cpu_s, exit.cpu_s + daemon_cpu_s - 4 * tick_s)
      << "job " << exit.cpu_s << " s, daemon " << daemon_cpu_s << " s";
  // The supervisor reaped it: no zombie is left behind.
  const pid_t daemon_pid = std::stoi(text(file("pid")));
  EXPECT_EQ(::kill(daemon_pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_TRUE(m->warnings().empty()) << m->warnings().front();
}

TEST_F(AdoptingSupervisorTest, ADaemonLeftRunningWhenTheJobEndsIsNamedInTheWarnings) {
  RealClock clock;
  auto m = meter(clock);
  m->start();
  Supervisor s;
  SpawnError err;
  ASSERT_TRUE(s.spawn(
      {"sh", "-c", "(setsid sh -c 'echo $$ > " + file("pid") + "; exec sleep 30' &); exit 0"},
      &err));
  m->attach_job(s.pid());
  m->start_thread();
  JobExit exit = s.wait();
  for (int i = 0; i < 500 && !std::filesystem::exists(file("pid")); ++i)
    std::this_thread::sleep_for(10ms);
  m->finish(exit.cpu_s);
  const pid_t daemon_pid = std::stoi(text(file("pid")));
  ASSERT_EQ(m->warnings().size(), 1u);
  EXPECT_NE(m->warnings()[0].find(
                "1 process the job started was still running when it ended (first: pid " +
                std::to_string(daemon_pid)),
            std::string::npos)
      << m->warnings()[0];
  ::kill(daemon_pid, SIGKILL);
  size_t reaped = 0;
  for (int i = 0; i < 500 && reaped == 0; ++i) {
    std::this_thread::sleep_for(10ms);
    reaped = reap_adopted_orphans(0);
  }
  EXPECT_EQ(reaped, 1u);
}

}  // namespace
}  // namespace carbonclock

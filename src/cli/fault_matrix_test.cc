// The fault matrix: a scheduled run of the real carbonclock binary with a real job (the ticker)
// and its real watchdog, hit with real signals at each phase of the run, in every order:
// carbonclock killed, the watchdog killed, one then the other, the job killed, carbonclock
// stopped. The promise under test: a paused job is never left stopped. Each scenario asserts
// the state of every process involved from /proc/PID/stat and prints one line of the matrix
// ("fault-matrix: PHASE x FAULT -> OUTCOME") for the closing notes.
//
// The plan: 1 s slots, clean at +1, +2 and +7, --pause-resume 300 % of 3 s, so the job runs in
// +1..+3 ("running"), is paused in +3..+7 ("paused", SIGSTOP; or "checkpointed" with
// --pause-signal, the job having exited), and runs again from +7. Two transient phases are
// stretched to be hit: "checkpointing" (the job takes 2 s to save its checkpoint after the pause
// signal) and "resuming" (the resume command takes 2 s before the job starts again).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cli/cli_test_harness.h"
#include "common/files.h"
#include "execution/test_proc.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::proc_state;
namespace fs = std::filesystem;

enum class Phase { kRunning, kPaused, kCheckpointing, kCheckpointed, kResuming };
enum class Fault {
  kKillCarbonclock,              ///< SIGKILL carbonclock (`pkill -9 carbonclock`)
  kKillWatchdog,                 ///< SIGKILL the watchdog; carbonclock lives on
  kKillWatchdogThenCarbonclock,  ///< one right after the other
  kKillCarbonclockThenWatchdog,
  kKillJob,           ///< SIGKILL the job
  kStopCarbonclock,   ///< SIGSTOP carbonclock (the watchdog must keep the deadline)
  kTermWhileStopped,  ///< SIGTERM to carbonclock while the job is paused
};

const char* name(Phase p) {
  switch (p) {
    case Phase::kRunning:
      return "running";
    case Phase::kPaused:
      return "paused";
    case Phase::kCheckpointing:
      return "checkpointing";
    case Phase::kCheckpointed:
      return "checkpointed";
    case Phase::kResuming:
      return "resuming";
  }
  return "?";
}
const char* name(Fault f) {
  switch (f) {
    case Fault::kKillCarbonclock:
      return "SIGKILL carbonclock";
    case Fault::kKillWatchdog:
      return "SIGKILL watchdog";
    case Fault::kKillWatchdogThenCarbonclock:
      return "SIGKILL watchdog, then carbonclock";
    case Fault::kKillCarbonclockThenWatchdog:
      return "SIGKILL carbonclock, then watchdog";
    case Fault::kKillJob:
      return "SIGKILL job";
    case Fault::kStopCarbonclock:
      return "SIGSTOP carbonclock";
    case Fault::kTermWhileStopped:
      return "SIGTERM carbonclock";
  }
  return "?";
}

/// PPID and process name (comm) from /proc/PID/stat; -1 and "" when gone.
std::pair<pid_t, std::string> ppid_and_comm(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return {-1, ""};
  auto open = line.find('(');
  auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 4 >= line.size()) {
    return {-1, ""};
  }
  std::string comm = line.substr(open + 1, close - open - 1);
  pid_t ppid = std::atoi(line.c_str() + line.find(' ', close + 2) + 1);
  return {ppid, comm};
}

/// Whether the phase runs the job with --pause-signal (checkpoint and restart).
bool checkpoints(Phase p) { return p != Phase::kRunning && p != Phase::kPaused; }

/// The watchdog of carbonclock `cc`: its child named carbon-watchdog.
pid_t find_watchdog(pid_t cc) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    pid_t pid = std::atoi(e.path().filename().c_str());
    if (pid <= 0) continue;
    auto [ppid, comm] = ppid_and_comm(pid);
    if (ppid == cc && comm == "carbon-watchdog") return pid;
  }
  return -1;
}

bool alive(pid_t pid) {
  char s = proc_state(pid);
  return s != '?' && s != 'Z' && s != 'X';
}

struct Scenario {
  Phase phase;
  Fault fault;
};

class FaultMatrixTest : public ::testing::TestWithParam<Scenario> {
 protected:
  static void SetUpTestSuite() {
    // Orphans (the watchdog and the job once carbonclock is dead) come to this process, which
    // reaps them, instead of lingering as zombies under a container's init.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  void SetUp() override {
    dir_ = fresh_test_dir("cc_fault");
    fs::create_directories(dir_ / "sysfs");
    cli_ = CliHarness(dir_);
    cli_.env = {{"CARBONCLOCK_DB", (dir_ / "absent.db").string()},
                {"CARBONCLOCK_SYSFS_ROOT", (dir_ / "sysfs").string()}};
    std::string text = "start,duration_s,g_per_kwh\n";
    const double values[] = {500, 100, 100, 900, 900, 900, 900, 100, 100, 100,
                             500, 500, 500, 500, 500, 500, 500, 500, 500, 500};
    for (size_t i = 0; i < std::size(values); ++i) {
      text += fmt::format("+{},1,{}\n", i, values[i]);
    }
    std::ofstream(dir_ / "i.csv") << text;
  }
  void TearDown() override {
    // Whatever the outcome, leave nothing behind: continue and end every process involved.
    for (pid_t p : jobs_) {
      ::kill(p, SIGKILL);
      ::kill(p, SIGCONT);
    }
    for (pid_t p : {cc_, watchdog_}) {
      if (p <= 0) continue;
      ::kill(p, SIGKILL);
      ::kill(p, SIGCONT);
    }
    eventually([] { return ::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD; }, 10s);
    fs::remove_all(dir_);
  }

  std::vector<std::string> args(Phase phase) const {
    const bool checkpoint = checkpoints(phase);
    std::string ticks = (dir_ / "ticks").string();
    std::string pid = (dir_ / "pid").string();
    std::string cp = (dir_ / "checkpoint").string();
    std::vector<std::string> a{"run",
                               "--no-gpu",
                               "--out",
                               (dir_ / "run").string(),
                               "--zone",
                               "DE",
                               "--slot",
                               "1s",
                               "--intensity-file",
                               (dir_ / "i.csv").string(),
                               "--pause-resume",
                               "300%",
                               "--expected-duration",
                               "3s"};
    std::vector<std::string> job{TEST_TICKER, ticks, "3", "--pid-file", pid};
    if (checkpoint) {
      // "checkpointing": saving takes 2 s; "resuming": the resume command waits 2 s, marked.
      std::string delay = phase == Phase::kCheckpointing ? " --checkpoint-delay 2" : "";
      std::string before = phase == Phase::kResuming
                               ? fmt::format("echo > {}; sleep 2; ", (dir_ / "resuming").string())
                               : "";
      a.insert(a.end(),
               {"--pause-signal", "USR1", "--resume-command",
                fmt::format("{}exec {} {} 3 --pid-file {} --checkpoint {} --pause-signal {}{}",
                            before, TEST_TICKER, ticks, pid, cp, SIGUSR1, delay)});
      job.insert(job.end(), {"--checkpoint", cp, "--pause-signal", std::to_string(SIGUSR1)});
      if (!delay.empty()) job.insert(job.end(), {"--checkpoint-delay", "2"});
    }
    a.push_back("--");
    a.insert(a.end(), job.begin(), job.end());
    return a;
  }
  /// The job's current pid (the pid file; a restarted job writes its own), remembered.
  pid_t job_pid() {
    pid_t pid = -1;
    std::ifstream f(dir_ / "pid");
    if (!(f >> pid)) return -1;
    jobs_.insert(pid);
    return pid;
  }
  size_t ticks() const {
    std::ifstream f(dir_ / "ticks");
    size_t n = 0;
    std::string line;
    while (std::getline(f, line)) ++n;
    return n;
  }
  /// carbonclock's exit status once it ended (-1 while it runs).
  int cc_exit() {
    if (cc_status_ >= 0) return cc_status_;
    int status = 0;
    if (::waitpid(cc_, &status, WNOHANG) != cc_) return -1;
    cc_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return cc_status_;
  }
  /// No process involved is stopped: every job pid ever seen, the watchdog, carbonclock.
  std::string stopped_processes() {
    job_pid();
    std::string out;
    for (pid_t p : jobs_) {
      if (proc_state(p) == 'T') out += fmt::format(" job {}", p);
    }
    if (watchdog_ > 0 && proc_state(watchdog_) == 'T') out += " watchdog";
    return out;
  }
  /// The job works again: ticks are added after `before`.
  bool works_again(size_t before) {
    return eventually([&] { return ticks() > before + 2 || fs::exists(dir_ / "done"); }, 30s);
  }

  fs::path dir_;
  CliHarness cli_{""};
  pid_t cc_ = -1;
  int cc_status_ = -1;
  pid_t watchdog_ = -1;
  std::set<pid_t> jobs_;
};

TEST_P(FaultMatrixTest, APausedJobIsNeverLeftStopped) {
  const Scenario sc = GetParam();
  const bool checkpoint = checkpoints(sc.phase);
  cc_ = cli_.start(args(sc.phase));
  ASSERT_TRUE(eventually([&] { return (watchdog_ = find_watchdog(cc_)) > 0; }, 30s)) << cli_.err();
  // `pkill carbonclock` never takes the watchdog with it.
  EXPECT_EQ(ppid_and_comm(watchdog_).second, "carbon-watchdog");
  ASSERT_TRUE(eventually([&] { return job_pid() > 0 && ticks() > 0; }, 30s)) << cli_.err();
  const pid_t first_job = job_pid();

  // Reach the phase.
  switch (sc.phase) {
    case Phase::kRunning:
      break;  // the job ticks in +1..+3
    case Phase::kPaused:
      ASSERT_TRUE(eventually([&] { return proc_state(first_job) == 'T'; }, 30s)) << cli_.err();
      break;
    case Phase::kCheckpointing:
      ASSERT_TRUE(eventually(
          [&] { return fs::exists(dir_ / "checkpoint.saving") && alive(first_job); }, 30s))
          << cli_.err();
      break;
    case Phase::kCheckpointed:
      ASSERT_TRUE(
          eventually([&] { return fs::exists(dir_ / "checkpoint") && !alive(first_job); }, 30s))
          << cli_.err();
      break;
    case Phase::kResuming:
      ASSERT_TRUE(eventually([&] { return fs::exists(dir_ / "resuming"); }, 30s)) << cli_.err();
      break;
  }
  const size_t ticks_before = ticks();

  // The fault.
  switch (sc.fault) {
    case Fault::kKillCarbonclock:
      ::kill(cc_, SIGKILL);
      break;
    case Fault::kKillWatchdog:
      ::kill(watchdog_, SIGKILL);
      break;
    case Fault::kKillWatchdogThenCarbonclock:
      ::kill(watchdog_, SIGKILL);
      ::kill(cc_, SIGKILL);
      break;
    case Fault::kKillCarbonclockThenWatchdog:
      ::kill(cc_, SIGKILL);
      ::kill(watchdog_, SIGKILL);
      break;
    case Fault::kKillJob:
      ::kill(first_job, SIGKILL);
      break;
    case Fault::kStopCarbonclock:
      ::kill(cc_, SIGSTOP);
      break;
    case Fault::kTermWhileStopped:
      ::kill(cc_, SIGTERM);
      break;
  }

  // The outcome.
  std::string outcome;
  switch (sc.fault) {
    case Fault::kKillCarbonclock:
    case Fault::kKillCarbonclockThenWatchdog:
    case Fault::kKillWatchdogThenCarbonclock: {
      ASSERT_TRUE(eventually([&] { return cc_exit() >= 0; }, 30s));
      EXPECT_EQ(cc_exit(), 128 + SIGKILL);
      // Killed together, nobody may be left to run a checkpointed job's resume command: it
      // stays at its checkpoint, never stopped (documented). Every other case works again: a
      // job saving its checkpoint is restarted by the watchdog once saved, a resume command
      // already started runs on.
      bool restart_expected =
          sc.phase == Phase::kResuming || !(checkpoint && sc.fault != Fault::kKillCarbonclock);
      if (restart_expected) {
        EXPECT_TRUE(works_again(ticks_before)) << cli_.err();
        outcome = "the job was continued (or restarted) and works on";
      } else {
        outcome = "the job stays at its checkpoint (no resume command runs); nothing stopped";
      }
      EXPECT_TRUE(eventually([&] { return stopped_processes().empty(); }, 30s))
          << stopped_processes();
      break;
    }
    case Fault::kKillWatchdog: {
      // carbonclock notices (no pause without a live watchdog) and runs the job straight
      // through; the job is never stopped from then on.
      std::string seen_stopped;
      bool ended = eventually(
          [&] {
            if (proc_state(first_job) == 'T' && sc.phase == Phase::kRunning) {
              seen_stopped = "the job was paused without a watchdog";
            }
            return cc_exit() >= 0;
          },
          60s);
      ASSERT_TRUE(ended) << cli_.err();
      EXPECT_EQ(cc_exit(), 0) << cli_.err();
      EXPECT_EQ(seen_stopped, "");
      EXPECT_NE(cli_.err().find("watchdog"), std::string::npos) << cli_.err();
      outcome = "carbonclock warned and ran the job to its end (exit 0)";
      break;
    }
    case Fault::kKillJob: {
      ASSERT_TRUE(eventually([&] { return cc_exit() >= 0; }, 30s)) << cli_.err();
      if (sc.phase == Phase::kCheckpointed || sc.phase == Phase::kResuming) {
        // The job had already exited at its checkpoint: the kill found nobody, the run goes on.
        EXPECT_EQ(cc_exit(), 0) << cli_.err();
        outcome = "nothing to kill; the run ended normally (exit 0)";
      } else {
        EXPECT_EQ(cc_exit(), 128 + SIGKILL) << cli_.err();
        outcome = "carbonclock passed on the job's death (exit 137)";
      }
      // The watchdog goes with carbonclock.
      EXPECT_TRUE(eventually([&] { return !alive(watchdog_); }, 30s));
      break;
    }
    case Fault::kStopCarbonclock: {
      // carbonclock cannot act; the watchdog resumes the job at its latest resume time.
      EXPECT_TRUE(eventually([&] { return proc_state(cc_) == 'T'; }));
      if (sc.phase == Phase::kResuming) {
        EXPECT_TRUE(works_again(ticks_before)) << cli_.err();
        EXPECT_EQ(stopped_processes(), "");
        outcome = "the resume command already started ran the job on";
      } else if (sc.phase != Phase::kRunning) {
        EXPECT_TRUE(works_again(ticks_before)) << cli_.err();
        EXPECT_EQ(stopped_processes(), "");
        outcome = "the watchdog resumed the job at its latest resume time";
      } else {
        outcome = "the job ran on (carbonclock could not pause it)";
      }
      EXPECT_EQ(proc_state(cc_), 'T');  // still stopped: the watchdog acted, not carbonclock
      ::kill(cc_, SIGCONT);
      ASSERT_TRUE(eventually([&] { return cc_exit() >= 0; }, 60s)) << cli_.err();
      EXPECT_EQ(cc_exit(), 0) << cli_.err();
      outcome += "; continued, carbonclock finished the run (exit 0)";
      break;
    }
    case Fault::kTermWhileStopped: {
      ASSERT_TRUE(eventually([&] { return cc_exit() >= 0; }, 30s)) << cli_.err();
      if (sc.phase == Phase::kCheckpointed) {
        // A checkpointed job has no process to signal: carbonclock ends and leaves the
        // checkpoint for a later resume (the watchdog is told not to restart it).
        EXPECT_EQ(cc_exit(), 128 + SIGTERM) << cli_.err();
        outcome = "carbonclock ended (exit 143); the checkpoint is kept";
      } else if (sc.phase == Phase::kResuming) {
        // The resume command is the job now: it got the signal and ended.
        EXPECT_EQ(cc_exit(), 128 + SIGTERM) << cli_.err();
        outcome = "the resume command got SIGTERM and ended; exit 143";
      } else {
        // The job got SIGTERM, then SIGCONT so it could act on it.
        EXPECT_EQ(cc_exit(), 128 + SIGTERM) << cli_.err();
        EXPECT_TRUE(eventually([&] { return !alive(first_job); }, 30s));
        outcome = "the job got SIGTERM (and SIGCONT) and ended; exit 143";
      }
      break;
    }
  }
  EXPECT_TRUE(eventually([&] { return stopped_processes().empty(); }, 30s)) << stopped_processes();
  std::printf("fault-matrix: %-13s x %-36s -> %s\n", name(sc.phase), name(sc.fault),
              outcome.c_str());
}

std::vector<Scenario> all_scenarios() {
  std::vector<Scenario> out;
  for (Phase p : {Phase::kRunning, Phase::kPaused, Phase::kCheckpointing, Phase::kCheckpointed,
                  Phase::kResuming}) {
    for (Fault f : {Fault::kKillCarbonclock, Fault::kKillWatchdog,
                    Fault::kKillWatchdogThenCarbonclock, Fault::kKillCarbonclockThenWatchdog,
                    Fault::kKillJob, Fault::kStopCarbonclock, Fault::kTermWhileStopped}) {
      out.push_back({p, f});
    }
  }
  return out;
}

std::string scenario_name(const ::testing::TestParamInfo<Scenario>& info) {
  std::string out = std::string(name(info.param.phase)) + "_";
  for (char c : std::string(name(info.param.fault))) {
    if (std::isalnum(static_cast<unsigned char>(c))) out.push_back(c);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryPhaseAndFault, FaultMatrixTest, ::testing::ValuesIn(all_scenarios()),
                         scenario_name);

}  // namespace
}  // namespace carbonclock

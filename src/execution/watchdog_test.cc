#include "execution/watchdog.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "execution/test_proc.h"

extern char** environ;

namespace carbonclock {
namespace {

using test::eventually;
using test::proc_state;
using namespace std::chrono_literals;

/// Spawns `sleep 60` as the leader of a new session (as the executor spawns jobs).
pid_t spawn_sleeper() {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = -1;
  char arg0[] = "sleep", arg1[] = "60";
  char* argv[] = {arg0, arg1, nullptr};
  posix_spawnp(&pid, "sleep", nullptr, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  return pid;
}

TEST(WatchdogTest, ContinuesAStoppedJobWhenItsOwnerIsKilled) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    // The owner plays carbonclock: watchdog, job, stop it, then wait to be killed.
    auto dog = Watchdog::start();
    if (!dog) ::_exit(1);
    pid_t job = spawn_sleeper();
    ::kill(-job, SIGSTOP);
    if (!dog->watch(job)) ::_exit(2);
    if (::write(fds[1], &job, sizeof job) != sizeof job) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  pid_t job = -1;
  ASSERT_EQ(::read(fds[0], &job, sizeof job), static_cast<ssize_t>(sizeof job));
  ::close(fds[0]);
  ASSERT_TRUE(eventually([&] { return proc_state(job) == 'T'; })) << proc_state(job);
  ::kill(owner, SIGKILL);
  ::waitpid(owner, nullptr, 0);
  // Not stopped any more, and still alive (S: sleeping in nanosleep).
  EXPECT_TRUE(eventually([&] {
    char s = proc_state(job);
    return s != 'T' && s != '?';
  })) << proc_state(job);
  EXPECT_NE(proc_state(job), 'Z');
  ::kill(job, SIGKILL);
}

TEST(WatchdogTest, LeavesUnwatchedGroupsAlone) {
  pid_t job = spawn_sleeper();
  ASSERT_GT(job, 0);
  ::kill(-job, SIGSTOP);
  ASSERT_TRUE(eventually([&] { return proc_state(job) == 'T'; }));
  {
    auto dog = Watchdog::start();
    ASSERT_TRUE(dog) << dog.error().message();
    ASSERT_TRUE(dog->watch(job));
    ASSERT_TRUE(dog->unwatch(job));
  }  // closes and reaps the watchdog
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(proc_state(job), 'T');
  ::kill(-job, SIGKILL);
  ::kill(-job, SIGCONT);
  ::waitpid(job, nullptr, 0);
}

TEST(WatchdogTest, NormalCloseContinuesWhatIsStillWatched) {
  pid_t job = spawn_sleeper();
  ASSERT_GT(job, 0);
  ::kill(-job, SIGSTOP);
  ASSERT_TRUE(eventually([&] { return proc_state(job) == 'T'; }));
  {
    auto dog = Watchdog::start();
    ASSERT_TRUE(dog);
    ASSERT_TRUE(dog->watch(job));
  }
  EXPECT_TRUE(eventually([&] { return proc_state(job) != 'T'; }));
  ::kill(job, SIGKILL);
  ::waitpid(job, nullptr, 0);
}

TEST(WatchdogTest, RunsTheResumeCommandWhenItsOwnerDiesWhileTheJobIsCheckpointed) {
  auto marker = std::filesystem::temp_directory_path() /
                ("cc_watchdog_resumed_" + std::to_string(::getpid()));
  std::filesystem::remove(marker);
  pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    auto dog = Watchdog::start({"/bin/sh", "-c", "echo resumed > " + marker.string()});
    if (!dog || !dog->checkpointed()) ::_exit(1);
    ::_exit(0);  // carbonclock goes away while the job sits at its checkpoint
  }
  ::waitpid(owner, nullptr, 0);
  EXPECT_TRUE(eventually([&] { return std::filesystem::exists(marker); }));
  std::filesystem::remove(marker);
}

/// Spawns `sh -c SCRIPT` as the leader of a new session.
pid_t spawn_shell(const std::string& script) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = -1;
  std::string arg0 = "sh", arg1 = "-c", arg2 = script;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  posix_spawnp(&pid, "sh", nullptr, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  return pid;
}

TEST(WatchdogTest, RestartsAJobThatFinishesSavingItsCheckpointAfterItsOwnerDied) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("cc_watchdog_saving_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string saved = (dir / "saved").string(), marker = (dir / "resumed").string();
  pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    // The resume command records whether the checkpoint was complete when it ran.
    auto dog = Watchdog::start({"/bin/sh", "-c",
                                "if [ -e " + saved + " ]; then echo after > " + marker +
                                    "; else echo before > " + marker + "; fi"});
    if (!dog) ::_exit(1);
    // The job takes 1 s to save its checkpoint, then exits.
    pid_t job = spawn_shell("sleep 1; echo > " + saved);
    if (!dog->checkpointing(job, std::chrono::system_clock::now() + 10s)) ::_exit(2);
    ::_exit(0);  // carbonclock goes away while the job is saving
  }
  int status = 0;
  ::waitpid(owner, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(eventually([&] { return fs::exists(marker) && fs::file_size(marker) > 0; }, 10s));
  std::ifstream f(marker);
  std::string when;
  f >> when;
  EXPECT_EQ(when, "after");
  fs::remove_all(dir);
}

TEST(WatchdogTest, LeavesAJobThatIgnoresItsPauseSignalRunningWhenItsOwnerDied) {
  namespace fs = std::filesystem;
  fs::path marker =
      fs::temp_directory_path() / ("cc_watchdog_ignored_" + std::to_string(::getpid()));
  fs::remove(marker);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    auto dog = Watchdog::start({"/bin/sh", "-c", "echo resumed > " + marker.string()});
    if (!dog) ::_exit(1);
    pid_t job = spawn_sleeper();  // never exits on its own
    if (!dog->checkpointing(job, std::chrono::system_clock::now() + 500ms)) ::_exit(2);
    if (::write(fds[1], &job, sizeof job) != sizeof job) ::_exit(3);
    ::_exit(0);
  }
  ::close(fds[1]);
  pid_t job = -1;
  ASSERT_EQ(::read(fds[0], &job, sizeof job), static_cast<ssize_t>(sizeof job));
  ::close(fds[0]);
  ::waitpid(owner, nullptr, 0);
  std::this_thread::sleep_for(1500ms);  // past the job's grace: the watchdog has given up
  EXPECT_FALSE(fs::exists(marker));
  char state = proc_state(job);
  EXPECT_TRUE(state != 'T' && state != '?' && state != 'Z') << state;
  ::kill(job, SIGKILL);
}

TEST(WatchdogTest, RunsNoResumeCommandOnceTheJobWasResumed) {
  auto marker = std::filesystem::temp_directory_path() /
                ("cc_watchdog_not_resumed_" + std::to_string(::getpid()));
  std::filesystem::remove(marker);
  {
    auto dog = Watchdog::start({"/bin/sh", "-c", "echo resumed > " + marker.string()});
    ASSERT_TRUE(dog);
    ASSERT_TRUE(dog->checkpointed());
    ASSERT_TRUE(dog->resumed());
  }  // closes and reaps the watchdog
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(std::filesystem::exists(marker));
}

std::string proc_text(pid_t pid, const char* file) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/" + file);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// Stops `job`'s group and waits until it is stopped.
void stop(pid_t job) {
  ::kill(-job, SIGSTOP);
  ASSERT_TRUE(eventually([&] { return proc_state(job) == 'T'; })) << proc_state(job);
}

void kill_and_reap(pid_t job) {
  ::kill(-job, SIGKILL);
  ::kill(-job, SIGCONT);
  ::waitpid(job, nullptr, 0);
}

/// Whether a process here may set its OOM score adjustment to -1000 (CAP_SYS_RESOURCE, and a
/// kernel or sandbox that allows it).
bool may_lower_oom_score() {
  pid_t child = ::fork();
  if (child == 0) {
    int fd = ::open("/proc/self/oom_score_adj", O_WRONLY);
    ::_exit(fd >= 0 && ::write(fd, "-1000", 5) == 5 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(WatchdogTest, HasItsOwnNameSessionAndOomScore) {
  for (auto launch : {Watchdog::Launch::kExecSelf, Watchdog::Launch::kFork}) {
    auto dog = Watchdog::start({}, launch);
    ASSERT_TRUE(dog) << dog.error().message();
    EXPECT_EQ(dog->exec_self(), launch == Watchdog::Launch::kExecSelf);
    // `pkill carbonclock` matches process names (comm): the watchdog's does not contain it.
    EXPECT_EQ(proc_text(dog->pid(), "comm"), "carbon-watchdog\n");
    if (launch == Watchdog::Launch::kExecSelf) {
      std::string cmdline = proc_text(dog->pid(), "cmdline");
      EXPECT_EQ(cmdline.substr(0, cmdline.find('\0')), "carbonclock-watchdog");
    }
    // Its own session and process group: a kill of ours, or our terminal's hangup, misses it.
    EXPECT_EQ(::getsid(dog->pid()), dog->pid());
    EXPECT_EQ(::getpgid(dog->pid()), dog->pid());
    int adj = std::stoi(proc_text(dog->pid(), "oom_score_adj"));
    if (may_lower_oom_score()) {
      EXPECT_EQ(adj, -1000);
    } else {
      EXPECT_LE(adj, std::stoi(proc_text(::getpid(), "oom_score_adj")));
    }
    EXPECT_TRUE(dog->ping());
  }
}

TEST(WatchdogTest, SurvivesAKillOfItsOwnersProcessGroupAndContinuesTheJob) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    ::setpgid(0, 0);  // carbonclock's own group, as a shell gives it
    auto dog = Watchdog::start();
    if (!dog) ::_exit(1);
    pid_t job = spawn_sleeper();
    ::kill(-job, SIGSTOP);
    if (!dog->watch(job)) ::_exit(2);
    if (::write(fds[1], &job, sizeof job) != sizeof job) ::_exit(3);
    for (;;) ::pause();
  }
  ::setpgid(owner, owner);
  ::close(fds[1]);
  pid_t job = -1;
  ASSERT_EQ(::read(fds[0], &job, sizeof job), static_cast<ssize_t>(sizeof job));
  ::close(fds[0]);
  ASSERT_TRUE(eventually([&] { return proc_state(job) == 'T'; })) << proc_state(job);
  ::kill(-owner, SIGKILL);  // carbonclock's whole process group
  ::waitpid(owner, nullptr, 0);
  EXPECT_TRUE(eventually([&] {
    char st = proc_state(job);
    return st != 'T' && st != '?';
  })) << proc_state(job);
  ::kill(job, SIGKILL);
}

TEST(WatchdogTest, KeepsTheLatestResumeTimeWhenItsOwnerDoesNot) {
  pid_t job = spawn_sleeper();
  ASSERT_GT(job, 0);
  stop(job);
  auto dog = Watchdog::start();
  ASSERT_TRUE(dog) << dog.error().message();
  ASSERT_TRUE(dog->watch(job));
  SysTime due = std::chrono::system_clock::now() + 300ms;
  ASSERT_TRUE(dog->resume_by(due));
  // The owner (this test) does nothing: the watchdog continues the job at that time.
  EXPECT_TRUE(eventually([&] { return proc_state(job) != 'T'; })) << proc_state(job);
  EXPECT_GE(std::chrono::system_clock::now(), due);
  auto action = dog->ping();
  ASSERT_TRUE(action) << action.error().message();
  EXPECT_EQ(action->kind, WatchdogAction::Kind::kContinued);
  EXPECT_GE(action->at_utc, due);
  // Reported once.
  EXPECT_EQ(dog->ping()->kind, WatchdogAction::Kind::kNone);
  ASSERT_TRUE(dog->unwatch(job));
  kill_and_reap(job);
}

TEST(WatchdogTest, ResumingFirstCancelsTheLatestResumeTime) {
  pid_t job = spawn_sleeper();
  ASSERT_GT(job, 0);
  stop(job);
  auto dog = Watchdog::start();
  ASSERT_TRUE(dog);
  ASSERT_TRUE(dog->watch(job));
  ASSERT_TRUE(dog->resume_by(std::chrono::system_clock::now() + 200ms));
  auto action = dog->resuming();
  ASSERT_TRUE(action);
  EXPECT_EQ(action->kind, WatchdogAction::Kind::kNone);
  std::this_thread::sleep_for(600ms);  // past the cancelled time: nothing may happen
  EXPECT_EQ(proc_state(job), 'T');
  EXPECT_EQ(dog->ping()->kind, WatchdogAction::Kind::kNone);
  ASSERT_TRUE(dog->unwatch(job));
  kill_and_reap(job);
}

TEST(WatchdogTest, RestartsACheckpointedJobAtItsLatestResumeTimeAsItsOwnersChild) {
  auto marker = std::filesystem::temp_directory_path() /
                ("cc_watchdog_restart_" + std::to_string(::getpid()));
  std::filesystem::remove(marker);
  // The restarted job reports which signals it ignores: none of the watchdog's own.
  auto dog = Watchdog::start(
      {"/bin/sh", "-c", "grep SigIgn /proc/self/status > " + marker.string() + "; exit 7"});
  ASSERT_TRUE(dog);
  ASSERT_TRUE(dog->checkpointed());
  ASSERT_TRUE(dog->resume_by(std::chrono::system_clock::now() + 100ms));
  WatchdogAction action;
  ASSERT_TRUE(eventually([&] {
    auto a = dog->ping();
    if (a && a->kind != WatchdogAction::Kind::kNone) action = *a;
    return action.kind != WatchdogAction::Kind::kNone;
  }));
  EXPECT_EQ(action.kind, WatchdogAction::Kind::kRestarted);
  ASSERT_GT(action.pid, 0);
  // A child of this process (CLONE_PARENT): its owner reaps it and learns its exit code.
  int status = 0;
  ASSERT_EQ(::waitpid(action.pid, &status, 0), action.pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
  std::ifstream f(marker);
  std::string label, mask;
  f >> label >> mask;
  ASSERT_EQ(label, "SigIgn:");
  unsigned long long ignored = std::stoull(mask, nullptr, 16);
  EXPECT_EQ(ignored & (1ULL << (SIGTERM - 1)), 0u) << mask;
  EXPECT_EQ(ignored & (1ULL << (SIGINT - 1)), 0u) << mask;
  EXPECT_EQ(ignored & (1ULL << (SIGHUP - 1)), 0u) << mask;
  std::filesystem::remove(marker);
}

TEST(WatchdogTest, AStoppedWatchdogIsNotConfirmed) {
  auto dog = Watchdog::start();
  ASSERT_TRUE(dog);
  ::kill(dog->pid(), SIGSTOP);
  auto a = dog->ping();
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find("did not answer"), std::string::npos) << a.error().message();
  EXPECT_FALSE(dog->watch(1234));  // never trusted again
}  // closing it continues and reaps it: no hang

TEST(WatchdogTest, AKilledWatchdogIsNotConfirmed) {
  auto dog = Watchdog::start();
  ASSERT_TRUE(dog);
  ::kill(dog->pid(), SIGKILL);
  auto a = dog->ping();
  ASSERT_FALSE(a);
  EXPECT_FALSE(dog->ping());
}

}  // namespace
}  // namespace carbonclock

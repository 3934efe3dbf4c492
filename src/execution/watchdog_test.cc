#include "execution/watchdog.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
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

}  // namespace
}  // namespace carbonclock

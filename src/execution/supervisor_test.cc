#include "execution/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

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

}  // namespace
}  // namespace carbonclock

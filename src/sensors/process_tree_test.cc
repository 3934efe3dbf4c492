#include "sensors/process_tree.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace carbonclock {
namespace {

TEST(ProcessTree, FindsChildrenAndGrandchildren) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execlp("sh", "sh", "-c", "sleep 5 & sleep 5; wait", nullptr);
    ::_exit(127);
  }
  std::vector<pid_t> pids;
  for (int i = 0; i < 100 && pids.size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pids = process_tree_pids(child);
  }
  EXPECT_EQ(pids.size(), 3u);
  EXPECT_NE(std::find(pids.begin(), pids.end(), child), pids.end());
  auto tree = process_tree(child);
  for (const auto& st : tree) EXPECT_GT(st.resident_b, 0);
  ::kill(-child, SIGKILL);
  ::kill(child, SIGKILL);
  for (pid_t p : pids) ::kill(p, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST(ProcessTree, GoneRootGivesEmpty) { EXPECT_TRUE(process_tree_pids(999999999).empty()); }

}  // namespace
}  // namespace carbonclock

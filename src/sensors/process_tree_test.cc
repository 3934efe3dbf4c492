#include "sensors/process_tree.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "sensors/fake_proc.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

bool contains(const std::vector<pid_t>& pids, pid_t pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

TEST(ProcessTree, FindsChildrenAndGrandchildren) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execlp("sh", "sh", "-c", "sleep 5 & sleep 5; wait", nullptr);
    ::_exit(127);
  }
  std::vector<pid_t> pids;
  for (int i = 0; i < 500 && pids.size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pids = process_tree_pids(child);
  }
  EXPECT_EQ(pids.size(), 3u);
  EXPECT_NE(std::find(pids.begin(), pids.end(), child), pids.end());
  auto tree = process_tree(child);
  for (const auto& st : tree) EXPECT_GT(st.resident_b, 0);
  // The scan of every process, the old way and the fallback, finds the same tree.
  std::vector<pid_t> scanned;
  for (const auto& st : process_tree_by_scan(child)) scanned.push_back(st.pid);
  std::sort(pids.begin(), pids.end());
  std::sort(scanned.begin(), scanned.end());
  EXPECT_EQ(scanned, pids);
  ::kill(-child, SIGKILL);
  ::kill(child, SIGKILL);
  for (pid_t p : pids) ::kill(p, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST(ProcessTree, GoneRootGivesEmpty) { EXPECT_TRUE(process_tree_pids(999999999).empty()); }

TEST(ProcessTree, ChildrenOfEveryThreadAreFound) {
  // A child forked by a second thread is listed in that thread's children file only.
  pid_t child = -1;
  std::thread spawner([&child] {
    child = ::fork();
    if (child == 0) {
      ::execlp("sleep", "sleep", "5", nullptr);
      ::_exit(127);
    }
  });
  spawner.join();
  ASSERT_GT(child, 0);
  auto kids = process_children(::getpid());
  ASSERT_TRUE(kids.has_value());
  EXPECT_TRUE(contains(*kids, child));
  EXPECT_TRUE(contains(process_tree_pids(::getpid()), child));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST(ProcessTree, AdoptedOrphansAreFollowedAndReapedHelpersAreNot) {
  // A helper that exists before adoption starts (as the watchdog does) is never the job's.
  pid_t helper = ::fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_TRUE(adopt_orphans().ok());
  ASSERT_TRUE(adopting_orphans());
  // The job double-forks a daemon and exits: the daemon is re-parented to this process.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t job = ::fork();
  ASSERT_GE(job, 0);
  if (job == 0) {
    pid_t daemon = ::fork();
    if (daemon == 0) {
      ::setsid();
      ::pause();
      ::_exit(0);
    }
    (void)!::write(fds[1], &daemon, sizeof daemon);
    ::_exit(0);
  }
  pid_t daemon = 0;
  ASSERT_EQ(::read(fds[0], &daemon, sizeof daemon), static_cast<ssize_t>(sizeof daemon));
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_EQ(::waitpid(job, nullptr, 0), job);
  std::optional<ProcessStat> st;
  for (int i = 0; i < 500 && (!st || st->ppid != ::getpid()); ++i) {
    std::this_thread::sleep_for(10ms);
    st = read_process(daemon);
  }
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->ppid, ::getpid());
  auto pids = process_tree_pids(job);  // the job is gone; its daemon is still the job's
  EXPECT_TRUE(contains(pids, daemon));
  EXPECT_FALSE(contains(pids, helper));

  ::kill(daemon, SIGKILL);
  ::kill(helper, SIGKILL);
  size_t reaped = 0;
  for (int i = 0; i < 500 && reaped == 0; ++i) {
    std::this_thread::sleep_for(10ms);
    reaped = reap_adopted_orphans(0);
  }
  EXPECT_EQ(reaped, 1u);
  EXPECT_EQ(::waitpid(daemon, nullptr, WNOHANG), -1);  // already reaped
  EXPECT_EQ(::waitpid(helper, nullptr, 0), helper);    // left for its owner
  stop_adopting_orphans();
  EXPECT_FALSE(adopting_orphans());
}

// ---- tree accounting on a fake /proc ----

constexpr pid_t kSelf = 1000;

class TrackerTest : public ::testing::Test {
 protected:
  explicit TrackerTest(bool children_files = true)
      : proc_(
            std::filesystem::temp_directory_path() / ("cc_fake_proc_" + std::to_string(::getpid())),
            children_files) {}

  ProcessTreeSource source(bool adopting = false) {
    ProcessTreeSource s;
    s.proc_root = proc_.root();
    s.self = kSelf;
    if (adopting) s.helpers = std::vector<pid_t>{500};
    s.reaped_children_cpu_s = [this] { return reaped_s_; };
    return s;
  }
  void put(pid_t pid, pid_t ppid, long long cpu_ticks, std::vector<pid_t> children = {},
           std::string name = "proc") {
    FakeProc::Process p;
    p.pid = pid;
    p.ppid = ppid;
    p.cpu_ticks = cpu_ticks;
    p.children = std::move(children);
    p.name = std::move(name);
    proc_.set(p);
  }
  // self -> job 100 -> worker 101
  void job(long long job_ticks, long long job_children_ticks, std::vector<pid_t> kids = {101}) {
    put(kSelf, 1, 0, {100});
    FakeProc::Process p;
    p.pid = 100;
    p.ppid = kSelf;
    p.cpu_ticks = job_ticks;
    p.children_ticks = job_children_ticks;
    p.resident_pages = 10;
    p.children = std::move(kids);
    proc_.set(p);
  }
  void worker(long long ticks, pid_t ppid = 100, uint64_t start = 1) {
    FakeProc::Process p;
    p.pid = 101;
    p.ppid = ppid;
    p.cpu_ticks = ticks;
    p.start_ticks = start;
    p.resident_pages = 5;
    p.name = "worker";
    proc_.set(p);
  }
  double s(long long ticks) const { return static_cast<double>(ticks) * FakeProc::tick_s(); }

  FakeProc proc_;
  double reaped_s_ = 0;
  std::vector<std::string> warnings_;
};

TEST_F(TrackerTest, AChildReapedBetweenReadingsCountsAtTheNextReading) {
  ProcessTreeTracker t(source());
  t.attach(100);
  job(10, 0);
  worker(20);
  TreeReading r = t.read(warnings_);
  EXPECT_NEAR(r.cpu_s, s(30), 1e-9);
  EXPECT_EQ(r.processes, 2u);
  EXPECT_NEAR(r.resident_b, 15.0 * static_cast<double>(::sysconf(_SC_PAGESIZE)), 1e-6);
  // The worker ran 5 more ticks, exited and was reaped by the job: its final 25 ticks are
  // the job's children time now.
  proc_.remove(101);
  job(11, 25, {});
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(36), 1e-9);
  EXPECT_TRUE(warnings_.empty());
  EXPECT_FALSE(t.followed_beyond_root());  // the job's own total says it all
}

TEST_F(TrackerTest, AChildReapedDuringTheWalkIsCarriedToTheNextReadingNotCountedTwice) {
  ProcessTreeTracker t(source());
  t.attach(100);
  job(10, 0);
  worker(20);
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(30), 1e-9);
  // The job was read before it reaped the worker, the worker after: gone, its time not yet
  // in the job's. The last-seen 20 ticks are carried.
  proc_.remove(101);
  job(11, 0, {});
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(31), 1e-9);
  // Now the reap shows (final 25 ticks): counted once.
  job(12, 25, {});
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(37), 1e-9);
  job(12, 25, {});
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(37), 1e-9);
}

TEST_F(TrackerTest, AChildWhoseParentIgnoresSigchldKeepsItsLastSeenTime) {
  ProcessTreeTracker t(source());
  t.attach(100);
  job(10, 0);
  worker(20);
  t.read(warnings_);
  proc_.remove(101);  // auto-reaped: the job's children time never grows
  job(11, 0, {});
  t.read(warnings_);
  job(12, 0, {});
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(32), 1e-9);
  job(13, 0, {});
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(33), 1e-9);
  EXPECT_TRUE(t.followed_beyond_root());  // the job's own total lacks the worker
}

TEST_F(TrackerTest, TheJobReapedBySelfCountsThroughTheReapedTotal) {
  reaped_s_ = 7;  // children reaped before the tracker started are not the job's
  ProcessTreeTracker t(source());
  t.attach(100);
  job(10, 0);
  worker(20);
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(30), 1e-9);
  // The job reaped its worker (25 ticks), ran to 12 ticks, and self reaped it.
  proc_.remove(101);
  proc_.remove(100);
  put(kSelf, 1, 0);
  reaped_s_ = 7 + s(12 + 25);
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(37), 1e-9);
}

TEST_F(TrackerTest, AProcessThatLeftTheTreeIsStillFollowedAndWarnedOnce) {
  ProcessTreeTracker t(source());
  t.attach(100);
  job(10, 0);
  worker(20);
  t.read(warnings_);
  // Its parent changed (re-parented to init): no longer anyone's child in the tree.
  job(10, 0, {});
  worker(50, 1);
  TreeReading r = t.read(warnings_);
  EXPECT_NEAR(r.cpu_s, s(60), 1e-9);
  EXPECT_EQ(r.processes, 2u);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("process 101 (worker) left the job's process tree"),
            std::string::npos)
      << warnings_[0];
  EXPECT_NE(warnings_[0].find("does not adopt orphans"), std::string::npos) << warnings_[0];
  worker(70, 1);
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(80), 1e-9);
  EXPECT_EQ(warnings_.size(), 1u);
  // It exits and init reaps it: what was seen stays counted.
  proc_.remove(101);
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(80), 1e-9);
  EXPECT_EQ(t.survivors().size(), 0u);
}

TEST_F(TrackerTest, AReusedPidIsNotTakenForTheProcessItFollowed) {
  ProcessTreeTracker t(source());
  t.attach(100);
  job(10, 0);
  worker(20);
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(30), 1e-9);
  job(10, 0, {});
  worker(20, 1);  // left the tree: followed by pid from here
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(30), 1e-9);
  // 101 exited; an unrelated process got its pid.
  worker(500, 1, /*start=*/99);
  TreeReading r = t.read(warnings_);
  EXPECT_NEAR(r.cpu_s, s(30), 1e-9);
  EXPECT_EQ(r.processes, 1u);
}

TEST_F(TrackerTest, OrphansAdoptedBySelfAreTheJobsAndHelpersAreNot) {
  ProcessTreeTracker t(source(/*adopting=*/true));
  t.attach(100);
  // self's children: the job, its helper 500, and 200, a daemon the job started and left
  // (re-parented to self before it was ever seen), with a child of its own.
  put(kSelf, 1, 0, {100, 500, 200});
  put(100, kSelf, 10);
  put(500, kSelf, 1000, {}, "helper");
  put(200, kSelf, 40, {201}, "daemon");
  put(201, 200, 5);
  TreeReading r = t.read(warnings_);
  EXPECT_NEAR(r.cpu_s, s(55), 1e-9);
  EXPECT_EQ(r.processes, 3u);
  EXPECT_TRUE(warnings_.empty());
  // The job ends (self reaps it); the daemon runs on.
  proc_.remove(100);
  put(kSelf, 1, 0, {500, 200});
  reaped_s_ = s(12);
  r = t.read(warnings_);
  EXPECT_NEAR(r.cpu_s, s(57), 1e-9);
  auto left = t.survivors();  // what the job left running
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].name, "daemon");
  EXPECT_EQ(left[1].pid, 201);
  EXPECT_TRUE(t.followed_beyond_root());
}

class TrackerWithoutChildrenFilesTest : public TrackerTest {
 protected:
  TrackerWithoutChildrenFilesTest() : TrackerTest(false) {}
};

TEST_F(TrackerWithoutChildrenFilesTest, ScansEveryProcessAndSaysSoOnce) {
  ProcessTreeTracker t(source());
  t.attach(100);
  job(10, 0);
  worker(20);
  put(300, 1, 999);  // not the job's
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(30), 1e-9);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("CONFIG_PROC_CHILDREN"), std::string::npos);
  proc_.remove(101);
  job(11, 25);
  EXPECT_NEAR(t.read(warnings_).cpu_s, s(36), 1e-9);
  EXPECT_EQ(warnings_.size(), 1u);
  EXPECT_FALSE(process_children(100, proc_.root()).has_value());
}

}  // namespace
}  // namespace carbonclock

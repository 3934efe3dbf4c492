// The tracker in process against fake RAPL counters (a fake sysfs whose energy the test sets)
// and a manual clock: window energies are the counters' differences at the boundaries, exactly.
#include "app/tracker.h"

#include <gtest/gtest.h>
#include <time.h>

#include <fstream>

#include "app/test_support.h"
#include "common/files.h"
#include "sensors/fake_sysfs.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class TrackerTest : public testing::UseCaseTest {
 protected:
  TrackerTest() : UseCaseTest("cc_tracker", parse_utc("2026-03-02T10:00:00Z").value()) {}
  void SetUp() override {
    UseCaseTest::SetUp();
    sysfs_ = std::make_unique<FakeSysfs>(dir() / "sysfs");
    sysfs_->add_zone("0", "package-0", 0);
    sysfs_->add_zone("0:0", "dram", 0);
    vars()["CARBONCLOCK_SYSFS_ROOT"] = sysfs_->root().string();
    vars()["XDG_CONFIG_HOME"] = (dir() / "config").string();
  }
  void TearDown() override {
    sysfs_.reset();
    UseCaseTest::TearDown();
  }
  TrackRequest request(const std::string& out) {
    TrackRequest r;
    r.command = {"python3", "train.py"};
    r.interval = "1h";  // no periodic sample during a test: every reading is a boundary's
    r.out = (dir() / out).string();
    r.no_gpu = true;
    r.choices.zone = "DE";
    return r;
  }
  // Both counters at `package_j` and `dram_j` joules, then `d` later.
  void counters(double package_j, double dram_j, Nanos d = 1s) {
    sysfs_->set_energy("0", static_cast<unsigned long long>(package_j * 1e6));
    sysfs_->set_energy("0:0", static_cast<unsigned long long>(dram_j * 1e6));
    clock().advance(d);
  }

  std::unique_ptr<FakeSysfs> sysfs_;
};

TEST_F(TrackerTest, WindowsNestAndOverlapWithTheCountersReadAtTheirBoundaries) {
  AppContext c = ctx();
  auto t = Tracker::start(request("run"), c);
  ASSERT_TRUE(t.ok()) << t.error().message();
  Tracker& tracker = **t;
  EXPECT_EQ(tracker.role(), "single");
  counters(1, 0.5);
  ASSERT_TRUE(tracker.begin_window("outer").ok());
  counters(3, 1);
  ASSERT_TRUE(tracker.begin_window("a").ok());
  counters(6, 2);
  ASSERT_TRUE(tracker.begin_window("b").ok());
  counters(10, 4);
  auto a = tracker.end_window("a");  // overlaps b
  ASSERT_TRUE(a.ok()) << a.error().message();
  counters(15, 5);
  auto b = tracker.end_window("b");
  ASSERT_TRUE(b.ok());
  counters(21, 7);
  auto outer = tracker.end_window("outer");
  ASSERT_TRUE(outer.ok());
  counters(30, 9);

  // a: package 3 -> 10, DRAM 1 -> 4; b: 6 -> 15 and 2 -> 5; outer: 1 -> 21 and 0.5 -> 7.
  EXPECT_DOUBLE_EQ(*a->record.energy_j, 7 + 3);
  EXPECT_DOUBLE_EQ(*b->record.energy_j, 9 + 3);
  EXPECT_DOUBLE_EQ(*outer->record.energy_j, 20 + 6.5);
  ASSERT_EQ(a->record.device_energy_j.size(), 2u);
  EXPECT_EQ(a->record.device_energy_j[0].first, "cpu0-package");
  EXPECT_DOUBLE_EQ(a->record.device_energy_j[0].second, 7);
  EXPECT_EQ(a->record.end_utc - a->record.begin_utc, 2s);
  // Each window's timeline holds exactly its energy, and it is priced.
  ASSERT_TRUE(b->run && b->account);
  EXPECT_DOUBLE_EQ(b->run->timeline.total_j(), 12);
  EXPECT_GT(b->account->operational_g(), 0);

  auto result = tracker.stop({0, ""});
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_DOUBLE_EQ(result->run.timeline.total_j(), 30 + 9);
  EXPECT_EQ(result->run.end_utc - result->run.start_utc, 7s);
  ASSERT_TRUE(result->account);
  auto doc = nlohmann::json::parse(read_file(dir() / "run" / "run.json").value());
  ASSERT_EQ(doc["windows"].size(), 3u);
  EXPECT_EQ(doc["windows"][0]["name"], "a");
  EXPECT_EQ(doc["windows"][2]["name"], "outer");
  EXPECT_DOUBLE_EQ(doc["windows"][2]["energy_j"].get<double>(), 26.5);
  EXPECT_EQ(doc["exit_code"], 0);
  EXPECT_FALSE(doc.contains("cluster"));
  // The CLI reads it back (report, history) like any run.
  auto loaded = load_run(dir() / "run");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_DOUBLE_EQ(loaded->timeline.total_j(), 39);
  EXPECT_FALSE(loaded->recovered);
}

TEST_F(TrackerTest, WindowNamesAndStopping) {
  AppContext c = ctx();
  auto t = Tracker::start(request("run"), c);
  ASSERT_TRUE(t.ok()) << t.error().message();
  Tracker& tracker = **t;
  ASSERT_TRUE(tracker.begin_window("eval").ok());
  auto twice = tracker.begin_window("eval");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().message(),
            "window 'eval' is already open; end it before beginning it again");
  auto missing = tracker.end_window("train");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(), "no open window named 'train' (open: 'eval')");
  counters(2, 1);
  // Still open at stop: it ends with the run, and says so.
  auto result = tracker.stop({1, "ValueError: bad batch"});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->windows.size(), 1u);
  EXPECT_DOUBLE_EQ(*result->windows[0].record.energy_j, 3);
  EXPECT_EQ(result->run.exit_code, 1);
  ASSERT_EQ(result->warnings.size(), 2u);
  EXPECT_EQ(result->warnings[0],
            "window 'eval' was still open when metering stopped; it ends with the run");
  EXPECT_EQ(result->warnings[1], "the tracked code ended with ValueError: bad batch");
  EXPECT_FALSE(tracker.stop({0, ""}).ok());
  EXPECT_FALSE(tracker.begin_window("late").ok());
}

// run.json's overhead is the metering's own CPU (sampler thread and boundary readings), not the
// CPU the tracked code spent on the thread that calls stop().
TEST_F(TrackerTest, OverheadCountsTheMeteringNotTheCallersWork) {
  AppContext c = ctx();
  auto t = Tracker::start(request("run"), c);
  ASSERT_TRUE(t.ok()) << t.error().message();
  auto thread_cpu_s = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  volatile double sink = 0;
  const double until_s = thread_cpu_s() + 0.2;  // the tracked code's work
  while (thread_cpu_s() < until_s) sink = sink + 1;
  const double caller_cpu_s = thread_cpu_s();
  counters(2, 1);
  auto result = (*t)->stop({0, ""});
  ASSERT_TRUE(result.ok());
  EXPECT_GT(result->run.overhead.cpu_s, 0.0);
  EXPECT_LT(result->run.overhead.cpu_s, caller_cpu_s);
}

TEST_F(TrackerTest, RefusesARunDirectoryThatIsNotEmpty) {
  fs::create_directories(dir() / "taken");
  std::ofstream(dir() / "taken" / "x") << "x";
  AppContext c = ctx();
  auto t = Tracker::start(request("taken"), c);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message(),
            (dir() / "taken").string() + ": run directory exists and is not empty");
}

TEST_F(TrackerTest, OneTaskPerNodeMetersAndEveryTaskRecordsItsWindows) {
  vars()["TORCHELASTIC_RUN_ID"] = "job1";
  vars()["WORLD_SIZE"] = "2";
  vars()["RANK"] = "0";
  vars()["LOCAL_RANK"] = "0";
  AppContext c0 = ctx();
  auto meter = Tracker::start(request("runs"), c0);
  ASSERT_TRUE(meter.ok()) << meter.error().message();
  vars()["RANK"] = "1";
  vars()["LOCAL_RANK"] = "1";
  AppContext c1 = ctx();
  auto member = Tracker::start(request("runs"), c1);
  ASSERT_TRUE(member.ok()) << member.error().message();
  EXPECT_EQ((*meter)->role(), "meter");
  EXPECT_EQ((*member)->role(), "member");
  EXPECT_TRUE((*member)->devices().empty());
  ASSERT_EQ((*member)->notes().size(), 1u);
  EXPECT_NE((*member)->notes()[0].find("metered by another task"), std::string::npos);

  counters(1, 1);
  ASSERT_TRUE((*meter)->begin_window("epoch-0").ok());
  ASSERT_TRUE((*member)->begin_window("epoch-0").ok());
  counters(5, 2);
  auto metered = (*meter)->end_window("epoch-0");
  auto recorded = (*member)->end_window("epoch-0");
  ASSERT_TRUE(metered.ok() && recorded.ok());
  EXPECT_DOUBLE_EQ(*metered->record.energy_j, 5);
  EXPECT_FALSE(recorded->record.energy_j);
  auto m = (*member)->stop({0, ""});
  auto r = (*meter)->stop({0, ""});
  ASSERT_TRUE(m.ok() && r.ok());
  EXPECT_FALSE(m->account);

  const fs::path node = dir() / "runs" / "job1" / (*meter)->cluster().node;
  EXPECT_EQ(r->run_dir, node);
  auto run = nlohmann::json::parse(read_file(node / "run.json").value());
  EXPECT_EQ(run["cluster"]["role"], "meter");
  EXPECT_EQ(run["cluster"]["job_id"], "job1");
  EXPECT_EQ(run["cluster"]["world_size"], 2);
  EXPECT_DOUBLE_EQ(run["energy_j_total"].get<double>(), 7);
  auto t0 = nlohmann::json::parse(read_file(node / "tasks" / "0.json").value());
  auto t1 = nlohmann::json::parse(read_file(node / "tasks" / "1.json").value());
  EXPECT_EQ(t0["role"], "meter");
  EXPECT_DOUBLE_EQ(t0["windows"][0]["energy_j"].get<double>(), 5);
  EXPECT_EQ(t1["role"], "member");
  EXPECT_TRUE(t1["windows"][0]["energy_j"].is_null());
  EXPECT_EQ(t1["windows"][0]["name"], "epoch-0");
  // The merge records the job once: no history entry per node.
  auto store = GridStore::open(dir() / "db.sqlite");
  if (store) {
    auto runs = store->list_runs({});
    ASSERT_TRUE(runs.ok());
    EXPECT_TRUE(runs->empty());
  }
  // The lock went with the meter: a rerun of the same job is refused, not double counted.
  AppContext c2 = ctx();
  auto again = Tracker::start(request("runs"), c2);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("was already recorded"), std::string::npos);
}

}  // namespace
}  // namespace carbonclock

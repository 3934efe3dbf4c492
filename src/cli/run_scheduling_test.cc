// End-to-end tests of carbon-aware execution: the real carbonclock binary runs a real job (the
// ticker, which appends a wall-clock timestamp every 50 ms while it runs) on a 1 s slot grid
// over a scripted --intensity-file, and the tests check when the job actually ran.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli_test_harness.h"
#include "common/files.h"
#include "common/time.h"
#include "execution/test_proc.h"
#include "grid/store.h"
#include "reports/schema_check.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::proc_state;
namespace fs = std::filesystem;

double unix_s(SysTime t) { return to_seconds(t.time_since_epoch()); }

class ScheduledRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("cc_sched");
    fs::create_directories(dir_ / "sysfs");
    cli_ = CliHarness(dir_);
    cli_.env = {{"CARBONCLOCK_DB", (dir_ / "absent.db").string()},
                {"CARBONCLOCK_SYSFS_ROOT", (dir_ / "sysfs").string()}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Writes the intensity file: one 1 s row per value, relative to the first slot.
  void write_intensity(const std::vector<double>& values, const std::string& name = "i.csv") {
    std::string text = "start,duration_s,g_per_kwh\n";
    for (size_t i = 0; i < values.size(); ++i) text += fmt::format("+{},1,{}\n", i, values[i]);
    std::ofstream(dir_ / (name + ".tmp")) << text;
    fs::rename(dir_ / (name + ".tmp"), dir_ / name);
  }
  std::vector<std::string> ticker(double work_s, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{TEST_TICKER, (dir_ / "ticks").string(), std::to_string(work_s),
                                  "--pid-file", (dir_ / "pid").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  /// `carbonclock run` over the scripted intensity, then `--`, then the job.
  std::vector<std::string> run_args(std::vector<std::string> schedule,
                                    const std::vector<std::string>& job) {
    std::vector<std::string> args{
        "run", "--no-gpu", "--out", (dir_ / "run").string(), "--zone",
        "DE",  "--slot",   "1s",    "--intensity-file",      (dir_ / "i.csv").string()};
    args.insert(args.end(), schedule.begin(), schedule.end());
    args.push_back("--");
    args.insert(args.end(), job.begin(), job.end());
    return args;
  }
  pid_t start(const std::vector<std::string>& args, const char* tz = nullptr) {
    CliHarness cli = cli_;
    if (tz != nullptr) cli.env["TZ"] = tz;
    return cli.start(args);
  }
  static int wait_exit(pid_t pid) { return CliHarness::wait_exit(pid); }
  int run(const std::vector<std::string>& args, const char* tz = nullptr) {
    return wait_exit(start(args, tz));
  }
  std::string err() { return cli_.err(); }
  std::string out() { return cli_.out(); }
  nlohmann::json schedule() {
    auto doc = nlohmann::json::parse(read_file(dir_ / "run" / "run.json").value());
    return doc.at("schedule");
  }
  std::vector<double> ticks() {
    std::vector<double> out;
    std::ifstream f(dir_ / "ticks");
    double t;
    while (f >> t) out.push_back(t);
    return out;
  }
  static double at(const nlohmann::json& j) {
    return unix_s(parse_utc(j.get<std::string>()).value());
  }
  /// The first slot of the plan: "+N" rows of the intensity file count from here.
  static double anchor(const nlohmann::json& sched) {
    return std::floor(at(sched.at("requested_start_utc")));
  }
  /// Every tick lies in one of `runs` ([start, end) in unix seconds), allowing 50 ms before (a
  /// tick is written right after waking) and 300 ms after (SIGSTOP delivery on a busy machine).
  static void expect_ticks_within(const std::vector<double>& ticks,
                                  const std::vector<std::pair<double, double>>& runs) {
    ASSERT_FALSE(ticks.empty());
    for (double t : ticks) {
      bool inside = false;
      for (auto [a, b] : runs) inside |= t >= a - 0.05 && t < b + 0.3;
      EXPECT_TRUE(inside) << fmt::format("tick at {:.3f} outside the planned runs", t);
    }
    for (auto [a, b] : runs) {
      bool any = false;
      for (double t : ticks) any |= t >= a - 0.05 && t < b + 0.3;
      EXPECT_TRUE(any) << fmt::format("no tick in the run {:.3f}-{:.3f}", a, b);
    }
  }
  pid_t ticker_pid() {
    pid_t pid = -1;
    eventually([&] {
      std::ifstream f(dir_ / "pid");
      return static_cast<bool>(f >> pid);
    });
    return pid;
  }

  CliHarness cli_{""};
  fs::path dir_;
};

TEST_F(ScheduledRunTest, PauseResumeRunsOnlyInThePlannedSlots) {
  // Clean slots +3, +4 and +7; the deadline (3 s + 200 %) is at +9 at the earliest.
  write_intensity({500, 500, 500, 100, 100, 500, 500, 100, 500, 500, 500, 500});
  ASSERT_EQ(run(run_args({"--pause-resume", "200%", "--expected-duration", "3s"}, ticker(2.8))), 0)
      << err();
  auto s = schedule();
  double a = anchor(s);
  auto runs = s.at("plan").at("runs");
  ASSERT_EQ(runs.size(), 2u) << s.dump(2);
  EXPECT_DOUBLE_EQ(at(runs[0]["start_utc"]), a + 3);
  EXPECT_DOUBLE_EQ(at(runs[0]["end_utc"]), a + 5);
  EXPECT_DOUBLE_EQ(at(runs[1]["start_utc"]), a + 7);
  EXPECT_DOUBLE_EQ(at(runs[1]["end_utc"]), a + 8);
  expect_ticks_within(ticks(), {{a + 3, a + 5}, {a + 7, a + 8}});
  EXPECT_EQ(s.at("pauses"), 1);
  EXPECT_EQ(s.at("running").size(), 2u);
  ASSERT_TRUE(s.contains("savings")) << s.dump(2);
  EXPECT_GT(s["savings"]["saved_pct"].get<double>(), 0);
}

TEST_F(ScheduledRunTest, DeadlineHoldsWhenCleanSlotsLieBeyondIt) {
  write_intensity({500, 400, 400, 400, 400, 10, 10, 10, 10, 10});
  ASSERT_EQ(run(run_args({"--deadline", "+4s", "--expected-duration", "2s"}, ticker(1.9))), 0)
      << err();
  auto s = schedule();
  double deadline = at(s.at("deadline_utc"));
  auto t = ticks();
  ASSERT_FALSE(t.empty());
  EXPECT_LE(t.back(), deadline + 0.3) << s.dump(2);
}

TEST_F(ScheduledRunTest, AJobLongerThanExpectedRunsStraightThroughAfterItsExpectedTime) {
  write_intensity({500, 500, 100, 500, 500, 500, 500, 500, 500, 500});
  ASSERT_EQ(run(run_args({"--deadline", "+7s", "--expected-duration", "1s"}, ticker(2.5))), 0)
      << err();
  auto s = schedule();
  double a = anchor(s);
  // Planned: slot +2 only; it ran on from there without pausing, finishing before the deadline.
  expect_ticks_within(ticks(), {{a + 2, a + 2 + 2.5 + 0.6}});
  EXPECT_EQ(s.at("pauses"), 0);
  EXPECT_LE(ticks().back(), at(s.at("deadline_utc")) + 0.3);
  bool straight = false;
  for (const auto& e : s.at("events")) straight |= e["action"] == "straight-through";
  EXPECT_TRUE(straight) << s.dump(2);
}

TEST_F(ScheduledRunTest, ReplanningFollowsAChangedForecast) {
  write_intensity({500, 500, 500, 500, 500, 500, 100, 100, 500, 500, 500});
  pid_t cc = start(run_args({"--pause-resume", "300%", "--expected-duration", "2s"}, ticker(1.9)));
  ASSERT_TRUE(eventually([&] { return err().find("planned runs") != std::string::npos; })) << err();
  // The new "forecast": clean at +3 and +4 instead of +6 and +7.
  write_intensity({500, 500, 500, 100, 100, 500, 500, 500, 500, 500, 500});
  ASSERT_EQ(wait_exit(cc), 0) << err();
  auto s = schedule();
  double a = anchor(s);
  EXPECT_DOUBLE_EQ(at(s.at("plan").at("runs")[0]["start_utc"]), a + 6);  // the first plan
  expect_ticks_within(ticks(), {{a + 3, a + 5}});
}

TEST_F(ScheduledRunTest, SigkillOfCarbonclockLeavesThePausedJobRunning) {
  // Runs in +1, then pauses (clean again only from +6).
  write_intensity({500, 100, 900, 900, 900, 900, 100, 100, 100, 500, 500, 500, 500, 500});
  pid_t cc = start(run_args({"--pause-resume", "300%", "--expected-duration", "3s"}, ticker(30)));
  pid_t job = ticker_pid();
  ASSERT_GT(job, 0) << err();
  ASSERT_TRUE(eventually([&] { return proc_state(job) == 'T'; })) << err();
  ::kill(cc, SIGKILL);
  EXPECT_EQ(wait_exit(cc), 128 + SIGKILL);
  EXPECT_TRUE(eventually([&] {
    char st = proc_state(job);
    return st != 'T' && st != '?';
  })) << proc_state(job);
  size_t before = ticks().size();
  EXPECT_TRUE(eventually([&] { return ticks().size() > before + 2; }));  // it does work again
  ::kill(job, SIGKILL);
}

TEST_F(ScheduledRunTest, PauseSignalCheckpointsAndTheResumeCommandRestartsTheJob) {
  write_intensity({500, 500, 500, 100, 100, 500, 500, 100, 500, 500, 500, 500});
  std::string cp = (dir_ / "checkpoint").string();
  std::vector<std::string> extra{"--checkpoint", cp, "--pause-signal", std::to_string(SIGUSR1)};
  std::string resume = fmt::format("exec {} {} 2.8 --checkpoint {} --pause-signal {}", TEST_TICKER,
                                   (dir_ / "ticks").string(), cp, SIGUSR1);
  ASSERT_EQ(run(run_args({"--pause-resume", "200%", "--expected-duration", "3s", "--pause-signal",
                          "USR1", "--resume-command", resume},
                         ticker(2.8, extra))),
            0)
      << err();
  auto s = schedule();
  double a = anchor(s);
  expect_ticks_within(ticks(), {{a + 3, a + 5}, {a + 7, a + 8}});
  bool checkpointed = false;
  for (const auto& e : s.at("events")) {
    checkpointed |=
        e["action"] == "pause" && e.value("note", "").find("checkpointed") != std::string::npos;
  }
  EXPECT_TRUE(checkpointed) << s.dump(2);
  EXPECT_TRUE(fs::exists(cp));
}

TEST_F(ScheduledRunTest, BadInputIsAClearErrorAndStartsNothing) {
  write_intensity({500, 500, 500});
  // 125: carbonclock's own failure (as env and timeout do), never the job's code.
  EXPECT_EQ(
      run(run_args({"--deadline", "2020-01-01T00:00:00Z", "--expected-duration", "1s"}, ticker(1))),
      125);
  EXPECT_NE(err().find("is in the past"), std::string::npos) << err();
  EXPECT_EQ(run(run_args({"--deadline", "+2s", "--expected-duration", "1h"}, ticker(1))), 125);
  EXPECT_NE(err().find("less than the expected duration"), std::string::npos) << err();
  EXPECT_EQ(
      run(run_args({"--pause-resume", "50%", "--expected-duration", "2s", "--pause-signal", "USR1"},
                   ticker(1))),
      125);
  EXPECT_NE(err().find("go together"), std::string::npos) << err();
  EXPECT_EQ(run(run_args({"--pause-resume", "50%"}, ticker(1))), 125);
  EXPECT_NE(err().find("--expected-duration D is required"), std::string::npos) << err();
  EXPECT_EQ(run({"run", "--no-gpu", "--out", (dir_ / "run").string(), "--zone", "ZZ-NOWHERE",
                 "--pause-resume", "50%", "--expected-duration", "2s", "--", "true"}),
            125);
  EXPECT_NE(err().find("unknown zone 'ZZ-NOWHERE'"), std::string::npos) << err();
  EXPECT_FALSE(fs::exists(dir_ / "ticks"));
}

TEST_F(ScheduledRunTest, AWindowTooLargeToReplanInTimeIsRefusedBeforeAnythingStarts) {
  // 365 days of 1 s slots: re-planning that window at every boundary took ~5 s per 1 s slot and
  // kept SIGTERM pending for minutes. It is refused at once, naming a slot length that works.
  write_intensity({500, 500, 500});
  EXPECT_EQ(run(run_args({"--pause-resume", "365d", "--expected-duration", "1h"}, ticker(1))), 125);
  EXPECT_NE(err().find("re-plans every slot left at each slot boundary"), std::string::npos)
      << err();
  EXPECT_NE(err().find("Use --slot "), std::string::npos) << err();
  EXPECT_FALSE(fs::exists(dir_ / "ticks"));
}

TEST_F(ScheduledRunTest, PlanPrintsJsonAndAnSbatchBeginInLocalTime) {
  write_intensity({500, 500, 100, 100, 500, 500, 500, 500, 500, 500});
  std::vector<std::string> base{"plan",
                                "--zone",
                                "DE",
                                "--slot",
                                "1s",
                                "--intensity-file",
                                (dir_ / "i.csv").string(),
                                "--duration",
                                "2s",
                                "--energy-kwh",
                                "3.6",
                                "--flex-start",
                                "5s"};
  auto json_args = base;
  json_args.insert(json_args.end(), {"--format", "json"});
  ASSERT_EQ(run(json_args), 0) << err();
  auto j = nlohmann::json::parse(out());
  double a = std::floor(at(j["requested_start_utc"]));
  EXPECT_DOUBLE_EQ(at(j["start_utc"]), a + 2);
  EXPECT_EQ(j["pauses"], 0);
  // 3.6 kWh over 2 s at 100 g/kWh; immediately it would be partly at 500.
  EXPECT_NEAR(j["expected_g"].get<double>(), 360, 1e-6);
  EXPECT_GT(j["immediate_g"].get<double>(), 360);
  EXPECT_TRUE(j["forecast"].is_null());
  EXPECT_EQ(j["intensity"]["basis"][0]["basis"], "file");
  // What a Slurm plugin needs: the begin as Unix seconds and the allocation in whole minutes.
  EXPECT_EQ(j["slurm"]["begin_unix_s"].get<double>(), a + 2);
  EXPECT_EQ(j["slurm"]["time_limit_min"], 1);
  EXPECT_EQ(j["slurm"]["sbatch"][1], "--time=00:01:00");

  auto sbatch_args = base;
  sbatch_args.insert(sbatch_args.end(), {"--format", "sbatch"});
  ASSERT_EQ(run(sbatch_args, "EST5"), 0) << err();
  std::string begin = out();
  ASSERT_EQ(begin.rfind("--begin=", 0), 0u) << begin;
  auto local = parse_utc(begin.substr(8, 19));  // read as if UTC: the local wall time
  ASSERT_TRUE(local) << begin;
  // EST5 is UTC-5: the local wall time is five hours behind the UTC instant.
  EXPECT_NEAR(unix_s(*local), a + 2 - 5 * 3600, 1.0) << begin;
  EXPECT_NE(begin.find(" --time=00:01:00\n"), std::string::npos) << begin;
  EXPECT_NE(err().find("local time zone of the submitting host"), std::string::npos) << err();
}

TEST_F(ScheduledRunTest, PlanSaysWhichForecastItRestsOnAndWhereItsHorizonEnds) {
  auto store = GridStore::open(dir_ / "grid.db");
  ASSERT_TRUE(store);
  SysTime now = std::chrono::system_clock::now();
  SysTime hour = floor_to(now, 1h);
  IntensitySeries f;
  f.zone = "DE";
  f.source = "test-forecast";
  f.issued_at = hour - 1h;
  f.points = {{hour, 1h, 300, false}, {hour + 1h, 1h, 50, false}};
  ASSERT_TRUE(store->import({f}, "test"));
  ASSERT_EQ(run({"plan", "--zone", "DE", "--db", (dir_ / "grid.db").string(), "--duration", "1h",
                 "--energy-kwh", "1", "--flex-start", "3h", "--format", "json"}),
            0)
      << err();
  auto j = nlohmann::json::parse(out());
  EXPECT_EQ(j["forecast"]["source"], "test-forecast");
  EXPECT_EQ(j["forecast"]["issued_at_utc"], format_utc(hour - 1h));
  EXPECT_EQ(j["horizon_end_utc"], format_utc(hour + 2h));
  EXPECT_EQ(j["start_utc"], format_utc(hour + 1h));  // the 50 g/kWh hour
  bool beyond = false;
  for (const auto& n : j["intensity"]["notes"]) {
    beyond |= n.get<std::string>().find("beyond the forecast horizon") != std::string::npos;
  }
  EXPECT_TRUE(beyond) << j.dump(2);
}

}  // namespace
}  // namespace carbonclock

namespace carbonclock {
namespace {

TEST_F(ScheduledRunTest, ReportRecomputesSavingsOnceActualsAreStored) {
  write_intensity({500, 500, 100, 100, 500, 500, 500, 500});
  ASSERT_EQ(run(run_args({"--pause-resume", "100%", "--expected-duration", "2s"}, ticker(1.8))), 0)
      << err();
  auto recorded = schedule().at("savings");
  EXPECT_GT(recorded["saved_pct"].get<double>(), 0);  // planned on the scripted file
  EXPECT_NE(recorded["intensity_basis"], "actual");

  // The actual intensity turns out flat: shifting saved nothing.
  SysTime a = SysTime{} + from_seconds(anchor(schedule()));
  auto store = GridStore::open(dir_ / "grid.db");
  ASSERT_TRUE(store);
  IntensitySeries actual;
  actual.zone = "DE";
  actual.signal = Signal::kAverage;
  actual.factor = Factor::kLifecycle;
  actual.source = "test-actuals";
  actual.points = {{a - std::chrono::minutes(10), std::chrono::minutes(20), 200, false}};
  ASSERT_TRUE(store->import({actual}, "test"));
  ASSERT_EQ(run({"report", (dir_ / "run").string(), "--db", (dir_ / "grid.db").string(), "--format",
                 "json"}),
            0)
      << err();
  auto j = nlohmann::json::parse(out());
  ASSERT_TRUE(j.contains("schedule_savings")) << j.dump(2);
  const auto& s = j["schedule_savings"];
  EXPECT_EQ(s["intensity_basis"], "actual");
  EXPECT_EQ(s["intensity_source"], "test-actuals");
  EXPECT_NEAR(s["saved_g"].get<double>(), 0.0, 1e-9);
  EXPECT_NEAR(s["emitted_g"].get<double>(), s["immediate_g"].get<double>(), 1e-9);
}

// `run --risk p90` without --intensity-file: the plan rests on carbonclock's own forecast from
// 21 days of stored hourly history that ends at the current hour (no provider forecast, no
// actual for now), planned on its p90; a real job runs to its end and run.json records it.
class RiskRunTest : public ScheduledRunTest {
 protected:
  void SetUp() override {
    ScheduledRunTest::SetUp();
    const fs::path db = dir_ / "grid.db";
    cli_.env["CARBONCLOCK_DB"] = db.string();
    IntensitySeries s{"DE", Signal::kAverage, Factor::kLifecycle, "test", std::nullopt, {}};
    const SysTime end =
        floor_to(std::chrono::time_point_cast<Nanos>(std::chrono::system_clock::now()), 1h);
    constexpr int kHours = 24 * 21;
    for (int h = 0; h < kHours; ++h) {
      double v = 300 + 100 * std::sin(2 * M_PI * (h % 24) / 24.0) + (h * 37 % 11);
      s.points.push_back({end - 1h * (kHours - h), 1h, v, false});
    }
    auto store = GridStore::open(db);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->import({s}, "test"));
  }
  /// Runs the ticker for 0.3 s under `schedule` with --risk p90 on 1 s slots; checks that it ran
  /// to its end and that the plan line and run.json say every slot rests on p90 of
  /// carbonclock's own forecast. The schedule from run.json.
  nlohmann::json run_on_p90(const std::vector<std::string>& schedule) {
    std::vector<std::string> args{"run",    "--no-gpu", "--out",  (dir_ / "run").string(),
                                  "--zone", "DE",       "--slot", "1s",
                                  "--risk", "p90"};
    args.insert(args.end(), schedule.begin(), schedule.end());
    args.emplace_back("--");
    const std::vector<std::string> job = ticker(0.3);
    args.insert(args.end(), job.begin(), job.end());
    EXPECT_EQ(run(args), 0) << err();
    auto doc = nlohmann::json::parse(read_file(dir_ / "run" / "run.json").value());
    EXPECT_EQ(doc.at("exit_code"), 0);
    EXPECT_FALSE(ticks().empty());
    nlohmann::json sched = doc.at("schedule");
    const auto& plan = sched.at("plan");
    // The slots of the first plan, counted from the spans of what it rests on.
    size_t slots = 0;
    const double slot_s = plan.at("intensity").at("slot_s").get<double>();
    EXPECT_EQ(slot_s, 1.0);
    for (const auto& span : plan.at("intensity").at("basis")) {
      EXPECT_EQ(span.at("basis"), "carbonclock-forecast") << span.dump();
      EXPECT_TRUE(span.at("source").get<std::string>().ends_with("-p90")) << span.dump();
      slots += static_cast<size_t>(
          std::llround((at(span.at("end_utc")) - at(span.at("start_utc"))) / slot_s));
    }
    // The window: 1 s of work plus the 2 s allowed, from the slot holding the requested start.
    EXPECT_GE(slots, 3u);
    EXPECT_LE(slots, 4u);
    const auto& risk = plan.at("risk");
    EXPECT_EQ(risk.at("quantile"), "p90");
    EXPECT_EQ(risk.at("slots"), slots);
    EXPECT_EQ(risk.at("slots_on_quantile"), slots);
    const std::string note = risk.at("note");
    EXPECT_TRUE(
        note.starts_with("planned on p90 of carbonclock's own forecast (carbonclock-forecast-"))
        << note;
    EXPECT_TRUE(note.ends_with(fmt::format("-p90) for {0} of {0} slots", slots))) << note;
    EXPECT_NE((out() + err()).find("risk: " + note + "\n"), std::string::npos) << out() << err();
    EXPECT_EQ(testing::schema_errors("run.schema.json", doc.dump()), "");
    return sched;
  }
};

TEST_F(RiskRunTest, FlexStartOnP90OfItsOwnForecastRunsTheJobAndRecordsTheRisk) {
  auto sched = run_on_p90({"--flex-start", "2s", "--expected-duration", "1s"});
  EXPECT_EQ(sched.at("algorithm"), "flexible-start");
  // `report` shows what the schedule was planned on.
  ASSERT_EQ(run({"report", (dir_ / "run").string()}), 0) << err();
  EXPECT_NE(out().find("  risk: planned on p90 of carbonclock's own forecast"), std::string::npos)
      << out();
}

TEST_F(RiskRunTest, PauseResumeOnP90OfItsOwnForecastRunsTheJobAndRecordsTheRisk) {
  auto sched = run_on_p90({"--pause-resume", "2s", "--expected-duration", "1s"});
  EXPECT_EQ(sched.at("algorithm"), "pause-resume");
}

}  // namespace
}  // namespace carbonclock

namespace carbonclock {
namespace {

// A loopback UK Carbon Intensity API serving a 48 h forecast from the current half hour: every
// half hour 300 g/kWh except the one starting 2 h from now at 40 g/kWh.
class FakeUkForecastServer {
 public:
  explicit FakeUkForecastServer(SysTime now) {
    SysTime first = floor_to(now, std::chrono::minutes(30));
    cheap_ = first + std::chrono::hours(2);
    server_.Get(R"(/intensity/([^/]+)/fw48h)", [this, first](const httplib::Request&,
                                                             httplib::Response& res) {
      ++requests_;
      nlohmann::json data = nlohmann::json::array();
      for (int i = 0; i < 96; ++i) {
        SysTime from = first + i * std::chrono::minutes(30);
        double value = from == cheap_ ? 40 : 300;
        data.push_back(
            {{"from", format_utc_minutes(from)},
             {"to", format_utc_minutes(from + std::chrono::minutes(30))},
             {"intensity", {{"forecast", value}, {"actual", nullptr}, {"index", "low"}}}});
      }
      res.set_content(nlohmann::json{{"data", data}}.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeUkForecastServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  SysTime cheap() const { return cheap_; }
  int requests() const { return requests_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  SysTime cheap_;
  std::atomic<int> requests_{0};
};

TEST_F(ScheduledRunTest, PlanFetchesAFreshForecastWhenAsked) {
  FakeUkForecastServer uk(std::chrono::system_clock::now());
  cli_.env["CARBONCLOCK_UKCI_URL"] = uk.url();
  cli_.env["CARBONCLOCK_CONFIG"] = (dir_ / "no-config").string();
  std::vector<std::string> args{"plan",
                                "--zone",
                                "GB",
                                "--db",
                                (dir_ / "grid.db").string(),
                                "--duration",
                                "30m",
                                "--energy-kwh",
                                "1",
                                "--flex-start",
                                "6h",
                                "--slot",
                                "30m",
                                "--forecast-source",
                                "ukci",
                                "--format",
                                "json"};
  ASSERT_EQ(run(args), 0) << err();
  EXPECT_EQ(uk.requests(), 1);
  auto j = nlohmann::json::parse(out());
  EXPECT_EQ(j["start_utc"], format_utc(uk.cheap())) << j.dump(2);
  EXPECT_NE(j["forecast"]["source"].get<std::string>().find("uk"), std::string::npos) << j.dump(2);
  EXPECT_NE(err().find("fetched"), std::string::npos) << err();
  // A second plan soon after reuses the stored forecast: no request.
  ASSERT_EQ(run(args), 0) << err();
  EXPECT_EQ(uk.requests(), 1);
  EXPECT_NE(err().find("no request made"), std::string::npos) << err();
}

TEST_F(ScheduledRunTest, PlanWarnsAndUsesStoredDataWhenTheForecastFetchFails) {
  cli_.env["CARBONCLOCK_UKCI_URL"] = "http://127.0.0.1:9";  // nothing listens there
  cli_.env["CARBONCLOCK_CONFIG"] = (dir_ / "no-config").string();
  ASSERT_EQ(run({"plan", "--zone", "GB", "--db", (dir_ / "grid.db").string(), "--duration", "1h",
                 "--energy-kwh", "1", "--flex-start", "3h", "--forecast-source", "ukci"}),
            0)
      << err();
  EXPECT_NE(err().find("no fresh forecast"), std::string::npos) << err();
}

}  // namespace
}  // namespace carbonclock

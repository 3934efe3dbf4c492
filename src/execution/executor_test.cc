#include "execution/executor.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "execution/online_planner.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

const SysTime kT0 = parse_utc("2026-01-01T00:00:00Z").value();
constexpr Nanos kSlot = 5min;

SysTime slot_at(double k) { return kT0 + from_seconds(k * to_seconds(kSlot)); }

SlottedIntensity flat_intensity(const std::vector<double>& values) {
  return slot_series(series_from_values("TEST", kT0, kSlot, values), kSlot).value();
}

/// A job that does `work` of running time; time passes only through wait_until.
class FakeJob final : public JobControl {
 public:
  FakeJob(ManualClock& clock, Nanos work) : clock_(clock), work_(work) {}
  WaitResult wait_until(SysTime until) override {
    SysTime now = clock_.system_now();
    if (!running_ && !runs_.empty() && behind_back_ && *behind_back_ <= until) {
      // Paused, and resumed by someone else (the watchdog) before `until`.
      clock_.advance(std::max(*behind_back_ - now, Nanos(0)));
      WaitResult r;
      r.resumed_at = clock_.system_now();
      r.resumed_note = "resumed by the watchdog";
      behind_back_.reset();
      start();
      return r;
    }
    if (until <= now) return {};
    if (running_) {
      SysTime finish = now + (work_ - done_);
      if (finish <= until) {
        clock_.advance(finish - now);
        done_ = work_;
        running_ = false;
        runs_.back().end_utc = finish;
        WaitResult r;
        r.exit = JobExit{0, 0, 0};
        return r;
      }
      done_ += until - now;
    }
    clock_.advance(until - now);
    return {};
  }
  Result<PauseOutcome> pause(SysTime latest_resume_utc) override {
    latest_resumes_.push_back(latest_resume_utc);
    running_ = false;
    runs_.back().end_utc = clock_.system_now();
    return PauseOutcome{};
  }
  Result<ResumeOutcome> resume() override {
    start();
    return ResumeOutcome{};
  }
  void start() {
    running_ = true;
    runs_.push_back({clock_.system_now(), clock_.system_now()});
  }
  const std::vector<RunInterval>& runs() const { return runs_; }
  /// The latest resume time passed with each pause.
  const std::vector<SysTime>& latest_resumes() const { return latest_resumes_; }
  /// While paused, the job is resumed at `at` without the executor asking.
  void resume_behind_the_back_at(SysTime at) { behind_back_ = at; }

 private:
  std::optional<SysTime> behind_back_;
  std::vector<SysTime> latest_resumes_;
  ManualClock& clock_;
  Nanos work_;
  Nanos done_{0};
  bool running_ = false;
  std::vector<RunInterval> runs_;
};

struct Outcome {
  Status planned;
  std::vector<RunInterval> runs;
  std::vector<ScheduleEvent> events;
  SysTime end;
};

/// Plans, waits for the start, starts the fake job and supervises it to its end.
Outcome execute(Algorithm algorithm, IntensityFn intensity, Nanos expected, Nanos work,
                SysTime deadline, ManualClock& clock) {
  Executor ex({algorithm, deadline, expected}, std::move(intensity), clock);
  Outcome out;
  out.planned = ex.plan();
  if (!out.planned) return out;
  FakeJob job(clock, work);
  EXPECT_EQ(ex.wait_for_start(job), 0);
  job.start();
  JobExit e = ex.supervise(job);
  EXPECT_EQ(e.exit_code, 0);
  out.runs = job.runs();
  out.events = ex.events();
  out.end = clock.system_now();
  // The executor's own record agrees with what the job saw.
  EXPECT_EQ(ex.running().size(), out.runs.size());
  return out;
}

IntensityFn constant(SlottedIntensity in) {
  return [in](SysTime, SysTime, SysTime) -> Result<SlottedIntensity> { return in; };
}

TEST(ExecutorTest, PauseResumeRunsOnlyInTheCheapestSlots) {
  ManualClock clock(kT0);
  auto in = flat_intensity({500, 500, 100, 100, 500, 120, 500, 500, 500});
  Outcome o =
      execute(Algorithm::kPauseResume, constant(in), 3 * kSlot, 3 * kSlot, slot_at(9), clock);
  ASSERT_TRUE(o.planned) << o.planned.error().message();
  ASSERT_EQ(o.runs.size(), 2u);
  EXPECT_EQ(o.runs[0].start_utc, slot_at(2));
  EXPECT_EQ(o.runs[0].end_utc, slot_at(4));
  EXPECT_EQ(o.runs[1].start_utc, slot_at(5));
  EXPECT_EQ(o.runs[1].end_utc, slot_at(6));
}

TEST(ExecutorTest, PauseResumeNeverMissesDeadlineWhenCleanSlotsLieBeyondIt) {
  ManualClock clock(kT0);
  // Clean only after the deadline (slot 4 on): the job must run in slots 1..3 at the latest.
  auto in = flat_intensity({300, 400, 400, 400, 10, 10, 10, 10});
  Outcome o =
      execute(Algorithm::kPauseResume, constant(in), 3 * kSlot, 3 * kSlot, slot_at(4), clock);
  ASSERT_TRUE(o.planned);
  EXPECT_LE(o.end, slot_at(4));
  // The cheapest three of the four slots before the deadline: 0 (300) and two of the 400s,
  // earliest on ties: 0, 1, 2.
  ASSERT_EQ(o.runs.size(), 1u);
  EXPECT_EQ(o.runs[0].start_utc, slot_at(0));
  EXPECT_EQ(o.runs[0].end_utc, slot_at(3));
}

TEST(ExecutorTest, SlackReachingZeroMidSlotRunsStraightThrough) {
  ManualClock clock(kT0 + 2min);  // starts inside slot 0
  auto in = flat_intensity({900, 900, 900, 10, 10, 10});
  // Deadline at 3 slots + 2 min; 2 slots of work: slack is one slot, spent waiting.
  Outcome o = execute(Algorithm::kPauseResume, constant(in), 2 * kSlot, 2 * kSlot,
                      slot_at(3) + 2min, clock);
  ASSERT_TRUE(o.planned);
  EXPECT_LE(o.end, slot_at(3) + 2min);
  // At 00:02 the window is 3 + 5 + 5 min at 900 and 2 min at 10: the 10 slot and the earliest
  // 900s. It runs 00:02-00:10, pauses for slot 2, and at 00:15 no slack is left: straight to
  // the deadline.
  ASSERT_EQ(o.runs.size(), 2u);
  EXPECT_EQ(o.runs[0].start_utc, kT0 + 2min);
  EXPECT_EQ(o.runs[0].end_utc, slot_at(2));
  EXPECT_EQ(o.runs[1].start_utc, slot_at(3));
  EXPECT_EQ(o.runs[1].end_utc, slot_at(3) + 2min);
  bool straight = false;
  for (const auto& e : o.events) straight |= e.action == "straight-through";
  EXPECT_TRUE(straight);
}

TEST(ExecutorTest, JobLongerThanExpectedIsNeverPausedAgainAfterItsExpectedTime) {
  ManualClock clock(kT0);
  auto in = flat_intensity({100, 900, 900, 100, 900, 900, 900, 900, 900, 900});
  // Expected 2 slots (plan: slots 0 and 3), but it needs 3.
  Outcome o =
      execute(Algorithm::kPauseResume, constant(in), 2 * kSlot, 3 * kSlot, slot_at(10), clock);
  ASSERT_TRUE(o.planned);
  ASSERT_EQ(o.runs.size(), 2u);
  EXPECT_EQ(o.runs[0].start_utc, slot_at(0));
  EXPECT_EQ(o.runs[0].end_utc, slot_at(1));
  EXPECT_EQ(o.runs[1].start_utc, slot_at(3));
  EXPECT_EQ(o.runs[1].end_utc, slot_at(5));  // ran on through slot 4 to finish
  EXPECT_EQ(o.end, slot_at(5));
}

TEST(ExecutorTest, ReplanningFollowsAChangedForecast) {
  ManualClock clock(kT0);
  auto before = flat_intensity({500, 500, 500, 500, 500, 100, 100, 500});
  auto after = flat_intensity({500, 500, 100, 100, 500, 500, 500, 500});
  // The forecast changes at slot 1: the cheap slots move from 5-6 to 2-3.
  IntensityFn fn = [&](SysTime as_of, SysTime, SysTime) -> Result<SlottedIntensity> {
    return as_of >= slot_at(1) ? after : before;
  };
  Outcome o = execute(Algorithm::kPauseResume, fn, 2 * kSlot, 2 * kSlot, slot_at(8), clock);
  ASSERT_TRUE(o.planned);
  ASSERT_EQ(o.runs.size(), 1u);
  EXPECT_EQ(o.runs[0].start_utc, slot_at(2));
  EXPECT_EQ(o.runs[0].end_utc, slot_at(4));
}

TEST(ExecutorTest, FlexibleStartWaitsForTheCheapestBlockThenRunsThrough) {
  ManualClock clock(kT0);
  auto in = flat_intensity({500, 100, 500, 200, 200, 200, 500, 500});
  Outcome o =
      execute(Algorithm::kFlexibleStart, constant(in), 3 * kSlot, 3 * kSlot, slot_at(8), clock);
  ASSERT_TRUE(o.planned);
  // Blocks of three: from 1: 100+500+200 = 800; from 3: 600 (cheapest).
  ASSERT_EQ(o.runs.size(), 1u);
  EXPECT_EQ(o.runs[0].start_utc, slot_at(3));
  EXPECT_EQ(o.runs[0].end_utc, slot_at(6));
}

TEST(ExecutorTest, EveryPauseTellsTheLatestResumeTime) {
  ManualClock clock(kT0);
  auto in = flat_intensity({100, 900, 900, 100, 900, 900, 900, 900, 900, 900});
  Executor ex({Algorithm::kPauseResume, slot_at(10), 2 * kSlot}, constant(in), clock);
  ASSERT_TRUE(ex.plan());
  FakeJob job(clock, 2 * kSlot);
  ASSERT_EQ(ex.wait_for_start(job), 0);
  job.start();
  EXPECT_EQ(ex.supervise(job).exit_code, 0);
  // Paused after slot 0 with one slot of work left: it must run again by deadline - 1 slot.
  ASSERT_EQ(job.latest_resumes().size(), 1u);
  EXPECT_EQ(job.latest_resumes()[0], slot_at(9));
}

TEST(ExecutorTest, AJobResumedBehindThePlansBackRunsStraightThroughAndIsRecorded) {
  ManualClock clock(kT0);
  auto in = flat_intensity({100, 900, 900, 900, 100, 900, 900, 100, 900, 900});
  Executor ex({Algorithm::kPauseResume, slot_at(10), 3 * kSlot}, constant(in), clock);
  ASSERT_TRUE(ex.plan());
  FakeJob job(clock, 3 * kSlot);
  job.resume_behind_the_back_at(slot_at(2));  // the watchdog, while carbonclock was stopped
  ASSERT_EQ(ex.wait_for_start(job), 0);
  job.start();
  EXPECT_EQ(ex.supervise(job).exit_code, 0);
  // Planned: slots 0, 4 and 7. Resumed at slot 2, it ran straight to the end (no more pauses).
  ASSERT_EQ(job.runs().size(), 2u);
  EXPECT_EQ(job.runs()[1].start_utc, slot_at(2));
  EXPECT_EQ(job.runs()[1].end_utc, slot_at(4));
  ASSERT_EQ(ex.running().size(), 2u);
  EXPECT_EQ(ex.running()[1].start_utc, slot_at(2));
  bool resumed = false, straight = false;
  for (const auto& e : ex.events()) {
    resumed |= e.action == "resume" && e.at_utc == slot_at(2) &&
               e.note.find("resumed by the watchdog") != std::string::npos;
    straight |= e.action == "straight-through";
  }
  EXPECT_TRUE(resumed);
  EXPECT_TRUE(straight);
}

TEST(ExecutorTest, BadDeadlinesAreClearErrors) {
  ManualClock clock(kT0 + 1h);
  auto in = flat_intensity({100, 100});
  Executor past({Algorithm::kPauseResume, kT0, 1h}, constant(in), clock);
  Status s = past.plan();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("in the past"), std::string::npos);
  Executor tight({Algorithm::kPauseResume, kT0 + 90min, 1h}, constant(in), clock);
  s = tight.plan();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("less than the expected duration"), std::string::npos);
}

TEST(ExecutorTest, NoIntensityIsAnError) {
  ManualClock clock(kT0);
  IntensityFn none = [](SysTime, SysTime, SysTime) -> Result<SlottedIntensity> {
    return make_error("no carbon-intensity data for zone X");
  };
  Executor ex({Algorithm::kPauseResume, kT0 + 2h, 1h}, none, clock);
  Status s = ex.plan();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("zone X"), std::string::npos);
}

}  // namespace
}  // namespace carbonclock

#include "execution/executor.h"

#include <gtest/gtest.h>

#include <map>

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
    if (until <= now) return {};
    if (running_) {
      SysTime finish = now + (work_ - done_);
      if (finish <= until) {
        clock_.advance(finish - now);
        done_ = work_;
        running_ = false;
        runs_.back().end_utc = finish;
        return {JobExit{0, 0, 0}, 0};
      }
      done_ += until - now;
    }
    clock_.advance(until - now);
    return {};
  }
  Result<PauseOutcome> pause() override {
    running_ = false;
    runs_.back().end_utc = clock_.system_now();
    return PauseOutcome{};
  }
  Status resume() override {
    start();
    return {};
  }
  void start() {
    running_ = true;
    runs_.push_back({clock_.system_now(), clock_.system_now()});
  }
  const std::vector<RunInterval>& runs() const { return runs_; }

 private:
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

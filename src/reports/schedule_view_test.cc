#include "reports/schedule_view.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

// run.json's `schedule` as `run --flex-start` wrote it before `plan.risk` was recorded.
nlohmann::json schedule_without_risk() {
  return nlohmann::json::parse(R"({
    "algorithm": "flexible-start", "window": "12h",
    "requested_start_utc": "2024-03-01T00:00:00.000Z", "deadline_utc": "2024-03-01T14:00:00.000Z",
    "expected_duration_s": 7200,
    "plan": {"planned_at_utc": "2024-03-01T00:00:00.000Z",
             "runs": [{"start_utc": "2024-03-01T03:00:00.000Z", "end_utc": "2024-03-01T05:00:00.000Z"}],
             "expected_saving_pct": 12.5,
             "intensity": {"zone": "DE", "signal": "average", "factor": "lifecycle", "slot_s": 300,
                           "basis": [{"basis": "carbonclock-forecast"}]}},
    "events": [], "running": [], "pauses": 0})");
}

TEST(ScheduleViewTest, ARunJsonWithoutRiskReadsAsBeforeWithoutARiskLine) {
  auto v = schedule_view(schedule_without_risk());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->risk_note, "");
  EXPECT_EQ(schedule_text(*v),
            "schedule: flexible-start within +12h; requested start 2024-03-01T00:00:00.000Z, "
            "deadline 2024-03-01T14:00:00.000Z\n"
            "  plan (made 2024-03-01T00:00:00.000Z): run 2024-03-01T03:00:00.000Z – "
            "2024-03-01T05:00:00.000Z; expected saving 12.5%\n"
            "  planned on DE average/lifecycle (carbonclock-forecast)\n"
            "  ran none (0 pauses)\n");
}

TEST(ScheduleViewTest, TheRiskPlannedOnIsShownUnderThePlan) {
  nlohmann::json s = schedule_without_risk();
  const std::string note =
      "planned on p90 of carbonclock's own forecast (carbonclock-forecast-regression-p90) for 168 "
      "of 168 slots";
  s["plan"]["risk"] = {
      {"quantile", "p90"}, {"slots", 168}, {"slots_on_quantile", 168}, {"note", note}};
  auto v = schedule_view(s);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->risk_note, note);
  const std::string text = schedule_text(*v);
  EXPECT_NE(
      text.find("  planned on DE average/lifecycle (carbonclock-forecast)\n  risk: " + note + "\n"),
      std::string::npos)
      << text;
  // The point forecast (the default) has an empty note: no line.
  s["plan"]["risk"] = {
      {"quantile", "point"}, {"slots", 168}, {"slots_on_quantile", 0}, {"note", ""}};
  EXPECT_EQ(schedule_text(*schedule_view(s)),
            schedule_text(*schedule_view(schedule_without_risk())));
}

}  // namespace
}  // namespace carbonclock

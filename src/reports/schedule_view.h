// A carbon-aware run's schedule (run.json `schedule`, execution/schedule_record.h) as the
// reports show it: the request, the first plan, every event (pause, resume, ...), when the job
// actually ran, and the emissions saved against starting at once. Text, Markdown and HTML
// render the same view.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace carbonclock {

struct ScheduleView {
  struct Interval {
    std::string start_utc, end_utc;
  };
  struct Event {
    std::string at_utc, action, note;
  };
  struct Savings {
    double emitted_g = 0, immediate_g = 0, saved_g = 0, saved_pct = 0;
    std::string basis;   ///< "actual", "forecast", "file", ...
    std::string source;  ///< the intensity series' source
  };
  std::string algorithm;  ///< "flexible-start" | "pause-resume"
  std::string window;     ///< "50%", "12h", "deadline"
  std::string requested_start_utc, deadline_utc;
  std::string planned_at_utc;
  std::vector<Interval> planned;
  std::optional<double> expected_saving_pct;
  std::string planning_intensity;  ///< "DE average/lifecycle (forecast, actual)"
  /// `run --risk`: what the plan was planned on ("planned on p90 of carbonclock's own forecast
  /// (...) for 24 of 24 slots", or the fall-back); empty for the point forecast and in run.json
  /// files written before `plan.risk` was recorded.
  std::string risk_note;
  std::vector<Event> events;
  std::vector<Interval> running;
  int pauses = 0;
  std::optional<Savings> savings;

  /// "pause-resume within +50%" / "flexible-start by deadline".
  std::string title() const;
  /// "emitted 12.3 g vs 15.0 g had it started at once: 2.70 g saved (18.0%), from actual
  /// intensities (source)"; empty without savings.
  std::string savings_text() const;
};

/// The view of run.json's `schedule`; nullopt when `schedule` is not an object.
std::optional<ScheduleView> schedule_view(const nlohmann::json& schedule);

/// The view as indented text lines for the terminal report (each ends with a newline).
std::string schedule_text(const ScheduleView& view);

}  // namespace carbonclock

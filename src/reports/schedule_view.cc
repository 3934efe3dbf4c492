#include "reports/schedule_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "reports/carbon_report.h"
#include "reports/format.h"

namespace carbonclock {
namespace {

std::vector<ScheduleView::Interval> intervals(const nlohmann::json& a) {
  std::vector<ScheduleView::Interval> out;
  if (!a.is_array()) return out;
  for (const auto& i : a) {
    if (!i.is_object()) continue;
    out.push_back({i.value("start_utc", ""), i.value("end_utc", "")});
  }
  return out;
}

std::string join_intervals(const std::vector<ScheduleView::Interval>& v) {
  std::string out;
  for (const auto& i : v)
    out += fmt::format("{}{} – {}", out.empty() ? "" : ", ", i.start_utc, i.end_utc);
  return out.empty() ? "none" : out;
}

}  // namespace

std::string ScheduleView::title() const {
  return window == "deadline" ? fmt::format("{} by the deadline", algorithm)
                              : fmt::format("{} within +{}", algorithm, window);
}

std::string ScheduleView::savings_text() const {
  if (!savings) return "";
  const Savings& s = *savings;
  const ScaledUnit unit =
      grams_unit_for(std::max(std::fabs(s.emitted_g), std::fabs(s.immediate_g)));
  return fmt::format(
      "emitted {} vs {} had it started at once: {} saved ({}%), from {} intensities{} (before "
      "PUE)",
      in_unit(s.emitted_g, unit), in_unit(s.immediate_g, unit), in_unit(s.saved_g, unit),
      fixed(s.saved_pct, 1), s.basis.empty() ? "planning" : s.basis,
      s.source.empty() ? "" : " (" + s.source + ")");
}

std::optional<ScheduleView> schedule_view(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  ScheduleView v;
  v.algorithm = j.value("algorithm", "");
  v.window = j.value("window", "");
  v.requested_start_utc = j.value("requested_start_utc", "");
  v.deadline_utc = j.value("deadline_utc", "");
  if (j.contains("plan") && j["plan"].is_object()) {
    const auto& p = j["plan"];
    v.planned_at_utc = p.value("planned_at_utc", "");
    v.planned = intervals(p.value("runs", nlohmann::json::array()));
    if (p.contains("expected_saving_pct") && p["expected_saving_pct"].is_number()) {
      v.expected_saving_pct = p["expected_saving_pct"].get<double>();
    }
    if (p.contains("intensity") && p["intensity"].is_object()) {
      const auto& in = p["intensity"];
      std::string bases;
      if (in.contains("basis") && in["basis"].is_array()) {
        for (const auto& b : in["basis"]) {
          std::string basis = b.value("basis", "");
          if (!basis.empty() && bases.find(basis) == std::string::npos) {
            bases += (bases.empty() ? "" : ", ") + basis;
          }
        }
      }
      v.planning_intensity =
          fmt::format("{} {}/{}{}", in.value("zone", ""), in.value("signal", ""),
                      in.value("factor", ""), bases.empty() ? "" : " (" + bases + ")");
    }
    if (p.contains("risk") && p["risk"].is_object()) v.risk_note = p["risk"].value("note", "");
  }
  if (j.contains("events") && j["events"].is_array()) {
    for (const auto& e : j["events"]) {
      if (!e.is_object()) continue;
      v.events.push_back({e.value("at_utc", ""), e.value("action", ""), e.value("note", "")});
    }
  }
  v.running = intervals(j.value("running", nlohmann::json::array()));
  v.pauses = j.value("pauses", 0);
  if (j.contains("savings") && j["savings"].is_object()) {
    const auto& s = j["savings"];
    v.savings = ScheduleView::Savings{
        s.value("emitted_g", 0.0), s.value("immediate_g", 0.0),    s.value("saved_g", 0.0),
        s.value("saved_pct", 0.0), s.value("intensity_basis", ""), s.value("intensity_source", "")};
  }
  return v;
}

std::string schedule_text(const ScheduleView& v) {
  std::string out;
  auto add = [&out]<typename... Args>(fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(std::back_inserter(out), f, std::forward<Args>(args)...);
  };
  add("schedule: {}; requested start {}, deadline {}\n", v.title(), v.requested_start_utc,
      v.deadline_utc);
  add("  plan (made {}): run {}{}\n", v.planned_at_utc, join_intervals(v.planned),
      v.expected_saving_pct ? fmt::format("; expected saving {}%", fixed(*v.expected_saving_pct, 1))
                            : "");
  if (!v.planning_intensity.empty()) add("  planned on {}\n", v.planning_intensity);
  if (!v.risk_note.empty()) add("  risk: {}\n", v.risk_note);
  for (const auto& e : v.events) {
    add("  {:<24} {:<16}{}\n", e.at_utc, e.action, e.note.empty() ? "" : " " + e.note);
  }
  add("  ran {} ({} pause{})\n", join_intervals(v.running), v.pauses, v.pauses == 1 ? "" : "s");
  if (v.savings) add("  saving: {}\n", v.savings_text());
  return out;
}

}  // namespace carbonclock

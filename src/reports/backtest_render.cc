#include "reports/backtest_render.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <limits>

#include "reports/format.h"
#include "shifting/plan.h"

namespace carbonclock {
namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kAlgorithms[] = {"flexible-start", "pause-resume"};
constexpr const char* kAlgorithmTitles[] = {"Flexible Start", "Pause and Resume"};

std::string pct(double v) { return std::isnan(v) ? "–" : fixed(v, 1); }
ojson number_or_null(double v) { return std::isnan(v) ? ojson(nullptr) : ojson(v); }

std::vector<size_t> algorithms(const BacktestRun& run) {
  std::vector<size_t> out;
  if (run.options.flexible_start) out.push_back(0);
  if (run.options.pause_resume) out.push_back(1);
  return out;
}

std::string served(const BacktestZoneStats& s) {
  std::string out;
  size_t total = 0;
  for (size_t n : s.served) total += n;
  if (total == 0) return "–";
  for (size_t m = 0; m < kModels.size(); ++m) {
    if (s.served[m] == 0) continue;
    out += fmt::format("{}{} {:.0f} %", out.empty() ? "" : ", ", to_string(kModels[m]),
                       100.0 * static_cast<double>(s.served[m]) / static_cast<double>(total));
  }
  return out;
}

}  // namespace

std::string backtest_csv_header() {
  return "job,zone,start_utc,window,algorithm,forecast,baseline_g,realised_g,oracle_g,"
         "captured_pct,pauses\n";
}

void append_backtest_csv(const BacktestRun& run, const std::vector<BacktestRow>& rows,
                         std::string& out) {
  const std::string forecast = csv_field(run.forecast.label());
  for (const BacktestRow& r : rows) {
    auto captured = r.captured_pct();
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{},{},{},{}\n",
                   csv_field(run.labels.jobs[r.job]), csv_field(run.labels.zones[r.zone]),
                   format_utc_minutes(r.start_utc), csv_field(run.labels.windows[r.window]),
                   kAlgorithms[r.pause_resume ? 1 : 0], forecast, fixed(r.baseline_g, 6),
                   fixed(r.realised_g, 6), fixed(r.oracle_g, 6),
                   captured ? fixed(*captured, 4) : std::string(), r.pauses);
  }
}

std::string backtest_markdown(const BacktestRun& run) {
  const BacktestSummary& s = run.summary;
  const SweepLabels& l = run.labels;
  std::string out = fmt::format(
      "# Back-test: planning on `{}`, priced on actuals\n\n"
      "Each cell: mean carbon reduction (%) realised by the schedule planned on the forecast / "
      "by the oracle (planned on the actuals, as `sweep`), and in brackets the share of the "
      "oracle's saving captured (100 × realised / oracle). Means over each zone's starts, then "
      "over zones.\n",
      run.forecast.label());
  for (size_t a : algorithms(run)) {
    out += fmt::format("\n## {}\n\n| job |", kAlgorithmTitles[a]);
    for (const std::string& w : l.windows) out += fmt::format(" {} |", w);
    out += " captured |\n|---|";
    for (size_t w = 0; w < l.windows.size(); ++w) out += "---:|";
    out += "---:|\n";
    for (size_t j = 0; j < s.jobs(); ++j) {
      out += fmt::format("| {} |", l.jobs[j]);
      for (size_t w = 0; w < s.windows(); ++w) {
        out += fmt::format(" {} / {} ({}) |", pct(s.realised_pct(j, w, a)),
                           pct(s.oracle_pct(j, w, a)), pct(s.captured_pct(j, w, a)));
      }
      out += fmt::format(" {} |\n", pct(s.mean_captured_pct(j, a)));
    }
    out += fmt::format(
        "\nMean share of the oracle saving captured ({}): **{} %** (over the "
        "job × window pairs where the oracle saves anything)\n",
        kAlgorithmTitles[a], pct(s.mean_captured_pct(static_cast<size_t>(-1), a)));
  }
  out +=
      "\n## Zones\n\n| zone | history | forecasts | served | planned | no forecast | "
      "skipped (outside, gap) |\n|---|---|---:|---|---:|---:|---|\n";
  for (size_t z = 0; z < run.zone_stats.size(); ++z) {
    const BacktestZoneStats& st = run.zone_stats[z];
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {}, {} |\n", l.zones[z],
                       z < run.history_series.size() ? run.history_series[z] : "", st.forecasts,
                       served(st), st.starts_planned, st.starts_unplanned, st.skipped_outside,
                       st.skipped_gap);
  }
  if (run.forecast.kind == BacktestForecast::Kind::kStored) {
    out += "\n";
    for (size_t z = 0; z < run.zone_stats.size(); ++z) {
      const BacktestZoneStats& st = run.zone_stats[z];
      const size_t slots = st.stored_slots + st.own_slots;
      out += fmt::format(
          "{}: stored forecasts {}, {} issues; of the planning slots forecast, {} % rest on "
          "the latest stored forecast issued by the decision time, {} % (beyond its horizon) on "
          "carbonclock's own\n",
          l.zones[z], st.stored_series.empty() ? "none" : st.stored_series, st.stored_issues,
          pct(slots ? 100.0 * static_cast<double>(st.stored_slots) / static_cast<double>(slots)
                    : std::numeric_limits<double>::quiet_NaN()),
          pct(slots ? 100.0 * static_cast<double>(st.own_slots) / static_cast<double>(slots)
                    : std::numeric_limits<double>::quiet_NaN()));
    }
  }
  for (size_t z = 0; z < run.zone_stats.size(); ++z) {
    if (!run.zone_stats[z].first_unplanned_reason.empty()) {
      out +=
          fmt::format("\n{}: {} (start, job, window) without a forecast, first: {}\n", l.zones[z],
                      run.zone_stats[z].starts_unplanned, run.zone_stats[z].first_unplanned_reason);
    }
  }
  return out;
}

std::string backtest_json(const BacktestRun& run) {
  const BacktestSummary& s = run.summary;
  const SweepLabels& l = run.labels;
  ojson doc;
  doc["forecast"] = run.forecast.label();
  doc["rows"] = s.rows;
  ojson algos = ojson::array();
  for (size_t a : algorithms(run)) {
    ojson jobs = ojson::array();
    for (size_t j = 0; j < s.jobs(); ++j) {
      ojson windows = ojson::array();
      for (size_t w = 0; w < s.windows(); ++w) {
        windows.push_back({{"window", l.windows[w]},
                           {"realised_reduction_pct", number_or_null(s.realised_pct(j, w, a))},
                           {"oracle_reduction_pct", number_or_null(s.oracle_pct(j, w, a))},
                           {"captured_pct", number_or_null(s.captured_pct(j, w, a))}});
      }
      jobs.push_back({{"job", l.jobs[j]},
                      {"captured_pct", number_or_null(s.mean_captured_pct(j, a))},
                      {"windows", windows}});
    }
    algos.push_back(
        {{"algorithm", kAlgorithms[a]},
         {"captured_pct", number_or_null(s.mean_captured_pct(static_cast<size_t>(-1), a))},
         {"jobs", jobs}});
  }
  doc["algorithms"] = algos;
  ojson zones = ojson::array();
  for (size_t z = 0; z < run.zone_stats.size(); ++z) {
    const BacktestZoneStats& st = run.zone_stats[z];
    ojson served_by = ojson::object();
    for (size_t m = 0; m < kModels.size(); ++m) served_by[to_string(kModels[m])] = st.served[m];
    zones.push_back({{"zone", l.zones[z]},
                     {"history", z < run.history_series.size() ? run.history_series[z] : ""},
                     {"forecasts", st.forecasts},
                     {"served", served_by},
                     {"planned", st.starts_planned},
                     {"no_forecast", st.starts_unplanned},
                     {"no_forecast_reason", st.first_unplanned_reason},
                     {"skipped_outside", st.skipped_outside},
                     {"skipped_gap", st.skipped_gap}});
    if (run.forecast.kind == BacktestForecast::Kind::kStored) {
      zones.back()["stored"] = {{"series", st.stored_series},
                                {"issues", st.stored_issues},
                                {"slots_on_stored", st.stored_slots},
                                {"slots_on_own_forecast", st.own_slots}};
    }
  }
  doc["zones"] = zones;
  return json_text(doc);
}

}  // namespace carbonclock

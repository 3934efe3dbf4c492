// The self-contained HTML report: inline CSS and SVG charts (reports/svg_chart.h), no script.
#include "reports/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "accounting/equivalents.h"
#include "common/units.h"
#include "reports/carbon_report.h"
#include "reports/format.h"
#include "reports/schedule_view.h"
#include "reports/statement.h"
#include "reports/summary.h"
#include "reports/svg_chart.h"

namespace carbonclock {
namespace {

// Eight distinct colours (an 8-GPU node), then repeating.
constexpr const char* kColors[] = {"#4c78a8", "#f58518", "#54a24b", "#b279a2",
                                   "#e45756", "#72b7b2", "#eeca3b", "#9d755d"};
constexpr const char* kStoredColor = "#4c78a8";
constexpr const char* kEmbeddedColor = "#bab0ac";
constexpr const char* kMixedColor = "#88a5c4";

std::string device_label(const DeviceInfo& d) {
  return d.name.empty() || d.name == d.id ? d.id : d.id + " " + d.name;
}

std::string intensity_chart(const RunRecord& run, const CarbonAccount& a) {
  const auto& h = a.headline_signal();
  LineChart c{fmt::format("Grid intensity ({} signal, zone {}) and the run's energy",
                          to_string(h.signal), a.zone),
              "gCO2eq/kWh",
              "energy per bucket (Wh)",
              run.start_utc,
              {}};
  ChartSeries stored{"stored grid data", kStoredColor, {}, false, false};
  ChartSeries embedded{"embedded typical profile", "#9d755d", {}, false, false};
  const double end_s = run.duration_s();
  for (size_t i = 0; i < h.intensity.size(); ++i) {
    const auto& p = h.intensity[i];
    double x0 = std::max(to_seconds(p.start - run.start_utc), 0.0);
    double x1 = std::min(to_seconds(p.end() - run.start_utc), end_s);
    if (x1 <= x0) continue;
    auto& s = h.intensity_embedded[i] ? embedded : stored;
    s.xy.emplace_back(x0, p.g_per_kwh);
    s.xy.emplace_back(x1, p.g_per_kwh);
  }
  for (auto* s : {&stored, &embedded}) {
    if (!s->xy.empty()) c.series.push_back(std::move(*s));
  }
  ChartSeries energy{"run energy per bucket (Wh)", "#e45756", {}, true, true};
  for (const auto& b : run.timeline.buckets) {
    double total = 0;
    for (double e : b.energy_j) total += e;
    energy.xy.emplace_back(std::max(to_seconds(b.start_utc - run.start_utc), 0.0), total / 3600);
  }
  c.series.push_back(std::move(energy));
  return svg_line_chart(c);
}

std::string zones_chart(const CarbonAccount& a, const HtmlExtras& x) {
  BarChart c{"This job in every catalogued zone (operational gCO2eq, average signal, log scale)",
             "gCO2eq (log scale)",
             {},
             true,
             {},
             {{"priced with stored grid data", kStoredColor},
              {"priced with the zone's embedded typical profile", kEmbeddedColor},
              {"partly stored, partly embedded (share stored in brackets)", kMixedColor},
              {"the run's own zone", "#d62728"}}};
  for (const auto& z : x.by_zone) {
    Bar b{z.zone + (z.region.empty() ? "" : " (" + z.region + ")"), z.operational_g,
          z.zone == a.zone, ""};
    if (z.stored_share >= 0.995) {
      b.color = kStoredColor;
    } else if (z.stored_share <= 0.005) {
      b.color = kEmbeddedColor;
    } else {
      b.color = kMixedColor;
      b.label += fmt::format(" [{}% stored]", fixed(100 * z.stored_share, 0));
    }
    if (b.highlight) b.color = "#d62728";
    c.bars.push_back(std::move(b));
  }
  for (const auto& e : equivalent_factors()) c.markers.emplace_back("1 " + e.singular, e.g_each);
  return svg_bar_chart(c);
}

std::string hours_chart(const RunRecord& run, const CarbonAccount& a, const HtmlExtras& x) {
  BarChart c{fmt::format("This job started at each hour of {} UTC in {} (operational gCO2eq)",
                         format_utc(run.start_utc).substr(0, 10), a.zone),
             "gCO2eq",
             {},
             false,
             {},
             {}};
  const auto day = std::chrono::floor<std::chrono::days>(run.start_utc);
  const auto start_hour =
      std::chrono::duration_cast<std::chrono::hours>(run.start_utc - day).count();
  for (size_t h = 0; h < x.by_hour.size(); ++h) {
    c.bars.push_back(
        {fmt::format("{:02}", h), x.by_hour[h], static_cast<long>(h) == start_hour, ""});
  }
  return svg_bar_chart(c);
}

std::string device_table(const RunRecord& run) {
  const auto totals = run.timeline.device_totals_j();
  const ScaledUnit unit = device_table_unit(run);
  const double total = run.timeline.total_j();
  const double duration_s = std::max(run.duration_s(), 1e-9);
  std::string out = fmt::format(
      "<table class=\"devices\"><tr><th>device</th><th>name</th><th>method</th>"
      "<th>energy ({})</th><th>mean power (W)</th><th>share</th></tr>\n",
      unit.name);
  for (size_t i = 0; i < totals.size(); ++i) {
    const auto& d = run.timeline.devices[i];
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{}%</td></tr>\n",
        html_escape(d.id), html_escape(d.name), to_string(d.method),
        d.method == Method::kEstimate ? " (estimated)" : "",
        fixed(totals[i] / unit.base_per_unit, unit.decimals), fixed(totals[i] / duration_s, 1),
        fixed(total > 0 ? 100 * totals[i] / total : 0, 1));
  }
  const EnergySplit split = energy_split(run);
  out += fmt::format(
      "<tr class=\"total\"><td>total</td><td></td><td>{}% measured by counters or power "
      "readings, {}% estimated</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
      "class=\"num\">100.0%</td></tr>\n</table>\n",
      fixed(100 * split.measured_share(), 1), fixed(100 * split.estimated_share(), 1),
      fixed(total / unit.base_per_unit, unit.decimals), fixed(total / duration_s, 1));
  return out;
}

std::string schedule_section(const RunRecord& run) {
  if (!run.schedule) return "";
  auto v = schedule_view(*run.schedule);
  if (!v) return "";
  std::string planned;
  for (const auto& i : v->planned) {
    planned += (planned.empty() ? "" : ", ") + i.start_utc + " – " + i.end_utc;
  }
  std::string ran;
  for (const auto& i : v->running)
    ran += (ran.empty() ? "" : ", ") + i.start_utc + " – " + i.end_utc;
  std::string out = "<h2>Carbon-aware schedule</h2>\n<table>\n";
  auto row = [&out](const std::string& k, const std::string& val) {
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html_escape(k), html_escape(val));
  };
  row("schedule", v->title());
  row("requested start / deadline", v->requested_start_utc + " / " + v->deadline_utc);
  row("plan",
      "made " + v->planned_at_utc + ": run " + (planned.empty() ? "none" : planned) +
          (v->expected_saving_pct ? "; expected saving " + fixed(*v->expected_saving_pct, 1) + "%"
                                  : ""));
  if (!v->planning_intensity.empty()) row("planned on", v->planning_intensity);
  if (!v->risk_note.empty()) row("risk", v->risk_note);
  row("ran", (ran.empty() ? "none" : ran) +
                 fmt::format(" ({} pause{})", v->pauses, v->pauses == 1 ? "" : "s"));
  if (v->savings) row("saving", v->savings_text());
  out +=
      "</table>\n<table class=\"events\"><tr><th>time (UTC)</th><th>event</th><th>note</th></tr>\n";
  for (const auto& e : v->events) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n", html_escape(e.at_utc),
                       html_escape(e.action), html_escape(e.note));
  }
  return out + "</table>\n";
}

}  // namespace

LineChart power_line_chart(const RunRecord& run, const HtmlExtras& x) {
  const bool samples = !x.power.empty();
  // Samples: an estimate's coarse counter is drawn over the spans in which it advanced
  // (power_from_samples, app/report.h), not as alternating zero and double steps.
  LineChart c{samples ? "Power by device (between the journal's samples)"
                      : "Power by device (mean per timeline bucket)",
              "power (W)",
              "",
              run.start_utc,
              {}};
  for (size_t d = 0; d < run.timeline.devices.size(); ++d) {
    ChartSeries s{
        device_label(run.timeline.devices[d]), kColors[d % std::size(kColors)], {}, true, false};
    // A step holds until the next point: the last step needs a point at its end, or it is
    // drawn with no width and its energy is missing from the chart.
    double end_s = 0;
    if (samples) {
      for (const auto& p : x.power) {
        if (d >= p.watts.size()) continue;
        s.xy.emplace_back(p.from_s, p.watts[d]);
        end_s = p.to_s;
      }
    } else {
      for (const auto& b : run.timeline.buckets) {
        if (b.active_s <= 0) continue;
        double at = std::max(to_seconds(b.start_utc - run.start_utc), 0.0);
        s.xy.emplace_back(at, b.energy_j[d] / b.active_s);
        end_s = at + b.active_s;
      }
    }
    if (!s.xy.empty()) s.xy.emplace_back(end_s, s.xy.back().second);
    c.series.push_back(std::move(s));
  }
  return c;
}

std::string report_html(const RunRecord& run, const CarbonAccount& a, const HtmlExtras& x) {
  const auto& h = a.headline_signal();
  std::string rows;
  auto row = [&rows](const std::string& k, const std::string& v) {
    rows += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html_escape(k), html_escape(v));
  };
  row("run", run.id);
  row("command", join_command(run));
  row("start", format_utc(run.start_utc) + ", ran " + format_duration(run.end_utc - run.start_utc));
  row("hardware", hardware_phrase(run));
  row("energy (IT)", fmt::format("{:.6f} kWh", a.energy_j / kJoulesPerKwh));
  const EnergySplit split = energy_split(run);
  row("measured / estimated",
      fmt::format("{}% measured by counters or power readings, {}% estimated",
                  fixed(100 * split.measured_share(), 1), fixed(100 * split.estimated_share(), 1)));
  row("PUE", fmt::format("{:.2f} ({})", a.pue, a.pue_origin));
  row("zone", zone_phrase(a) + ", chosen by " + a.zone_origin);
  for (const auto& s : a.signals) {
    std::string parts;
    for (const auto& p : priced_by(s, run)) parts += (parts.empty() ? "" : "; ") + p;
    row(fmt::format("operational, {} signal{}", to_string(s.signal), &s == &h ? " (headline)" : ""),
        format_grams(s.operational_g) + " CO2eq, priced with " + s.signal_label() + "/" +
            s.factor_label() + " data" + (s.mix.mixed() ? " (MIXED sources)" : "") + ": " + parts);
  }
  row("why this signal", a.headline_reason);
  row("embodied", format_grams(a.embodied.embodied_g) + " CO2eq (" + a.embodied.note + ")");
  row("SCI", format_grams(a.sci_g_per_unit()) + " CO2eq per " +
                 (a.unit ? a.unit->text() : std::string("run")));
  row("equivalents", equivalents_text(a.total_g()));
  row("coverage", fmt::format("{}% stored data, {}% embedded profile, {}% not priced",
                              fixed(100 * h.stored_share(), 1), fixed(100 * h.embedded_share(), 1),
                              fixed(100 * h.unpriced_share(), 1)));
  std::string notes;
  for (const auto& n : a.notes) notes += "<li>" + html_escape(n) + "</li>\n";
  for (const auto& w : run.warnings) notes += "<li>run warning: " + html_escape(w) + "</li>\n";
  return fmt::format(
      R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>carbonclock report {0}</title>
<style>body{{font-family:sans-serif;margin:24px;max-width:960px;color:#222;background:#fff}}
table{{border-collapse:collapse;margin-bottom:16px}}th,td{{text-align:left;padding:3px 10px;
border-bottom:1px solid #ddd;vertical-align:top}}td.num{{text-align:right;font-variant-numeric:tabular-nums}}
tr.total td{{font-weight:bold}}figure{{margin:16px 0}}svg{{max-width:100%;height:auto}}</style></head>
<body>
<h1>carbonclock report</h1>
<table>
{1}</table>
<h2>Energy by device</h2>
{2}{3}<figure>{4}</figure>
<figure>{5}</figure>
<figure>{6}</figure>
<figure>{7}</figure>
<h2>What the numbers rest on</h2>
<ul>
{8}</ul>
<p>{9}</p>
</body></html>
)",
      html_escape(run.id), rows, device_table(run), schedule_section(run),
      svg_line_chart(power_line_chart(run, x)), intensity_chart(run, a), zones_chart(a, x),
      hours_chart(run, a, x), notes, html_escape(method_citation()));
}

}  // namespace carbonclock

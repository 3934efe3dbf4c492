// The self-contained HTML report: inline CSS and SVG charts (reports/svg_chart.h).
#include <fmt/format.h>

#include <algorithm>

#include "accounting/equivalents.h"
#include "reports/carbon_report.h"
#include "reports/svg_chart.h"

namespace carbonclock {
namespace {

constexpr const char* kColors[] = {"#4c78a8", "#f58518", "#54a24b", "#b279a2",
                                   "#e45756", "#72b7b2", "#eeca3b", "#9d755d"};

std::string power_chart(const RunRecord& run) {
  LineChart c{"Power by device", "power (W)", "", run.start_utc, {}};
  for (size_t d = 0; d < run.timeline.devices.size(); ++d) {
    ChartSeries s{run.timeline.devices[d].id + " " + run.timeline.devices[d].name,
                  kColors[d % std::size(kColors)],
                  {},
                  true,
                  false};
    for (const auto& b : run.timeline.buckets) {
      if (b.active_s <= 0) continue;
      double x = std::max(to_seconds(b.start_utc - run.start_utc), 0.0);
      s.xy.emplace_back(x, b.energy_j[d] / b.active_s);
    }
    c.series.push_back(std::move(s));
  }
  return svg_line_chart(c);
}

std::string intensity_chart(const RunRecord& run, const CarbonAccount& a) {
  const auto& h = a.headline_signal();
  LineChart c{fmt::format("Grid intensity ({} signal, zone {}) and the run's energy",
                          to_string(h.signal), a.zone),
              "gCO2eq/kWh",
              "energy per bucket (Wh)",
              run.start_utc,
              {}};
  ChartSeries stored{"stored intensity", "#4c78a8", {}, true, false};
  ChartSeries embedded{"embedded profile", "#9d755d", {}, true, false};
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
    s->step = false;
    if (!s->xy.empty()) c.series.push_back(std::move(*s));
  }
  ChartSeries energy{"energy (Wh)", "#e45756", {}, true, true};
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
             "gCO2eq (log scale); dashed lines: equivalents",
             {},
             true,
             {}};
  for (const auto& z : x.by_zone) {
    c.bars.push_back({z.zone + (z.region.empty() ? "" : " (" + z.region + ")"), z.operational_g,
                      z.zone == a.zone});
  }
  auto f = equivalent_factors();
  for (const auto& e : f) c.markers.emplace_back("1 " + e.singular, e.g_each);
  return svg_bar_chart(c);
}

std::string hours_chart(const RunRecord& run, const CarbonAccount& a, const HtmlExtras& x) {
  BarChart c{fmt::format("This job started at each hour of {} UTC in {} (operational gCO2eq)",
                         format_utc(run.start_utc).substr(0, 10), a.zone),
             "gCO2eq",
             {},
             false,
             {}};
  const auto day = std::chrono::floor<std::chrono::days>(run.start_utc);
  const auto start_hour =
      std::chrono::duration_cast<std::chrono::hours>(run.start_utc - day).count();
  for (size_t h = 0; h < x.by_hour.size(); ++h) {
    c.bars.push_back({fmt::format("{:02}", h), x.by_hour[h], static_cast<long>(h) == start_hour});
  }
  return svg_bar_chart(c);
}

}  // namespace

std::string report_html(const RunRecord& run, const CarbonAccount& a, const HtmlExtras& x) {
  const auto& h = a.headline_signal();
  std::string cmd;
  for (const auto& s : run.command) cmd += (cmd.empty() ? "" : " ") + s;
  std::string rows;
  auto row = [&rows](const std::string& k, const std::string& v) {
    rows += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html_escape(k), html_escape(v));
  };
  row("run", run.id);
  row("command", cmd);
  row("start", format_utc(run.start_utc) + ", ran " + format_duration(run.end_utc - run.start_utc));
  row("energy (IT)", fmt::format("{:.6f} kWh", a.energy_j / 3.6e6));
  row("PUE", fmt::format("{:.2f} ({})", a.pue, a.pue_origin));
  row("zone",
      a.zone + (a.region ? " (region " + *a.region + ")" : "") + ", chosen by " + a.zone_origin);
  for (const auto& s : a.signals) {
    row(fmt::format("operational, {} signal{}", to_string(s.signal), &s == &h ? " (headline)" : ""),
        format_grams(s.operational_g) + " CO2eq, priced with " + s.signal_label() + "/" +
            s.factor_label() + " data" + (s.mix.mixed() ? " (MIXED sources)" : ""));
  }
  row("why this signal", a.headline_reason);
  row("embodied", format_grams(a.embodied.embodied_g) + " CO2eq (" + a.embodied.note + ")");
  row("SCI", format_grams(a.sci_g_per_unit()) + " CO2eq per " +
                 (a.unit ? a.unit->text() : std::string("run")));
  row("equivalents", equivalents_sentence(a.total_g()));
  row("coverage",
      fmt::format("{:.1f}% stored data, {:.1f}% embedded profile, {:.1f}% not priced",
                  100 * h.stored_share(), 100 * h.embedded_share(), 100 * h.unpriced_share()));
  std::string notes;
  for (const auto& n : a.notes) notes += "<li>" + html_escape(n) + "</li>\n";
  for (const auto& w : run.warnings) notes += "<li>run warning: " + html_escape(w) + "</li>\n";
  return fmt::format(
      R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>carbonclock report {0}</title>
<style>body{{font-family:sans-serif;margin:24px;max-width:960px;color:#222;background:#fff}}
table{{border-collapse:collapse;margin-bottom:16px}}th,td{{text-align:left;padding:3px 10px;
border-bottom:1px solid #ddd;vertical-align:top}}figure{{margin:16px 0}}svg{{max-width:100%;height:auto}}
.status{{color:#888;font-size:small}}</style></head>
<body>
<h1>carbonclock report</h1>
<table>
{1}</table>
<figure>{2}</figure>
<figure>{3}</figure>
<figure>{4}</figure>
<figure>{5}</figure>
<h2>What the numbers rest on</h2>
<ul>
{6}</ul>
<p>Method: SCI = (E &#215; I + M) / R (Green Software Foundation; ISO/IEC 21031:2024); operational
emissions integrated interval by interval as in Dodge et al., FAccT 2022, times PUE.</p>
<p class="status" id="cc-status">static</p>
<script>
document.getElementById("cc-status").textContent =
    "rendered " + document.querySelectorAll("svg").length + " charts";
document.body.setAttribute("data-cc-ready", "1");
</script>
</body></html>
)",
      html_escape(run.id), rows, power_chart(run), intensity_chart(run, a), zones_chart(a, x),
      hours_chart(run, a, x), notes);
}

}  // namespace carbonclock

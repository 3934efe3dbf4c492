#include "reports/sweep_output.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "common/json_text.h"
#include "reports/format.h"
#include "shifting/plan.h"

namespace carbonclock {
namespace {

template <typename... Args>
void append(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

std::string pct(double v) { return std::isnan(v) ? "–" : fixed(v, 1); }
std::string rate(double v) { return std::isnan(v) ? "–" : fixed(v, 2); }

// fmt's "{:.Nf}" appended to `out`, without the sign of a negative value that rounds to zero
// ("0.0000", never "-0.0000"), in place: this is the baseline of the streamed rows' benchmark
// (bench/shifting_bench.cc), so it allocates nothing more than fmt does.
void append_fixed_fmt(std::string& out, double value, int decimals) {
  const size_t at = out.size();
  fmt::format_to(std::back_inserter(out), "{:.{}f}", value, decimals);
  if (out[at] == '-' && out.find_first_not_of("0.", at + 1) == std::string::npos) out.erase(at, 1);
}

}  // namespace

std::string sweep_csv_header() {
  return "job,zone,start_utc,window,algorithm,baseline_g,shifted_g,reduction_pct,pauses\n";
}

void append_sweep_csv(const SweepCell& cell, const SweepLabels& labels, std::string& out) {
  const std::string job = csv_field(labels.jobs[cell.job]);
  const std::string zone = csv_field(labels.zones[cell.zone]);
  const std::vector<SysTime>& starts = labels.zone_starts[cell.zone];
  for (size_t q = 0; q < starts.size(); ++q) {
    std::string start = format_utc_minutes(floor_to(starts[q], labels.slot));
    for (size_t w = 0; w < cell.windows.size(); ++w) {
      const SweepCell::Window& win = cell.windows[w];
      if (win.status[q] != StartStatus::kOk) continue;
      const std::string& label = labels.windows[w];
      double base = win.baseline_g[q];
      auto row = [&](const char* algorithm, double shifted_g, int32_t pauses) {
        fmt::format_to(std::back_inserter(out), "{},{},{},{},{},", job, zone, start, label,
                       algorithm);
        append_fixed_fmt(out, base, 6);
        out += ',';
        append_fixed_fmt(out, shifted_g, 6);
        out += ',';
        append_fixed_fmt(out, reduction_pct(base, shifted_g), 4);
        fmt::format_to(std::back_inserter(out), ",{}\n", pauses);
      };
      row("flexible-start", win.fs_g[q], 0);
      row("pause-resume", win.pr_g[q], win.pr_pauses[q]);
    }
  }
}

void append_sweep_json(const SweepCell& cell, const SweepLabels& labels,
                       nlohmann::ordered_json& rows) {
  const std::vector<SysTime>& starts = labels.zone_starts[cell.zone];
  for (size_t q = 0; q < starts.size(); ++q) {
    SysTime start = floor_to(starts[q], labels.slot);
    for (size_t w = 0; w < cell.windows.size(); ++w) {
      const SweepCell::Window& win = cell.windows[w];
      if (win.status[q] != StartStatus::kOk) continue;
      double base = win.baseline_g[q];
      nlohmann::ordered_json fs = {
          {"job", labels.jobs[cell.job]},
          {"zone", labels.zones[cell.zone]},
          {"start_utc", format_utc_minutes(start)},
          {"window", labels.windows[w]},
          {"algorithm", "flexible-start"},
          {"baseline_g", base},
          {"shifted_g", win.fs_g[q]},
          {"reduction_pct", reduction_pct(base, win.fs_g[q])},
          {"pauses", 0},
          {"chosen_start_utc", format_utc_minutes(start + labels.slot * win.fs_offset[q])}};
      rows.push_back(std::move(fs));
      rows.push_back({{"job", labels.jobs[cell.job]},
                      {"zone", labels.zones[cell.zone]},
                      {"start_utc", format_utc_minutes(start)},
                      {"window", labels.windows[w]},
                      {"algorithm", "pause-resume"},
                      {"baseline_g", base},
                      {"shifted_g", win.pr_g[q]},
                      {"reduction_pct", reduction_pct(base, win.pr_g[q])},
                      {"pauses", win.pr_pauses[q]}});
    }
  }
}

SweepStreamWriter::SweepStreamWriter(Format format, const SweepLabels& labels,
                                     std::vector<nlohmann::ordered_json> zones, size_t jobs,
                                     bool by_zone, Write write)
    : format_(format),
      labels_(labels),
      zones_(std::move(zones)),
      by_zone_(by_zone),
      write_(std::move(write)),
      summary_(jobs, labels.zones.size(), labels.windows.size()),
      csv_(labels.jobs, labels.zones, labels.windows) {
  auto quote = [](const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const auto& n : names) {
      out.push_back(dump_json(nlohmann::json(n)));
    }
    return out;
  };
  json_jobs_ = quote(labels.jobs);
  json_zones_ = quote(labels.zones);
  json_windows_ = quote(labels.windows);
}

Status SweepStreamWriter::begin() {
  if (format_ == Format::kCsv) return write_(sweep_csv_header());
  if (format_ != Format::kJson) return {};
  nlohmann::ordered_json head;
  head["series"] = zones_;
  head["slot_s"] = to_seconds(labels_.slot);
  // The object is written open: rows follow, the skip counts close it.
  std::string text = dump_json(std::move(head), 2);
  text.pop_back();  // '}'
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return write_(text + ",\n  \"rows\": [");
}

void SweepStreamWriter::append_json_rows(const SweepBlock& block, std::string& out) const {
  auto row = std::back_inserter(out);
  for (size_t i = 0; i < block.starts(); ++i) {
    if (block.start_slot[i] < 0) continue;
    const SysTime start = block.start_utc(i);
    const std::string start_text = format_utc_minutes(start);
    for (size_t w = 0; w < block.windows(); ++w) {
      const SweepResult& r = block.result(i, w);
      if (r.status != StartStatus::kOk) continue;
      const double base = block.grams(r.baseline_ug), fs = block.grams(r.fs_ug),
                   pr = block.grams(r.pr_ug);
      // Rows are separated by ",\n" and the first written one is not preceded by it; consume()
      // strips the leading separator of the first block.
      fmt::format_to(row,
                     ",\n    {{\"job\": {}, \"zone\": {}, \"start_utc\": \"{}\", \"window\": {}, "
                     "\"algorithm\": \"flexible-start\", \"baseline_g\": {}, \"shifted_g\": {}, "
                     "\"reduction_pct\": {}, \"pauses\": 0, \"chosen_start_utc\": \"{}\"}}",
                     json_jobs_[block.job], json_zones_[block.zone], start_text, json_windows_[w],
                     base, fs, reduction_pct(base, fs),
                     format_utc_minutes(start + block.slot * r.fs_offset));
      fmt::format_to(row,
                     ",\n    {{\"job\": {}, \"zone\": {}, \"start_utc\": \"{}\", \"window\": {}, "
                     "\"algorithm\": \"pause-resume\", \"baseline_g\": {}, \"shifted_g\": {}, "
                     "\"reduction_pct\": {}, \"pauses\": {}}}",
                     json_jobs_[block.job], json_zones_[block.zone], start_text, json_windows_[w],
                     base, pr, reduction_pct(base, pr), r.pr_pauses);
    }
  }
}

void SweepStreamWriter::render(const SweepBlock& block, std::string& out) {
  if (format_ == Format::kCsv) {
    csv_.append(block, out);
  } else if (format_ == Format::kJson) {
    append_json_rows(block, out);
  }
}

Status SweepStreamWriter::consume(const SweepBlock& block, std::string_view rendered) {
  summary_.add(block);
  if (rendered.empty()) return {};
  if (format_ == Format::kJson && first_row_) {
    rendered.remove_prefix(1);  // the first row takes no comma
    first_row_ = false;
  }
  return write_(rendered);
}

Status SweepStreamWriter::finish() {
  if (format_ == Format::kMarkdown) return write_(sweep_markdown(summary_, labels_, by_zone_));
  if (format_ != Format::kJson) return {};
  return write_(fmt::format("\n  ],\n  \"skipped_outside_data\": {},\n  \"skipped_gap\": {}\n}}\n",
                            summary_.skipped_outside, summary_.skipped_gap));
}

std::string sweep_markdown(const SweepSummary& summary, const SweepLabels& labels, bool by_zone) {
  std::string out;
  append(out, "# Shifting sweep\n\n");
  append(out, "Series used (zone signal/factor, source):\n\n");
  for (size_t z = 0; z < labels.zones.size(); ++z) {
    append(out, "- {} — {} requested starts\n", labels.zone_series[z],
           labels.zone_starts[z].size());
  }
  append(out,
         "\nSlots of {}. Reductions are against running at the requested start, in percent: the "
         "mean over each zone's starts, then the mean over zones. Pauses are per hour of job "
         "runtime (Pause and Resume).\n",
         format_duration(labels.slot));
  append(out,
         "{} (job, zone, start, window) combinations computed; skipped: {} whose window runs "
         "outside the data, {} with a gap in the window.\n",
         summary.rows_ok, summary.skipped_outside, summary.skipped_gap);
  for (size_t w = 0; w < labels.windows.size(); ++w) {
    append(out, "\n## Window +{}\n\n", labels.windows[w]);
    append(out, "| job | Flexible Start (%) | Pause and Resume (%) | P&R pauses/h |\n");
    append(out, "|---|---:|---:|---:|\n");
    for (size_t j = 0; j < labels.jobs.size(); ++j) {
      append(out, "| {} | {} | {} | {} |\n", labels.jobs[j], pct(summary.fs_reduction_pct(j, w)),
             pct(summary.pr_reduction_pct(j, w)), rate(summary.pr_pauses_per_hour(j, w)));
    }
    if (!by_zone) continue;
    append(out, "\n### Window +{} by zone\n\n", labels.windows[w]);
    append(out,
           "| job | zone | starts | Flexible Start (%) | Pause and Resume (%) | P&R pauses/h |\n");
    append(out, "|---|---|---:|---:|---:|---:|\n");
    for (size_t j = 0; j < labels.jobs.size(); ++j) {
      for (size_t z = 0; z < labels.zones.size(); ++z) {
        append(out, "| {} | {} | {} | {} | {} | {} |\n", labels.jobs[j], labels.zones[z],
               summary.zone_starts_used(j, z, w), pct(summary.zone_fs_reduction_pct(j, z, w)),
               pct(summary.zone_pr_reduction_pct(j, z, w)),
               rate(summary.zone_pr_pauses_per_hour(j, z, w)));
      }
    }
  }
  return out;
}

}  // namespace carbonclock

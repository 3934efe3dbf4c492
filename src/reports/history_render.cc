#include "reports/history_render.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "reports/carbon_report.h"

namespace carbonclock {
namespace {

using ojson = nlohmann::ordered_json;

std::string tags_text(const HistoryEntry& e) {
  std::string tags;
  for (const auto& t : e.tags) tags += (tags.empty() ? "" : ",") + t;
  return tags;
}

std::string exit_text(const HistoryEntry& e) {
  return e.exit_code ? std::to_string(*e.exit_code) : std::string("?");
}

bool unpriced(const std::string& signal) { return signal == kUnpricedSignal; }

// Grams in the column's unit, or "not priced".
std::string grams_cell(const std::string& signal, double g, const ScaledUnit& unit) {
  return unpriced(signal) ? std::string("not priced") : in_unit(g, unit);
}

// One unit per column: chosen by the largest value in it.
template <typename Rows, typename Get>
ScaledUnit grams_column_unit(const Rows& rows, Get get) {
  double largest = 0;
  for (const auto& r : rows) largest = std::max(largest, std::fabs(get(r)));
  return grams_unit_for(largest);
}

std::string totals_table(const std::string& title, const TotalsBySignal& totals) {
  std::vector<std::pair<std::string, const HistoryTotals*>> rows;
  std::vector<std::string> keys;
  for (const auto& [key, by_signal] : totals) {
    for (const auto& [signal, t] : by_signal) {
      rows.emplace_back(signal, &t);
      keys.push_back(key);
    }
  }
  auto op = grams_column_unit(rows, [](const auto& r) { return r.second->operational_g; });
  auto em = grams_column_unit(rows, [](const auto& r) { return r.second->embodied_g; });
  std::string out = fmt::format("{}\n", title);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& [signal, t] = rows[i];
    out += fmt::format(
        "  {:<20} {:<8} {:>4} run(s) {:>12} kWh {:>12} operational {:>12} "
        "embodied\n",
        keys[i], signal, t->runs, fixed(t->energy_kwh, 6), grams_cell(signal, t->operational_g, op),
        grams_cell(signal, t->embodied_g, em));
  }
  return out;
}

ojson grams_json(const std::string& signal, double g) {
  return unpriced(signal) ? ojson(nullptr) : ojson(g);
}

ojson totals_json(const TotalsBySignal& totals) {
  ojson j = ojson::object();
  for (const auto& [key, by_signal] : totals) {
    ojson k = ojson::object();
    for (const auto& [signal, t] : by_signal) {
      k[signal] = {{"runs", t.runs},
                   {"energy_kwh", t.energy_kwh},
                   {"operational_g", grams_json(signal, t.operational_g)},
                   {"embodied_g", grams_json(signal, t.embodied_g)}};
    }
    j[key] = std::move(k);
  }
  return j;
}

std::string render_json(const HistoryResult& h) {
  ojson list = ojson::array();
  for (const auto& e : h.runs) {
    list.push_back({{"run_id", e.run_id},
                    {"start_utc", format_utc(e.start_utc)},
                    {"duration_s", e.duration_s},
                    {"energy_kwh", e.energy_kwh},
                    {"operational_g", grams_json(e.signal, e.operational_g)},
                    {"embodied_g", grams_json(e.signal, e.embodied_g)},
                    {"signal", e.signal},
                    {"factor", e.factor},
                    {"zone", e.zone},
                    {"pue", e.pue},
                    {"stored_share", e.stored_share},
                    {"tags", e.tags},
                    {"run_dir", e.run_dir},
                    {"command", e.command},
                    {"exit_code", e.exit_code ? ojson(*e.exit_code) : ojson(nullptr)},
                    {"recovered", e.recovered}});
  }
  ojson doc = {
      {"runs", list}, {"by_month", totals_json(h.by_month)}, {"by_tag", totals_json(h.by_tag)}};
  return json_text(doc);
}

std::string render_csv(const HistoryResult& h) {
  std::string out =
      "run_id,start_utc,duration_s,energy_kwh,operational_g,embodied_g,signal,factor,zone,pue,"
      "stored_share,exit_code,recovered,tags,run_dir,command\n";
  for (const auto& e : h.runs) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(e.run_id),
                       format_utc(e.start_utc), e.duration_s, e.energy_kwh,
                       unpriced(e.signal) ? "" : fmt::format("{}", e.operational_g),
                       unpriced(e.signal) ? "" : fmt::format("{}", e.embodied_g), e.signal,
                       e.factor, csv_field(e.zone), e.pue, e.stored_share,
                       e.exit_code ? std::to_string(*e.exit_code) : "", e.recovered ? 1 : 0,
                       csv_field(tags_text(e)), csv_field(e.run_dir), csv_field(e.command));
  }
  return out;
}

std::string render_text(const HistoryResult& h) {
  if (h.runs.empty()) {
    return fmt::format("no runs recorded{}\n", h.note.empty() ? "" : " (" + h.note + ")");
  }
  auto op = grams_column_unit(h.runs, [](const HistoryEntry& e) { return e.operational_g; });
  auto em = grams_column_unit(h.runs, [](const HistoryEntry& e) { return e.embodied_g; });
  std::string out = fmt::format("{:<20} {:<25} {:>9} {:>4} {:>12} {:>12} {:>12} {:<8} {:<12} {}\n",
                                "start (UTC)", "run", "duration", "exit", "energy kWh",
                                "operational", "embodied", "signal", "zone", "tags");
  for (const auto& e : h.runs) {
    out +=
        fmt::format("{:<20} {:<25} {:>9} {:>4} {:>12} {:>12} {:>12} {:<8} {:<12} {}{}\n",
                    format_utc(e.start_utc), e.run_id, format_duration(from_seconds(e.duration_s)),
                    exit_text(e), fixed(e.energy_kwh, 6), grams_cell(e.signal, e.operational_g, op),
                    grams_cell(e.signal, e.embodied_g, em), e.signal, e.zone, tags_text(e),
                    e.recovered ? " (recovered)" : "");
  }
  out += fmt::format("\n{}\n{}", totals_table("totals per month (UTC) and signal:", h.by_month),
                     totals_table("totals per tag and signal:", h.by_tag));
  return out;
}

}  // namespace

std::string render_history(const HistoryResult& history, Format format) {
  switch (format) {
    case Format::kJson:
      return render_json(history);
    case Format::kCsv:
      return render_csv(history);
    default:
      return render_text(history);
  }
}

}  // namespace carbonclock

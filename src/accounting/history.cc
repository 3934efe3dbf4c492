#include "accounting/history.h"

#include <filesystem>

#include "accounting/accounting.h"
#include "common/units.h"
#include "metering/run_record.h"

namespace carbonclock {
namespace {

void add(HistoryTotals& t, const HistoryEntry& e) {
  ++t.runs;
  t.energy_kwh += e.energy_kwh;
  t.operational_g += e.operational_g;
  t.embodied_g += e.embodied_g;
}

HistoryEntry base_entry(const RunRecord& run, const std::string& run_dir) {
  HistoryEntry e;
  e.run_id = run.id;
  e.start_utc = run.start_utc;
  e.duration_s = run.duration_s();
  e.energy_kwh = run.timeline.total_j() / kJoulesPerKwh;
  e.tags = run.tags;
  std::error_code ec;
  auto absolute = std::filesystem::absolute(run_dir, ec);
  e.run_dir = ec ? run_dir : absolute.lexically_normal().string();
  for (const auto& a : run.command) e.command += (e.command.empty() ? "" : " ") + a;
  e.exit_code = run.exit_code;
  e.recovered = run.recovered;
  return e;
}

}  // namespace

HistoryEntry unpriced_history_entry(const RunRecord& run, const std::string& zone,
                                    const std::string& run_dir) {
  HistoryEntry e = base_entry(run, run_dir);
  e.signal = kUnpricedSignal;
  e.zone = zone;
  e.pue = run.pue.value_or(1.0);
  return e;
}

HistoryEntry history_entry(const RunRecord& run, const CarbonAccount& account,
                           const std::string& run_dir) {
  HistoryEntry e = base_entry(run, run_dir);
  e.operational_g = account.operational_g();
  e.embodied_g = account.embodied.embodied_g;
  e.signal = to_string(account.headline_signal().signal);
  e.factor = account.headline_signal().factor_label();
  e.zone = account.zone;
  e.pue = account.pue;
  e.stored_share = account.headline_signal().stored_share();
  return e;
}

TotalsBySignal totals_by_month(const std::vector<HistoryEntry>& entries) {
  TotalsBySignal out;
  for (const auto& e : entries) add(out[format_utc(e.start_utc).substr(0, 7)][e.signal], e);
  return out;
}

TotalsBySignal totals_by_tag(const std::vector<HistoryEntry>& entries) {
  TotalsBySignal out;
  for (const auto& e : entries) {
    if (e.tags.empty()) add(out["(untagged)"][e.signal], e);
    for (const auto& t : e.tags) add(out[t][e.signal], e);
  }
  return out;
}

}  // namespace carbonclock

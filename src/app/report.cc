#include "app/report.h"

#include <fmt/format.h>

#include "accounting/history.h"
#include "app/distributed.h"
#include "app/host_info.h"
#include "app/store_access.h"
#include "execution/schedule_record.h"

namespace carbonclock {
namespace {

// A scheduled run's savings were computed at its end, usually from forecasts; once actual
// intensities for its zone are stored, recompute them from the actuals and say so.
void refresh_schedule_savings(RunRecord& run, IntensityProvider& provider, SysTime now,
                              std::vector<std::string>& notes) {
  if (!run.schedule || provider.store() == nullptr) return;
  const auto& planning = (*run.schedule)["plan"]["intensity"];
  auto signal = parse_signal(planning.value("signal", ""));
  auto requested = scheduled_requested_start(run);
  if (!signal || !requested) return;
  auto zone = select_zone(std::nullopt, planning.value("zone", run.zone.value_or("")));
  if (!zone) return;
  std::optional<Factor> factor;
  if (auto f = parse_factor(planning.value("factor", "")); f) factor = *f;
  const Nanos slot = from_seconds(planning.value("slot_s", 300.0));
  SysTime from = floor_to(*requested, slot);
  SysTime to = std::max(run.end_utc, *requested + (run.end_utc - run.start_utc)) + slot;
  auto actual = provider.actuals(*zone, *signal, factor, from, to, Fallback::kNone);
  if (!actual || actual->points.empty()) return;
  auto savings = schedule_savings(run, actual->as_series());
  if (!savings) return;  // actuals do not cover the run yet: keep what was recorded
  (*run.schedule)["savings"] = savings_to_json(*savings, "actual", now);
  notes.push_back(fmt::format(
      "schedule: {:.1f} g emitted vs {:.1f} g had it started at once, saved {:.1f} g ({:.1f}%), "
      "recomputed from stored actuals ({})",
      savings->emitted_g, savings->immediate_g, savings->saved_g, savings->saved_pct,
      savings->intensity_source));
}

// Records a run rebuilt from its journal in the history, once (it never reached it).
void record_recovered(const RunRecord& run, const CarbonAccount* account, const std::string& zone,
                      const std::filesystem::path& run_dir, GridStore& store, AppContext& ctx) {
  auto known = store.list_runs({run.start_utc, run.start_utc + Seconds(1), {}});
  bool recorded = known && std::any_of(known->begin(), known->end(),
                                       [&](const HistoryEntry& e) { return e.run_id == run.id; });
  if (recorded) return;
  HistoryEntry entry = account ? history_entry(run, *account, run_dir.string())
                               : unpriced_history_entry(run, zone, run_dir.string());
  if (auto s = store.record_run(entry); !s) {
    ctx.observer.warning("run not recorded in the history: " + s.error().message());
  }
}

}  // namespace

std::vector<PowerSample> power_from_samples(const std::vector<JournalSample>& samples,
                                            size_t max_points) {
  std::vector<PowerSample> out;
  if (samples.empty() || max_points == 0) return out;
  // Cumulative joules count from the run's start: the first step starts at 0 with 0 J.
  std::vector<const JournalSample*> points;
  JournalSample origin{0, std::vector<double>(samples.front().cumulative_j.size(), 0.0)};
  if (samples.front().t_s > 0) points.push_back(&origin);
  for (const auto& s : samples) {
    if (s.cumulative_j.size() != origin.cumulative_j.size()) continue;
    if (!points.empty() && s.t_s <= points.back()->t_s) continue;
    points.push_back(&s);
  }
  if (points.size() < 2) return out;
  const size_t steps = points.size() - 1;
  const size_t per = (steps + max_points - 1) / max_points;  // samples merged per step
  for (size_t i = 0; i < steps; i += per) {
    const JournalSample& a = *points[i];
    const JournalSample& b = *points[std::min(i + per, steps)];
    PowerSample p{a.t_s, b.t_s, {}};
    for (size_t d = 0; d < a.cumulative_j.size(); ++d) {
      p.watts.push_back((b.cumulative_j[d] - a.cumulative_j[d]) / (b.t_s - a.t_s));
    }
    out.push_back(std::move(p));
  }
  return out;
}

Result<ReportData> build_report(const ReportRequest& request, AppContext& ctx) {
  auto run = load_run(request.run_dir);
  if (!run) return run.error();
  auto inputs = resolve_inputs(request.choices, &*run);
  if (!inputs) return inputs.error();
  // A recovered run is recorded in the history, so its store is created when need be.
  auto opened =
      open_store(request.db, run->recovered ? StoreMode::kCreate : StoreMode::kIfExists, ctx.env);
  if (!opened && run->recovered) opened = open_store(request.db, StoreMode::kIfExists, ctx.env);
  if (!opened) return opened.error();
  if (!run->host_info && !run->host.empty() && run->host == local_host_name()) {
    run->host_info = collect_host_info(run->command, ctx.env);
  }
  IntensityProvider provider(opened->get());
  auto account = account_run(*run, *inputs, provider);
  if (!account) {
    // Not priced, but measured: a recovered run still belongs in the history.
    if (run->recovered && !run->cluster && opened->get() != nullptr) {
      record_recovered(*run, nullptr, inputs->zone, request.run_dir, *opened->get(), ctx);
    }
    return account.error();
  }
  if (!opened->note.empty()) account->notes.push_back(opened->note);
  refresh_schedule_savings(*run, provider, ctx.clock.system_now(), account->notes);

  ReportData out{std::move(*run), std::move(*account), request.run_dir, {}, {}, {}};
  if (request.charts) {
    out.by_zone = emissions_by_zone(out.run, out.account.pue, provider);
    out.by_hour =
        emissions_by_start_hour(out.run, inputs->selection, out.account.headline_signal().signal,
                                out.account.pue, provider);
  }
  if (request.charts && out.run.timeline.buckets.size() < kMinBucketsForPowerChart) {
    if (auto samples = read_journal_samples(request.run_dir)) {
      out.power = power_from_samples(*samples, kMaxPowerSamples);
    }
  }
  // A run rebuilt from its journal never reached the history: record it now, once.
  // A node of a distributed job is recorded with its job (app/cluster.h), not on its own.
  if (out.run.recovered && !out.run.cluster && opened->get() != nullptr) {
    record_recovered(out.run, &out.account, out.account.zone, request.run_dir, *opened->get(), ctx);
  }
  return out;
}

}  // namespace carbonclock

#include "app/report.h"

#include <fmt/format.h>

#include "accounting/history.h"
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

}  // namespace

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
  IntensityProvider provider(opened->get());
  auto account = account_run(*run, *inputs, provider);
  if (!account) return account.error();
  if (!opened->note.empty()) account->notes.push_back(opened->note);
  refresh_schedule_savings(*run, provider, ctx.clock.system_now(), account->notes);

  ReportData out{std::move(*run), std::move(*account), request.run_dir, {}, {}};
  if (request.charts) {
    out.by_zone = emissions_by_zone(out.run, out.account.pue, provider);
    out.by_hour =
        emissions_by_start_hour(out.run, inputs->selection, out.account.headline_signal().signal,
                                out.account.pue, provider);
  }
  // A run rebuilt from its journal never reached the history: record it now, once.
  // A node of a distributed job is recorded with its job (app/cluster.h), not on its own.
  if (out.run.recovered && !out.run.cluster && opened->get() != nullptr) {
    auto known = opened->get()->list_runs({out.run.start_utc, out.run.start_utc + Seconds(1), {}});
    bool recorded = known && std::any_of(known->begin(), known->end(), [&](const HistoryEntry& e) {
                      return e.run_id == out.run.id;
                    });
    if (!recorded) {
      auto s = opened->get()->record_run(history_entry(out.run, out.account, request.run_dir));
      if (!s) ctx.observer.warning("run not recorded in the history: " + s.error().message());
    }
  }
  return out;
}

}  // namespace carbonclock

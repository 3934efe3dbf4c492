#include "app/report.h"

#include <fmt/format.h>

#include <algorithm>

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

// Joules per sample step of one device. A fine counter (one that advances at every step, as
// NVML's and RAPL's do) keeps each step's own difference of readings. A coarse one has each
// jump spread over a window ending where it was read.
//
// Why: for a coarse counter a flat step does not say the device drew nothing, only that nothing
// was counted yet. The estimate sensor refreshes a job's CPU time at most once a second, so with
// 1-second samples a refresh regularly slips past a sample (0.99 s since the last one) and the
// next step counts two seconds of CPU time: drawn step by step, a busy CPU reads 10 W, 0, 19 W,
// 0, 19 W. All the data supports is "this many joules between the two advances", i.e. their
// mean power over that span, so the window reaches back to the counter's last advance. Two
// bounds, both in the counter's typical update period P (the median time between its
// advances, from its own data: the journal does not record when a sensor refreshed):
// - at most 2 P (a refresh slips by one period at most): a counter that was refreshed and stayed
//   flat for longer (a job sleeping, then computing) did show an idle device, and an unbounded
//   window would smear the first busy second over the whole idle stretch;
// - at least P: a counter counts in quanta (clock ticks of CPU time), so a jump read a few
//   milliseconds after the previous one (the exact total at the job's end) holds a quantum
//   caught up from earlier, not power drawn in those milliseconds (30 W from a 10 W core).
// A window not starting on a sample time shares its energy between the steps it covers by their
// overlap with it; the step of the jump is always covered whole, as it is the finest thing
// drawn. Every jump's energy is kept, so the device's total is.
std::vector<double> step_energy_j(const std::vector<double>& t_s, const std::vector<double>& e_j,
                                  bool coarse) {
  const size_t steps = t_s.size() - 1;
  std::vector<double> out(steps, 0.0);
  std::vector<size_t> advances;  // steps in which the counter changed
  for (size_t i = 0; i < steps; ++i) {
    out[i] = e_j[i + 1] - e_j[i];
    if (out[i] != 0) advances.push_back(i);
  }
  // Flat between two advances: coarse, whatever the sensor says.
  if (!advances.empty() && advances.back() - advances.front() + 1 > advances.size()) coarse = true;
  if (!coarse || advances.empty()) return out;
  std::fill(out.begin(), out.end(), 0.0);
  std::vector<double> periods;
  double last_s = t_s.front();
  for (size_t i : advances) {
    periods.push_back(t_s[i + 1] - last_s);
    last_s = t_s[i + 1];
  }
  auto mid = periods.begin() + static_cast<std::ptrdiff_t>(periods.size() / 2);
  std::nth_element(periods.begin(), mid, periods.end());
  const double period_s = *mid;
  double last_advance_s = t_s.front();
  for (size_t i : advances) {
    const double delta_j = e_j[i + 1] - e_j[i];
    const double end_s = t_s[i + 1];
    const double reach_s = std::clamp(end_s - last_advance_s, period_s, 2 * period_s);
    const double from_s = std::max(t_s.front(), std::min(t_s[i], end_s - reach_s));
    size_t j = i;
    while (j > 0 && t_s[j] > from_s) --j;  // the first step the window reaches
    for (; j <= i; ++j) {
      const double overlap_s = std::min(t_s[j + 1], end_s) - std::max(t_s[j], from_s);
      if (overlap_s > 0) out[j] += delta_j * overlap_s / (end_s - from_s);
    }
    last_advance_s = end_s;
  }
  return out;
}

}  // namespace

std::vector<PowerSample> power_from_samples(const std::vector<JournalSample>& samples,
                                            const std::vector<DeviceInfo>& devices,
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
  const size_t device_count = origin.cumulative_j.size();
  std::vector<double> t_s;
  t_s.reserve(points.size());
  for (const JournalSample* p : points) t_s.push_back(p->t_s);
  std::vector<std::vector<double>> energy_j;  // per device, per step
  energy_j.reserve(device_count);
  for (size_t d = 0; d < device_count; ++d) {
    std::vector<double> e_j;
    e_j.reserve(points.size());
    for (const JournalSample* p : points) e_j.push_back(p->cumulative_j[d]);
    const bool estimate = d < devices.size() && devices[d].method == Method::kEstimate;
    energy_j.push_back(step_energy_j(t_s, e_j, estimate));
  }
  const size_t per = (steps + max_points - 1) / max_points;  // samples merged per step
  for (size_t i = 0; i < steps; i += per) {
    const size_t last = std::min(i + per, steps);
    PowerSample p{t_s[i], t_s[last], {}};
    for (size_t d = 0; d < device_count; ++d) {
      double j = 0;
      for (size_t k = i; k < last; ++k) j += energy_j[d][k];
      p.watts.push_back(j / (p.to_s - p.from_s));
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
      out.power = power_from_samples(*samples, out.run.timeline.devices, kMaxPowerSamples);
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

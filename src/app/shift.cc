#include "app/shift.h"

#include <fmt/format.h>

#include <algorithm>

#include "accounting/accounting.h"
#include "app/store_access.h"
#include "common/strings.h"
#include "intensity/intensity_provider.h"
#include "metering/run_record.h"

namespace carbonclock {
namespace {

ZoneOutcome evaluate_zone(IntensityProvider& provider, const ZoneSelection& zone,
                          const ShiftRequest& r) {
  ZoneOutcome out;
  out.zone = zone.zone;
  const Nanos slot = r.job.slot;
  size_t widest = 0;
  for (const Shifting& s : r.shiftings) {
    widest = std::max(widest, window_slots(s.window, r.job.slots(), slot));
  }
  SysTime from = floor_to(r.requested_start_utc, slot);
  SysTime to = from + slot * static_cast<int64_t>(r.job.slots() + widest);
  auto in = provider.slotted(zone, r.signal.value_or(Signal::kAverage), r.factor, slot, from, to,
                             Fallback::kEmbedded);
  if (!in) {
    out.error = in.error();
    return out;
  }
  out.intensity = std::move(*in);
  const SlottedIntensity& intensity = *out.intensity;
  auto index = intensity.index_of(from);
  if (!index) {
    out.error = make_error("zone {}: the requested start {} is outside the data ({} to {})",
                           zone.zone, format_utc(from), format_utc(intensity.first_slot_utc),
                           format_utc(intensity.end_utc()));
    return out;
  }
  if (Status s = check_window(intensity, *index, r.job.slots()); !s) {
    out.error = s.error();
    return out;
  }
  out.used = intensity.used_provenances(*index, *index + r.job.slots() + widest);
  out.mix = summarize(out.used);
  std::vector<size_t> baseline(r.job.slots());
  for (size_t k = 0; k < r.job.slots(); ++k) baseline[k] = *index + k;
  out.baseline_g = emissions_g(r.job, intensity, baseline);
  for (const Shifting& s : r.shiftings) {
    out.plans.push_back(make_plan(s.algorithm, r.job, intensity, *index,
                                  window_slots(s.window, r.job.slots(), slot)));
  }
  return out;
}

}  // namespace

Result<std::vector<Shifting>> parse_shiftings(const std::string& flex, const std::string& pr) {
  std::vector<Shifting> out;
  if (!flex.empty()) {
    auto w = parse_window(flex);
    if (!w) return w.error().with_context("--flex-start");
    out.push_back({Algorithm::kFlexibleStart, *w});
  }
  if (!pr.empty()) {
    auto w = parse_window(pr);
    if (!w) return w.error().with_context("--pause-resume");
    out.push_back({Algorithm::kPauseResume, *w});
  }
  return out;
}

Result<std::vector<ZoneSelection>> parse_zone_list(const std::optional<std::string>& region,
                                                   const std::optional<std::string>& zone,
                                                   const std::string& zones, bool home_required) {
  std::vector<ZoneSelection> out;
  auto add = [&out](ZoneSelection sel) {
    bool seen = std::any_of(out.begin(), out.end(),
                            [&](const ZoneSelection& z) { return iequals(z.zone, sel.zone); });
    if (!seen) out.push_back(std::move(sel));
  };
  if (region || zone || home_required) {
    auto sel = select_zone(region, zone);
    if (!sel) return sel.error();
    add(std::move(*sel));
  }
  for (const std::string& z : split_list(zones)) {
    auto sel = select_zone(std::nullopt, z);
    if (!sel) return sel.error();
    add(std::move(*sel));
  }
  if (out.empty()) return make_error("give a zone: --zone, --region or --zones");
  return out;
}

std::optional<Error> ShiftResult::home_error() const {
  if (zones.empty()) return make_error("no zone");
  const ZoneOutcome& home = zones.front();
  if (home.error) return home.error;
  for (const Result<Plan>& p : home.plans) {
    if (!p) return p.error();
  }
  return std::nullopt;
}

Result<ShiftResult> shift_job(const ShiftRequest& r, AppContext& ctx) {
  auto opened = open_store(r.db, StoreMode::kIfExists, ctx.env);
  if (!opened) return opened.error();
  if (!opened->note.empty()) ctx.observer.note(opened->note + ": embedded profiles only");
  IntensityProvider provider(opened->get());
  ShiftResult out;
  out.title = r.title;
  out.job = r.job;
  out.requested_start_utc = r.requested_start_utc;
  out.shiftings = r.shiftings;
  for (const ZoneSelection& z : r.zones) {
    if (Status s = provider.check_zone(z); !s) {
      ZoneOutcome failed;
      failed.zone = z.zone;
      failed.error = s.error();
      out.zones.push_back(std::move(failed));
      continue;
    }
    out.zones.push_back(evaluate_zone(provider, z, r));
  }
  out.best_shifted.assign(r.shiftings.size(), std::nullopt);
  std::vector<const Plan*> best(r.shiftings.size(), nullptr);
  for (size_t zi = 0; zi < out.zones.size(); ++zi) {
    const ZoneOutcome& z = out.zones[zi];
    if (z.error) continue;
    if (!out.best_zone || z.baseline_g < out.zones[*out.best_zone].baseline_g) out.best_zone = zi;
    for (size_t i = 0; i < r.shiftings.size(); ++i) {
      if (!z.plans[i]) continue;
      const Plan* p = &z.plans[i].value();
      if (!best[i] || p->shifted_g < best[i]->shifted_g) {
        best[i] = p;
        out.best_shifted[i] = zi;
      }
    }
  }
  return out;
}

Status parse_signal_options(const std::string& signal_text, const std::string& factor_text,
                            std::optional<Signal>& signal, std::optional<Factor>& factor) {
  if (!signal_text.empty()) {
    auto s = parse_signal(signal_text);
    if (!s) return s.error().with_context("--signal");
    signal = *s;
  }
  if (!factor_text.empty()) {
    auto f = parse_factor(factor_text);
    if (!f) return f.error().with_context("--factor");
    factor = *f;
  }
  return {};
}

Result<SeriesChoice> parse_series_choice(const std::string& signal, const std::string& factor,
                                         const std::string& slot_text) {
  SeriesChoice c;
  if (Status s = parse_signal_options(signal, factor, c.signal, c.factor); !s) return s.error();
  auto slot = parse_duration(slot_text);
  if (!slot) return slot.error().with_context("--slot");
  if (*slot < std::chrono::seconds(1)) return make_error("--slot must be at least 1s");
  c.slot = *slot;
  return c;
}

Result<ShiftRequest> shift_request(const ShiftArgs& a) {
  auto choice = parse_series_choice(a.signal, a.factor, a.slot);
  if (!choice) return choice.error();
  if (a.flex_start.empty() == a.pause_resume.empty()) {
    return make_error("give exactly one of --flex-start N and --pause-resume N");
  }
  auto shiftings = parse_shiftings(a.flex_start, a.pause_resume);
  if (!shiftings) return shiftings.error();
  auto zones = parse_zone_list(a.region, a.zone, a.zones, true);
  if (!zones) return zones.error();
  auto start = parse_utc(a.start);
  if (!start) return start.error().with_context("--start");
  ShiftRequest request;
  request.title = "carbonclock shift";
  request.db = a.db;
  request.signal = choice->signal;
  request.factor = choice->factor;
  if (!a.profile.empty()) {
    if (!a.duration.empty() || a.energy_kwh) {
      return make_error("give either --profile RUN_DIR or --duration D --energy-kwh E, not both");
    }
    auto w = whatif_request(a.profile, *zones, *shiftings, choice->slot, {});
    if (!w) return w.error();
    request.job = std::move(w->job);
  } else {
    if (a.duration.empty() || !a.energy_kwh) {
      return make_error(
          "give --duration D and --energy-kwh E (a flat profile), or --profile RUN_DIR");
    }
    auto d = parse_duration(a.duration);
    if (!d) return d.error().with_context("--duration");
    auto job = flat_profile("job", *d, *a.energy_kwh, choice->slot);
    if (!job) return job.error();
    request.job = std::move(*job);
  }
  request.zones = std::move(*zones);
  request.requested_start_utc = floor_to(*start, choice->slot);
  request.shiftings = std::move(*shiftings);
  return request;
}

Result<ShiftRequest> whatif_request(const std::string& run_dir, std::vector<ZoneSelection> zones,
                                    std::vector<Shifting> shiftings, Nanos slot,
                                    const ZoneDefaults& defaults) {
  auto run = load_run(run_dir);
  if (!run) return run.error();
  auto job = measured_profile(run->id.empty() ? run_dir : run->id, run->timeline, run->start_utc,
                              run->end_utc, slot);
  if (!job) return job.error().with_context(run_dir);
  if (zones.empty()) {
    AccountingChoices choices;
    choices.defaults = defaults;
    auto own = resolve_inputs(choices, &*run);
    if (!own) return own.error();
    zones.push_back(own->selection);
  }
  ShiftRequest r;
  r.title = fmt::format("carbonclock whatif {} (run {})", run_dir, job->name);
  r.zones = std::move(zones);
  r.job = std::move(*job);
  r.requested_start_utc = floor_to(run->start_utc, slot);
  r.shiftings = std::move(shiftings);
  return r;
}

}  // namespace carbonclock

// shift | whatif | sweep: parse options, call the shifting use cases, render. The definitions
// (slots, windows, both algorithms, the sweep's starts) are in docs/shifting.md.
#include <fmt/format.h>

#include <memory>

#include "app/shift.h"
#include "app/sweep.h"
#include "cli/commands.h"
#include "common/files.h"
#include "reports/shift_render.h"
#include "reports/sweep_output.h"

namespace carbonclock::cli {
namespace {

constexpr Format kShiftFormats[] = {Format::kText, Format::kJson};
constexpr Format kSweepFormats[] = {Format::kCsv, Format::kMarkdown, Format::kJson};

/// Options every shifting command shares.
struct SeriesArgs {
  std::string signal, factor, db, slot = "5m";
};

void add_series_options(CLI::App* cmd, SeriesArgs& a) {
  add_signal_options(cmd, a.signal, a.factor, "average");
  add_db_option(cmd, a.db);
  cmd->add_option("--slot", a.slot, "Slot length, UTC-aligned, at least 1s (default 5m)");
}

Result<SeriesChoice> parse_series_args(const SeriesArgs& a) {
  return parse_series_choice(a.signal, a.factor, a.slot);
}

/// Runs shift or whatif and prints; the home zone's failure is the command's.
void shift_and_render(const ShiftRequest& request, Format format, const std::string& output,
                      CommandContext& ctx) {
  AppContext app = ctx.app();
  auto result = shift_job(request, app);
  if (!result) return ctx.fail(result.error());
  ctx.emit(render_shift(*result, format), output);
  if (auto e = result->home_error()) ctx.fail(*e);
}

struct ShiftArgs {
  SeriesArgs series;
  std::optional<std::string> zone, region;
  std::string start, duration, profile, flex_start, pause_resume, zones, format = "text", output;
  std::optional<double> energy_kwh;
};

void run_shift(const ShiftArgs& a, CommandContext& ctx) {
  auto format = parse_format(a.format, kShiftFormats);
  if (!format) return ctx.fail(format.error());
  auto request = shift_request({a.zone, a.region, a.zones, a.start, a.duration, a.energy_kwh,
                                a.profile, a.flex_start, a.pause_resume, a.series.signal,
                                a.series.factor, a.series.slot, a.series.db});
  if (!request) return ctx.fail(request.error());
  shift_and_render(*request, *format, a.output, ctx);
}

struct WhatifArgs {
  SeriesArgs series;
  std::string run_dir, zones, flex_start, pause_resume, format = "text", output;
  std::optional<std::string> zone, region;
};

void run_whatif(const WhatifArgs& a, CommandContext& ctx) {
  auto choice = parse_series_args(a.series);
  if (!choice) return ctx.fail(choice.error());
  auto format = parse_format(a.format, kShiftFormats);
  if (!format) return ctx.fail(format.error());
  auto shiftings = parse_shiftings(a.flex_start, a.pause_resume);
  if (!shiftings) return ctx.fail(shiftings.error());
  std::vector<ZoneSelection> zones;
  if (a.region || a.zone || !a.zones.empty()) {
    auto z = parse_zone_list(a.region, a.zone, a.zones, false);
    if (!z) return ctx.fail(z.error());
    zones = std::move(*z);
  }
  AccountingChoices defaults;
  load_zone_defaults_into(ctx, defaults);
  auto request = whatif_request(a.run_dir, std::move(zones), std::move(*shiftings), choice->slot,
                                defaults.defaults);
  if (!request) return ctx.fail(request.error());
  request->db = a.series.db;
  request->signal = choice->signal;
  request->factor = choice->factor;
  shift_and_render(*request, *format, a.output, ctx);
}

struct SweepArgs {
  SeriesArgs series;
  SweepRequest request;
  std::string format = "csv", output;
  bool by_zone = false;
};

/// A terminal progress bar on stderr.
class ProgressConsole final : public ConsoleObserver {
 public:
  ProgressConsole(Console& console, bool enabled) : ConsoleObserver(console), enabled_(enabled) {}
  void progress(size_t done, size_t total) override {
    if (!enabled_) return;
    constexpr size_t kWidth = 40;
    size_t filled = total ? done * kWidth / total : kWidth;
    console_.err(fmt::format("\rsweep [{}{}] {}/{} job×zone tasks{}", std::string(filled, '#'),
                             std::string(kWidth - filled, '.'), done, total,
                             done == total ? "\n" : ""));
  }

 private:
  bool enabled_;
};

void run_sweep_command(SweepArgs a, CommandContext& ctx) {
  auto choice = parse_series_args(a.series);
  if (!choice) return ctx.fail(choice.error());
  auto format = parse_format(a.format, kSweepFormats);
  if (!format) return ctx.fail(format.error());
  a.request.signal = choice->signal;
  a.request.factor = choice->factor;
  a.request.slot = choice->slot;
  a.request.db = a.series.db;
  AppContext app = ctx.app();
  auto inputs = prepare_sweep(a.request, app);
  if (!inputs) return ctx.fail(inputs.error());
  for (const std::string& s : inputs->labels.zone_series) ctx.observer.note("sweep: using " + s);
  // Rows go out as they are produced: to stdout, or to a temporary file renamed at the end.
  auto out = StreamedOutput::open(a.output, ctx.env.console);
  if (!out) return ctx.fail(out.error());
  auto write = [&](std::string_view bytes) { return out->write(bytes); };
  std::vector<nlohmann::ordered_json> series;
  for (const SweepZone& z : inputs->zones) {
    series.push_back({{"zone", z.intensity.zone},
                      {"signal", to_string(z.intensity.signal)},
                      {"factor", to_string(z.intensity.factor)},
                      {"source", z.intensity.source}});
  }
  SweepStreamWriter writer(*format, inputs->labels, std::move(series), inputs->jobs.size(),
                           a.by_zone, write);
  ProgressConsole progress(ctx.env.console, ctx.env.console.err_is_terminal() &&
                                                inputs->jobs.size() * inputs->zones.size() > 1);
  AppContext progress_app{ctx.env.clock, nullptr, ctx.env.env, progress};
  Status status = writer.begin();
  if (status) {
    status =
        run_sweep_streaming(*inputs, choice->slot, SweepOrder::kZoneMajor, progress_app, writer);
  }
  if (status) status = writer.finish();
  if (status) status = out->commit();
  if (!status) return ctx.fail(status.error());
  const SweepSummary& summary = writer.summary();
  ctx.observer.note(fmt::format(
      "sweep: {} (job, zone, start, window) combinations computed, {} skipped (window outside "
      "the data), {} skipped (gap in the window)",
      summary.rows_ok, summary.skipped_outside, summary.skipped_gap));
}

}  // namespace

void register_shift_commands(CLI::App& app, CommandContext& ctx) {
  auto sa = std::make_shared<ShiftArgs>();
  auto* shift = app.add_subcommand(
      "shift",
      "Plan one job with Flexible Start or Pause and Resume (oracle: the stored series is the "
      "future, the embedded typical profile where nothing is stored), in one zone or several "
      "(spatial / spatio-temporal)");
  shift->add_option("--zone", sa->zone, "Grid zone of the job");
  shift->add_option("--region", sa->region, "Cloud region (instead of --zone)");
  shift->add_option("--zones", sa->zones, "Other zones to compare, comma-separated");
  shift->add_option("--start", sa->start, "Requested start (UTC), e.g. 2023-03-01T00:00Z")
      ->required();
  shift->add_option("--duration", sa->duration, "Flat profile: job duration, e.g. 6h");
  shift->add_option("--energy-kwh", sa->energy_kwh, "Flat profile: job energy in kWh");
  shift
      ->add_option("--profile", sa->profile,
                   "Measured profile: a run directory written by `carbonclock run`")
      ->type_name(kRunDirName);
  shift->add_option("--flex-start", sa->flex_start, "Flexible Start window: 6h or 25%");
  shift->add_option("--pause-resume", sa->pause_resume, "Pause and Resume window: 6h or 25%");
  add_format_option(shift, sa->format, kShiftFormats, "json: schemas/shift.schema.json");
  add_output_option(shift, sa->output, "Write to FILE (atomically) instead of stdout");
  add_series_options(shift, sa->series);
  shift->callback([sa, &ctx] { run_shift(*sa, ctx); });

  auto wa = std::make_shared<WhatifArgs>();
  auto* whatif = app.add_subcommand(
      "whatif",
      "Replay a measured run in other zones and with shifting, using its measured profile "
      "(stored data where it covers the run's time, the embedded typical profile elsewhere)");
  whatif->add_option(kRunDirName, wa->run_dir, "A run directory written by `carbonclock run`")
      ->required();
  whatif->add_option("--zone", wa->zone, "Zone the run ran in (default: the run's own)");
  whatif->add_option("--region", wa->region, "Cloud region the run ran in (instead of --zone)");
  whatif->add_option("--zones", wa->zones, "Zones to replay it in, comma-separated");
  whatif->add_option("--flex-start", wa->flex_start, "Also shift with Flexible Start: 6h or 25%");
  whatif->add_option("--pause-resume", wa->pause_resume,
                     "Also shift with Pause and Resume: 6h or 25%");
  add_format_option(whatif, wa->format, kShiftFormats, "json: schemas/shift.schema.json");
  add_output_option(whatif, wa->output, "Write to FILE (atomically) instead of stdout");
  add_series_options(whatif, wa->series);
  whatif->callback([wa, &ctx] { run_whatif(*wa, ctx); });

  auto wp = std::make_shared<SweepArgs>();
  SweepRequest& r = wp->request;
  auto* sweep = app.add_subcommand(
      "sweep",
      "The paper's evaluation: jobs × zones × requested starts × windows × both algorithms "
      "(flat profiles) on stored data; CSV rows, Markdown tables or JSON");
  sweep->add_option("--jobs", r.jobs,
                    "paper (Table 2's eleven jobs) or a CSV name,duration_h,energy_kwh");
  sweep->add_option("--zones", r.zones, "Zones, comma-separated, or all")->required();
  sweep->add_option("--windows", r.windows,
                    "Windows, comma-separated (default 6h,12h,18h,24h,25%,50%,75%,100%)");
  sweep->add_option("--starts", r.starts_file, "File of requested starts, one UTC time a line");
  sweep->add_option("--starts-per-month", r.starts_per_month,
                    "K starts a month: evenly spaced days, rotating clock times (default 5)");
  sweep->add_option("--every", r.every, "A start every STEP, e.g. 1h");
  sweep->add_option("--from", r.from, "First requested start (default: each zone's data)");
  sweep->add_option("--to", r.to, "End of the data used (exclusive)");
  add_format_option(sweep, wp->format, kSweepFormats, "json: schemas/sweep.schema.json");
  sweep->add_flag("--by-zone", wp->by_zone, "md: add a per-zone breakdown");
  add_output_option(sweep, wp->output, "Write to FILE (atomically) instead of stdout");
  add_series_options(sweep, wp->series);
  sweep->callback([wp, &ctx] { run_sweep_command(*wp, ctx); });
}

}  // namespace carbonclock::cli

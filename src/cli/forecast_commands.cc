// forecast | backtest: carbonclock's own forecasts from the stored history, and back-tests that
// replay the planner with only what was known at each decision time (docs/forecasting.md).
#include <fmt/format.h>

#include <memory>

#include "app/backtest.h"
#include "app/forecast.h"
#include "app/shift.h"
#include "cli/commands.h"
#include "common/files.h"
#include "reports/backtest_render.h"
#include "reports/forecast_render.h"

namespace carbonclock::cli {
namespace {

constexpr Format kForecastFormats[] = {Format::kText, Format::kCsv, Format::kJson};

struct ForecastArgs {
  ZoneForecastRequest request;
  std::string signal, factor, format = "text", output;
};

void run_forecast(const ForecastArgs& a, CommandContext& ctx) {
  auto format = parse_format(a.format, kForecastFormats);
  if (!format) return ctx.fail(format.error());
  ZoneForecastRequest r = a.request;
  if (Status s = parse_signal_options(a.signal, a.factor, r.signal, r.factor); !s) {
    return ctx.fail(s.error());
  }
  AppContext app = ctx.app();
  auto result = forecast_zone(r, app);
  if (!result) return ctx.fail(result.error());
  ctx.emit(render_forecast(*result, *format), a.output);
}

constexpr Format kBacktestFormats[] = {Format::kCsv, Format::kMarkdown, Format::kJson};

struct BacktestArgs {
  BacktestRequest request;
  std::string signal, factor, slot = "5m", format = "csv", output;
};

void run_backtest_command(const BacktestArgs& a, CommandContext& ctx) {
  auto format = parse_format(a.format, kBacktestFormats);
  if (!format) return ctx.fail(format.error());
  auto choice = parse_series_choice(a.signal, a.factor, a.slot);
  if (!choice) return ctx.fail(choice.error());
  BacktestRequest r = a.request;
  r.grid.signal = choice->signal;
  r.grid.factor = choice->factor;
  r.grid.slot = choice->slot;
  // CSV rows go out zone by zone as they are produced: to stdout, or to a temporary file
  // renamed at the end.
  auto out = StreamedOutput::open(a.output, ctx.env.console);
  if (!out) return ctx.fail(out.error());
  const bool csv = *format == Format::kCsv;
  if (csv) {
    if (Status s = out->write(backtest_csv_header()); !s) return ctx.fail(s.error());
  }
  AppContext app = ctx.app();
  std::string buffer;
  auto result = run_backtest_request(
      r, app, [&](const BacktestRun& run, std::vector<BacktestRow>&& rows) -> Status {
        if (!csv) return {};
        buffer.clear();
        append_backtest_csv(run, rows, buffer);
        return out->write(buffer);
      });
  if (!result) return ctx.fail(result.error());
  for (size_t z = 0; z < result->history_series.size(); ++z) {
    ctx.observer.note(fmt::format("backtest: {} forecasts from {}", result->labels.zones[z],
                                  result->history_series[z]));
    if (!result->zone_stats[z].first_unplanned_reason.empty()) {
      ctx.observer.warning(fmt::format(
          "backtest: {}: {} (start, job, window) combinations without a forecast (no row), "
          "first: {}",
          result->labels.zones[z], result->zone_stats[z].starts_unplanned,
          result->zone_stats[z].first_unplanned_reason));
    }
  }
  if (!csv) {
    std::string text =
        *format == Format::kJson ? backtest_json(*result) : backtest_markdown(*result);
    if (Status s = out->write(text); !s) return ctx.fail(s.error());
  }
  if (Status s = out->commit(); !s) return ctx.fail(s.error());
}

}  // namespace

void register_forecast_commands(CLI::App& app, CommandContext& ctx) {
  auto fa = std::make_shared<ForecastArgs>();
  ZoneForecastRequest& r = fa->request;
  auto* forecast = app.add_subcommand(
      "forecast",
      "Forecast a zone's intensity from the history carbonclock stores, with prediction "
      "intervals and the model's back-tested skill (docs/forecasting.md)");
  forecast->add_option("--zone", r.zone, "Grid zone (DE, US-CAL-CISO, an imported zone)");
  forecast->add_option("--region", r.region, "Cloud region (instead of --zone)");
  add_signal_options(forecast, fa->signal, fa->factor, "default average");
  forecast->add_option("--horizon", r.horizon,
                       "How far ahead, up to 31 days (default 48h; models forecast 48h on their "
                       "own, the weekly profile beyond)");
  forecast->add_option("--model", r.model,
                       "auto (default: the model with the lowest recent back-tested error), "
                       "profile, persistence, smoothing or regression");
  forecast->add_option("--as-of", r.as_of,
                       "Forecast as of this UTC time, from the history stored up to it (default "
                       "now); later actuals, when stored, are shown beside the forecast");
  forecast->add_flag("--store", r.store,
                     "Store the point forecast as a forecast series (issued_at = --as-of, source "
                     "carbonclock-forecast-MODEL), as provider forecasts are");
  add_format_option(forecast, fa->format, kForecastFormats,
                    "text: a table per slot; csv: one row per slot; json: "
                    "schemas/forecast.schema.json");
  add_output_option(forecast, fa->output, "Write to FILE (atomically) instead of stdout");
  add_db_option(forecast, r.db);
  forecast->callback([fa, &ctx] { run_forecast(*fa, ctx); });

  auto ba = std::make_shared<BacktestArgs>();
  BacktestRequest& b = ba->request;
  auto* backtest = app.add_subcommand(
      "backtest",
      "Replay the planner `run` uses on the stored data with only what was known at each "
      "decision time, and price it on the actuals: the share of the oracle (`sweep`) saving "
      "captured, per zone, job, start and window (docs/forecasting.md)");
  backtest->add_option("--jobs", b.grid.jobs,
                       "paper (Table 2's eleven jobs) or a CSV name,duration_h,energy_kwh");
  backtest->add_option("--zones", b.grid.zones, "Zones, comma-separated, or all")->required();
  backtest->add_option("--windows", b.grid.windows,
                       "Windows, comma-separated (default 6h,12h,18h,24h,25%,50%,75%,100%)");
  backtest->add_option("--starts", b.grid.starts_file,
                       "File of requested starts, one UTC time a line");
  backtest->add_option("--starts-per-month", b.grid.starts_per_month,
                       "K starts a month: evenly spaced days, rotating clock times (default 5)");
  backtest->add_option("--every", b.grid.every, "A start every STEP, e.g. 1h");
  backtest->add_option("--from", b.grid.from, "First requested start (default: each zone's data)");
  backtest->add_option("--to", b.grid.to, "End of the data used (exclusive)");
  backtest->add_option("--forecast", b.forecast,
                       "What the planner is told: auto (default), profile, persistence, "
                       "smoothing, regression (fitted only on history before each decision), "
                       "oracle (the actuals: equals `sweep`), noise:P% (actuals + Gaussian "
                       "noise of P % of the zone's mean, seeded) or stored (the stored "
                       "forecasts, provider's or `forecast --store`'s: at each decision the "
                       "latest issued by then, carbonclock's own beyond its horizon)");
  backtest->add_option("--risk", b.risk,
                       "Plan on a quantile of the model's prediction interval: point (default), "
                       "p10, p50 or p90");
  backtest->add_option("--algorithms", b.algorithms,
                       "both (default), flexible-start or pause-resume");
  backtest->add_option("--seed", b.seed, "Seed of noise:P% (default 1)");
  backtest->add_flag("--replan-every-slot", b.replan_every_slot,
                     "Pause and Resume re-plans at every slot instead of at each forecast issue "
                     "time (the same schedules, slower; a check)");
  add_format_option(backtest, ba->format, kBacktestFormats,
                    "csv: one row per start, window and algorithm; md: the paper's tables with "
                    "realised and oracle reductions and the captured share; json: the means, "
                    "schemas/backtest.schema.json");
  add_output_option(backtest, ba->output, "Write to FILE (atomically) instead of stdout");
  add_signal_options(backtest, ba->signal, ba->factor, "default average");
  add_db_option(backtest, b.grid.db);
  backtest->add_option("--slot", ba->slot, "Slot length, UTC-aligned, at least 1s (default 5m)");
  backtest->callback([ba, &ctx] { run_backtest_command(*ba, ctx); });
}

}  // namespace carbonclock::cli

// carbonclock history: the runs recorded in the store, with totals per month and tag.
#include <memory>

#include "app/history.h"
#include "cli/commands.h"
#include "reports/history_render.h"

namespace carbonclock::cli {
namespace {
constexpr Format kFormats[] = {Format::kText, Format::kCsv, Format::kJson};
}  // namespace

void register_history_command(CLI::App& app, CommandContext& ctx) {
  struct Options {
    HistoryRequest request;
    std::string format = "text";
    std::string output;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "history",
      "List recorded runs with energy, emissions and exit code, and totals per month and tag "
      "(kept apart per signal)");
  cmd->add_option("--since", o->request.since, "Only runs started at or after this time (UTC)");
  cmd->add_option("--until", o->request.until, "Only runs started before this time (UTC)");
  cmd->add_option("--tag", o->request.tag, "Only runs tagged so at run time (`run --tag`)");
  add_db_option(cmd, o->request.db);
  add_format_option(cmd, o->format, kFormats, "json: schemas/history.schema.json");
  add_output_option(cmd, o->output, "Write to FILE (atomically) instead of stdout");
  cmd->callback([o, &ctx] {
    auto format = parse_format(o->format, kFormats);
    if (!format) return ctx.fail(format.error());
    AppContext use_case = ctx.app();
    auto history = list_history(o->request, use_case);
    if (!history) return ctx.fail(history.error());
    ctx.emit(render_history(*history, *format), o->output);
  });
}

}  // namespace carbonclock::cli

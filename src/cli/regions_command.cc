// regions: the cloud-region catalogue and the grid zones behind it.
#include <memory>

#include "cli/commands.h"
#include "reports/regions_render.h"

namespace carbonclock::cli {
namespace {
constexpr Format kFormats[] = {Format::kText, Format::kCsv, Format::kJson};
}  // namespace

void register_regions_command(CLI::App& app, CommandContext& ctx) {
  struct Options {
    std::string provider;
    std::string format = "text";
    std::string output;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "regions", "List cloud regions (AWS, Azure, GCP) and the grid zones that feed them");
  cmd->add_option("--provider", o->provider, "Only this provider: aws, azure or gcp");
  add_format_option(cmd, o->format, kFormats, "json: schemas/regions.schema.json");
  add_output_option(cmd, o->output, "Write to FILE (atomically) instead of stdout");
  cmd->callback([o, &ctx] {
    auto format = parse_format(o->format, kFormats);
    if (!format) return ctx.fail(format.error());
    std::vector<CloudRegion> selected;
    std::optional<CloudProvider> provider;
    if (!o->provider.empty()) {
      auto p = parse_cloud_provider(o->provider);
      if (!p) return ctx.fail(p.error());
      provider = *p;
    }
    for (const auto& r : cloud_regions()) {
      if (!provider || r.provider == *provider) selected.push_back(r);
    }
    ctx.emit(render_regions(selected, *format), o->output);
  });
}

}  // namespace carbonclock::cli

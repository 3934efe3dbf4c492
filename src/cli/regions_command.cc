// regions: the cloud-region catalogue and the grid zones behind it.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "regions/catalogue.h"
#include "regions/region_listing.h"

namespace carbonclock::cli {

void register_regions_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string provider;
    std::string format = "text";
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "regions", "List cloud regions (AWS, Azure, GCP) and the grid zones that feed them");
  cmd->add_option("--provider", options->provider, "Only this provider: aws, azure or gcp");
  cmd->add_option("--format", options->format, "Output format: text, csv or json")
      ->capture_default_str();
  cmd->callback([options, &exit_code] {
    auto format = parse_listing_format(options->format);
    if (!format.ok()) {
      print_error(format.error().message());
      exit_code = 2;
      return;
    }
    std::vector<CloudRegion> selected;
    if (options->provider.empty()) {
      auto all = cloud_regions();
      selected.assign(all.begin(), all.end());
    } else {
      auto provider = parse_cloud_provider(options->provider);
      if (!provider.ok()) {
        print_error(provider.error().message());
        exit_code = 2;
        return;
      }
      for (const auto& r : cloud_regions()) {
        if (r.provider == *provider) selected.push_back(r);
      }
    }
    fmt::print("{}", render_regions(selected, *format));
  });
}

}  // namespace carbonclock::cli

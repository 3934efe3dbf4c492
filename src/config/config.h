// carbonclock's settings from the environment and the config file, in one place: provider
// credentials and base URLs, and the default grid zone or cloud region. Every front end (CLI,
// Python, exporter) reads them through here.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace carbonclock {

/// Where the providers are and how to sign in, and the default zone. The three credential
/// fields are secrets.
struct LiveSettings {
  std::string watttime_username;        ///< WATTTIME_USERNAME / watttime_username
  std::string watttime_password;        ///< WATTTIME_PASSWORD / watttime_password
  std::string electricitymaps_api_key;  ///< ELECTRICITYMAPS_API_KEY / electricitymaps_api_key
  std::string watttime_base_url = "https://api.watttime.org";
  std::string electricitymaps_base_url = "https://api.electricitymap.org";
  std::string ukci_base_url = "https://api.carbonintensity.org.uk";
  /// The default grid zone / cloud region of commands that take --zone/--region (`zone`,
  /// `region` keys); not secrets. Empty when unset.
  std::string default_zone;
  std::string default_region;
  /// Where the settings were read from, for messages ("environment", a config path).
  std::string config_origin;

  /// The non-empty secrets, for redaction.
  std::vector<std::string> secrets() const;
};

/// Reads an environment variable; nullopt when unset. Tests pass a map instead of getenv.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
/// The process environment.
std::optional<std::string> process_env(const char* name);

/// The config file used when none is given: $CARBONCLOCK_CONFIG, else
/// $XDG_CONFIG_HOME/carbonclock/config, else $HOME/.config/carbonclock/config; nullopt when
/// none of the variables is set.
std::optional<std::filesystem::path> default_config_path(const EnvLookup& env);

/// Settings from the config file (if it exists), then environment variables on top:
/// WATTTIME_USERNAME, WATTTIME_PASSWORD, ELECTRICITYMAPS_API_KEY, CARBONCLOCK_WATTTIME_URL,
/// CARBONCLOCK_ELECTRICITYMAPS_URL, CARBONCLOCK_UKCI_URL. The file holds `key = value` lines
/// (keys as in the struct's comments plus watttime_base_url, electricitymaps_base_url,
/// ukci_base_url; '#' starts a comment). A file holding a credential must not be readable or
/// writable by group or others: then any of the mode bits 077 is refused with an Error telling
/// to chmod 600 (a file with only zone, region and URLs may be shared). A missing file is not an
/// error. Unknown keys are an Error naming the line (never a value).
Result<LiveSettings> load_live_settings(const EnvLookup& env,
                                        const std::optional<std::filesystem::path>& config_path);

/// The default zone or region a command falls back on, and where it came from.
struct ZoneDefaults {
  std::optional<std::string> env_zone;       ///< $CARBONCLOCK_ZONE
  std::optional<std::string> env_region;     ///< $CARBONCLOCK_REGION
  std::optional<std::string> config_zone;    ///< the config file's `zone`
  std::optional<std::string> config_region;  ///< the config file's `region`
  std::string config_origin;                 ///< the config file's path, for messages
};

/// $CARBONCLOCK_ZONE / $CARBONCLOCK_REGION and the config file's `zone` / `region` keys. Error
/// for a config file that cannot be used (callers warn and go on with the environment's).
Result<ZoneDefaults> load_zone_defaults(const EnvLookup& env);

}  // namespace carbonclock

#include "config/config.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include "common/files.h"
#include "common/strings.h"

namespace carbonclock {

namespace fs = std::filesystem;

std::vector<std::string> LiveSettings::secrets() const {
  std::vector<std::string> out;
  for (const auto* s : {&watttime_username, &watttime_password, &electricitymaps_api_key}) {
    if (!s->empty()) out.push_back(*s);
  }
  return out;
}

std::optional<std::string> process_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::optional<fs::path> default_config_path(const EnvLookup& env) {
  if (auto p = env("CARBONCLOCK_CONFIG"); p && !p->empty()) return fs::path(*p);
  if (auto x = env("XDG_CONFIG_HOME"); x && !x->empty()) {
    return fs::path(*x) / "carbonclock" / "config";
  }
  if (auto h = env("HOME"); h && !h->empty()) {
    return fs::path(*h) / ".config" / "carbonclock" / "config";
  }
  return std::nullopt;
}

namespace {

bool is_credential_key(std::string_view key) {
  return key == "watttime_username" || key == "watttime_password" ||
         key == "electricitymaps_api_key";
}

Status read_config_file(const fs::path& path, LiveSettings& s) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return make_error(ErrorCode::kIo, "config file {}: {}", path.string(), errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error("config file {} is not a regular file", path.string());
  }
  auto text = read_file(path);
  if (!text.ok()) return text.error();
  s.config_origin = path.string();
  std::string_view rest = *text;
  int line_no = 0;
  bool holds_credentials = false;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = trim(rest.substr(0, eol));
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return make_error("{}:{}: expected `key = value`", path.string(), line_no);
    }
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    std::string* field = key == "watttime_username"          ? &s.watttime_username
                         : key == "watttime_password"        ? &s.watttime_password
                         : key == "electricitymaps_api_key"  ? &s.electricitymaps_api_key
                         : key == "watttime_base_url"        ? &s.watttime_base_url
                         : key == "electricitymaps_base_url" ? &s.electricitymaps_base_url
                         : key == "ukci_base_url"            ? &s.ukci_base_url
                         : key == "zone"                     ? &s.default_zone
                         : key == "region"                   ? &s.default_region
                                                             : nullptr;
    if (field == nullptr) {
      return make_error(
          "{}:{}: unknown key '{}' (watttime_username, watttime_password, "
          "electricitymaps_api_key, watttime_base_url, electricitymaps_base_url, "
          "ukci_base_url, zone, region)",
          path.string(), line_no, key);
    }
    holds_credentials = holds_credentials || (is_credential_key(key) && !value.empty());
    *field = value;
  }
  // Only a file with secrets must be private: a shared `region = ...` file is fine.
  if (holds_credentials && (st.st_mode & 077) != 0) {
    s = LiveSettings{};
    return make_error(
        "config file {} has mode {:04o} but holds API credentials, so only its owner may "
        "read it: run `chmod 600 {}`",
        path.string(), st.st_mode & 07777, path.string());
  }
  return {};
}

}  // namespace

Result<LiveSettings> load_live_settings(const EnvLookup& env,
                                        const std::optional<fs::path>& config_path) {
  LiveSettings s;
  s.config_origin = "environment";
  if (config_path) {
    if (Status st = read_config_file(*config_path, s); !st) return st.error();
  }
  auto take = [&](const char* name, std::string& field) {
    if (auto v = env(name); v && !v->empty()) field = *v;
  };
  take("WATTTIME_USERNAME", s.watttime_username);
  take("WATTTIME_PASSWORD", s.watttime_password);
  take("ELECTRICITYMAPS_API_KEY", s.electricitymaps_api_key);
  take("CARBONCLOCK_WATTTIME_URL", s.watttime_base_url);
  take("CARBONCLOCK_ELECTRICITYMAPS_URL", s.electricitymaps_base_url);
  take("CARBONCLOCK_UKCI_URL", s.ukci_base_url);
  return s;
}

Result<ZoneDefaults> load_zone_defaults(const EnvLookup& env) {
  ZoneDefaults d;
  auto non_empty = [&](const char* name) -> std::optional<std::string> {
    auto v = env(name);
    return v && !v->empty() ? v : std::nullopt;
  };
  d.env_zone = non_empty("CARBONCLOCK_ZONE");
  d.env_region = non_empty("CARBONCLOCK_REGION");
  auto settings = load_live_settings(env, default_config_path(env));
  if (!settings) return settings.error();
  if (!settings->default_zone.empty()) d.config_zone = settings->default_zone;
  if (!settings->default_region.empty()) d.config_region = settings->default_region;
  d.config_origin = settings->config_origin;
  return d;
}

}  // namespace carbonclock

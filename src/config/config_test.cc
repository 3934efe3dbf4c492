#include "config/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "common/files.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class LiveSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(CARBONCLOCK_BINARY_DIR) / "config_test" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  fs::path write_config(const std::string& text, mode_t mode) {
    fs::path p = dir_ / "config";
    EXPECT_TRUE(write_file_atomic(p, text).ok());
    EXPECT_EQ(::chmod(p.c_str(), mode), 0);
    return p;
  }
  fs::path dir_;
};

TEST_F(LiveSettingsTest, ReadsAPrivateConfigFileAndEnvironmentWins) {
  auto p = write_config(
      "# carbonclock credentials\n"
      "watttime_username = alice\n"
      "watttime_password = \"file-pass\"\n"
      "electricitymaps_api_key=file-key\n"
      "ukci_base_url = http://127.0.0.1:9\n"
      "region = eu-west-1\n",
      0600);
  auto s = load_live_settings(env_of({{"ELECTRICITYMAPS_API_KEY", "env-key"}}), p);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->watttime_username, "alice");
  EXPECT_EQ(s->watttime_password, "file-pass");
  EXPECT_EQ(s->electricitymaps_api_key, "env-key");
  EXPECT_EQ(s->ukci_base_url, "http://127.0.0.1:9");
  EXPECT_EQ(s->watttime_base_url, "https://api.watttime.org");
  EXPECT_EQ(s->secrets().size(), 3u);
  EXPECT_EQ(s->default_region, "eu-west-1");  // a default for --region, not a secret
  EXPECT_TRUE(s->default_zone.empty());
}

TEST_F(LiveSettingsTest, RefusesAConfigFileOthersCanRead) {
  auto p = write_config("electricitymaps_api_key = file-key-SECRET\n", 0644);
  auto s = load_live_settings(env_of({}), p);
  ASSERT_FALSE(s.ok());
  const std::string& m = s.error().message();
  EXPECT_NE(m.find("chmod 600"), std::string::npos) << m;
  EXPECT_NE(m.find("0644"), std::string::npos) << m;
  EXPECT_EQ(m.find("file-key-SECRET"), std::string::npos) << m;
  ASSERT_EQ(::chmod(p.c_str(), 0640), 0);
  EXPECT_FALSE(load_live_settings(env_of({}), p).ok());
}

TEST_F(LiveSettingsTest, BadLinesNameTheLineNotTheValue) {
  auto p = write_config("watttime_username = bob\nwatttime_pasword = typo-SECRET\n", 0600);
  auto s = load_live_settings(env_of({}), p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find(":2: unknown key 'watttime_pasword'"), std::string::npos)
      << s.error().message();
  EXPECT_EQ(s.error().message().find("typo-SECRET"), std::string::npos);
  auto q = write_config("just-a-secret-SECRET\n", 0600);
  auto t = load_live_settings(env_of({}), q);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message().find("just-a-secret-SECRET"), std::string::npos);
}

TEST_F(LiveSettingsTest, MissingFileAndDefaultPath) {
  auto s = load_live_settings(env_of({{"WATTTIME_USERNAME", "u"}}), dir_ / "absent");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->watttime_username, "u");
  EXPECT_EQ(default_config_path(env_of({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}})),
            fs::path("/x/carbonclock/config"));
  EXPECT_EQ(default_config_path(env_of({{"HOME", "/h"}})),
            fs::path("/h/.config/carbonclock/config"));
  EXPECT_EQ(default_config_path(env_of({{"CARBONCLOCK_CONFIG", "/c"}, {"HOME", "/h"}})),
            fs::path("/c"));
  EXPECT_EQ(default_config_path(env_of({})), std::nullopt);
}

TEST_F(LiveSettingsTest, AConfigWithoutCredentialsMayBeShared) {
  // Regression: a mode-644 file holding only `region =` was refused as "holds API credentials".
  auto p = write_config("region = eu-west-1\nzone = DE\n", 0644);
  auto s = load_live_settings(env_of({}), p);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->default_region, "eu-west-1");
  EXPECT_EQ(s->default_zone, "DE");
}

TEST_F(LiveSettingsTest, ZoneDefaultsComeFromEnvironmentAndConfig) {
  auto p = write_config("zone = FR\n", 0644);
  auto d = load_zone_defaults(env_of({{"CARBONCLOCK_CONFIG", p.string()},
                                      {"CARBONCLOCK_REGION", "us-west-2"},
                                      {"CARBONCLOCK_ZONE", ""}}));
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(d->env_region, "us-west-2");
  EXPECT_FALSE(d->env_zone.has_value());
  EXPECT_EQ(d->config_zone, "FR");
  EXPECT_EQ(d->config_origin, p.string());
}

}  // namespace
}  // namespace carbonclock

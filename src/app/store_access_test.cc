#include "app/store_access.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

namespace carbonclock {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(StoreAccess, DefaultPathFollowsEnvironment) {
  EXPECT_EQ(
      default_store_path(env_of({{"CARBONCLOCK_DB", "/tmp/x/my.db"}, {"HOME", "/h"}}))->string(),
      "/tmp/x/my.db");
  EXPECT_EQ(default_store_path(env_of({{"XDG_DATA_HOME", "/data"}, {"HOME", "/h"}}))->string(),
            "/data/carbonclock/carbonclock.db");
  EXPECT_EQ(default_store_path(env_of({{"HOME", "/h"}}))->string(),
            "/h/.local/share/carbonclock/carbonclock.db");
  EXPECT_FALSE(default_store_path(env_of({})).ok());
}

TEST(StoreAccess, IfExistsOpensNothingWhereNoDatabaseIsAndCreateMakesOne) {
  auto dir =
      std::filesystem::temp_directory_path() / ("cc_store_access_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto env = env_of({{"CARBONCLOCK_DB", (dir / "db.sqlite").string()}});
  auto none = open_store("", StoreMode::kIfExists, env);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->get(), nullptr);
  EXPECT_NE(none->note.find("no grid store at"), std::string::npos);
  auto made = open_store("", StoreMode::kCreate, env);
  ASSERT_TRUE(made.ok()) << made.error().message();
  EXPECT_NE(made->get(), nullptr);
  auto again = open_store("", StoreMode::kIfExists, env);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->get(), nullptr);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carbonclock

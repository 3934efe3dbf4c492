#include "app/store_access.h"

namespace carbonclock {

Result<std::filesystem::path> default_store_path(const EnvLookup& env) {
  if (auto db = env("CARBONCLOCK_DB"); db && !db->empty()) return std::filesystem::path(*db);
  if (auto xdg = env("XDG_DATA_HOME"); xdg && !xdg->empty()) {
    return std::filesystem::path(*xdg) / "carbonclock" / "carbonclock.db";
  }
  if (auto home = env("HOME"); home && !home->empty()) {
    return std::filesystem::path(*home) / ".local" / "share" / "carbonclock" / "carbonclock.db";
  }
  return make_error("no database path: set --db, CARBONCLOCK_DB, XDG_DATA_HOME or HOME");
}

Result<OpenedStore> open_store(const std::string& db_option, StoreMode mode, const EnvLookup& env) {
  OpenedStore out;
  bool create = mode == StoreMode::kCreate || !db_option.empty();
  if (!db_option.empty()) {
    out.path = db_option;
  } else {
    auto p = default_store_path(env);
    if (!p) {
      if (create) return p.error();
      out.note = "no grid store (" + p.error().message() + ")";
      return out;
    }
    out.path = *p;
  }
  std::error_code ec;
  if (!create && !std::filesystem::exists(out.path, ec)) {
    out.note = "no grid store at " + out.path.string();
    return out;
  }
  auto store = GridStore::open(out.path);
  if (!store) return store.error();
  out.store.emplace(std::move(*store));
  return out;
}

}  // namespace carbonclock

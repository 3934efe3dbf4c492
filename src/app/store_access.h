// The one way every use case opens the store (grid series and run history): the --db option,
// else $CARBONCLOCK_DB, else the XDG data directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/error.h"
#include "config/config.h"
#include "grid/store.h"

namespace carbonclock {

enum class StoreMode {
  kCreate,    ///< open, creating the file when new (import, fetch, recording a run)
  kIfExists,  ///< open when the file exists; otherwise no store (reports, planning, listing)
};

/// A store opened for a use case, or the reason there is none.
struct OpenedStore {
  std::optional<GridStore> store;
  std::filesystem::path path;
  std::string note;  ///< why there is no store ("no grid store at ...")
  GridStore* get() { return store ? &*store : nullptr; }
};

/// The default database path: $CARBONCLOCK_DB, else $XDG_DATA_HOME/carbonclock/carbonclock.db,
/// else $HOME/.local/share/carbonclock/carbonclock.db. Error when none of them is set.
Result<std::filesystem::path> default_store_path(const EnvLookup& env);

/// Opens the store at `db_option` (when given) or the default path. A --db given is always
/// opened (and created). Errors: the database exists but cannot be opened, is newer than this
/// build, or (kCreate) no path can be formed.
Result<OpenedStore> open_store(const std::string& db_option, StoreMode mode, const EnvLookup& env);

}  // namespace carbonclock

// Checked reading of fields from a parsed JSON document (run.json, the journal, ...): every
// number is finite and in its range, every type is the expected one, and the first problem
// becomes an Error "ORIGIN: PATH: CAUSE" ("run/run.json: timeline[3].bucket_s: 0 is out of
// range (must be from 1 to 86400)"). Nothing here throws.
//
// The reader keeps the first error and returns harmless defaults (0, "", empty) after it, so a
// parser reads a group of fields and checks ok() once, before it computes with them.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"

namespace carbonclock {

class JsonFieldReader {
 public:
  using json = nlohmann::json;

  /// `origin` names the document in messages (a path, or "path:LINE" for a journal line).
  explicit JsonFieldReader(std::string origin) : origin_(std::move(origin)) {}

  /// Records an error for the field at `path` (kept only when it is the first).
  void fail(std::string_view path, std::string_view cause);
  bool ok() const { return !error_.has_value(); }
  /// The first error; only when !ok().
  const Error& error() const { return *error_; }

  // Each accessor reads member `key` of `obj`, which is named `path` in messages ("" for the
  // document's root, "timeline[3]"). Absent and null count as missing. Required accessors
  // record an error when the member is missing; optional ones return nullopt/the fallback.

  /// A member that must be an object (an error and an empty object otherwise).
  const json& object(const json& obj, std::string_view path, std::string_view key);
  /// A member that must be an array (an error and an empty array otherwise).
  const json& array(const json& obj, std::string_view path, std::string_view key);
  std::string string(const json& obj, std::string_view path, std::string_view key);
  std::optional<std::string> optional_string(const json& obj, std::string_view path,
                                             std::string_view key);
  /// A finite number with min <= value <= max.
  double number(const json& obj, std::string_view path, std::string_view key, double min,
                double max);
  std::optional<double> optional_number(const json& obj, std::string_view path,
                                        std::string_view key, double min, double max);
  /// An integer (not a fraction) with min <= value <= max.
  int64_t integer(const json& obj, std::string_view path, std::string_view key, int64_t min,
                  int64_t max);
  std::optional<int64_t> optional_integer(const json& obj, std::string_view path,
                                          std::string_view key, int64_t min, int64_t max);
  bool boolean(const json& obj, std::string_view path, std::string_view key, bool fallback);
  /// An optional array of strings (empty when missing).
  std::vector<std::string> strings(const json& obj, std::string_view path, std::string_view key);
  /// An optional object whose values are strings (empty when missing).
  std::map<std::string, std::string> string_map(const json& obj, std::string_view path,
                                                std::string_view key);
  /// A string holding a UTC time (parse_utc: within kMinTime .. kMaxTime).
  SysTime time(const json& obj, std::string_view path, std::string_view key);

  /// `value` itself (an array element) as a finite number in [min, max]; `path` names it.
  double number_value(const json& value, std::string_view path, double min, double max);

 private:
  const json* find(const json& obj, std::string_view path, std::string_view key, bool required);
  static std::string join(std::string_view path, std::string_view key);

  std::string origin_;
  std::optional<Error> error_;
};

}  // namespace carbonclock

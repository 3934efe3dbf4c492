#include "common/json_fields.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace carbonclock {
namespace {

using json = nlohmann::json;

const json& empty_object() {
  static const json kEmpty = json::object();
  return kEmpty;
}

const json& empty_array() {
  static const json kEmpty = json::array();
  return kEmpty;
}

// {:g} keeps huge and tiny bounds short ("1e+300") and integers plain ("86400").
std::string show(double v) { return fmt::format("{:g}", v); }

}  // namespace

std::string JsonFieldReader::join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  if (key.empty()) return std::string(path);
  return fmt::format("{}.{}", path, key);
}

void JsonFieldReader::fail(std::string_view path, std::string_view cause) {
  if (error_) return;
  error_ = path.empty() ? make_error("{}: {}", origin_, cause)
                        : make_error("{}: {}: {}", origin_, path, cause);
}

const json* JsonFieldReader::find(const json& obj, std::string_view path, std::string_view key,
                                  bool required) {
  const json* found = nullptr;
  if (obj.is_object()) {
    auto it = obj.find(key);
    if (it != obj.end() && !it->is_null()) found = &*it;
  }
  if (found == nullptr && required) fail(join(path, key), "missing");
  return found;
}

const json& JsonFieldReader::object(const json& obj, std::string_view path, std::string_view key) {
  const json* v = find(obj, path, key, true);
  if (v == nullptr) return empty_object();
  if (!v->is_object()) {
    fail(join(path, key), fmt::format("not an object ({})", v->type_name()));
    return empty_object();
  }
  return *v;
}

const json& JsonFieldReader::array(const json& obj, std::string_view path, std::string_view key) {
  const json* v = find(obj, path, key, true);
  if (v == nullptr) return empty_array();
  if (!v->is_array()) {
    fail(join(path, key), fmt::format("not an array ({})", v->type_name()));
    return empty_array();
  }
  return *v;
}

std::string JsonFieldReader::string(const json& obj, std::string_view path, std::string_view key) {
  if (!find(obj, path, key, true)) return {};
  return optional_string(obj, path, key).value_or("");
}

std::optional<std::string> JsonFieldReader::optional_string(const json& obj, std::string_view path,
                                                            std::string_view key) {
  const json* v = find(obj, path, key, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    fail(join(path, key), fmt::format("not a string ({})", v->type_name()));
    return std::nullopt;
  }
  return v->get<std::string>();
}

double JsonFieldReader::number_value(const json& value, std::string_view path, double min,
                                     double max) {
  if (!value.is_number()) {
    fail(path, fmt::format("not a number ({})", value.type_name()));
    return 0;
  }
  double v = value.get<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    fail(path,
         fmt::format("{} is out of range (must be from {} to {})", show(v), show(min), show(max)));
    return 0;
  }
  return v;
}

double JsonFieldReader::number(const json& obj, std::string_view path, std::string_view key,
                               double min, double max) {
  if (!find(obj, path, key, true)) return 0;
  return optional_number(obj, path, key, min, max).value_or(0);
}

std::optional<double> JsonFieldReader::optional_number(const json& obj, std::string_view path,
                                                       std::string_view key, double min,
                                                       double max) {
  const json* v = find(obj, path, key, false);
  if (v == nullptr) return std::nullopt;
  bool was_ok = ok();
  double d = number_value(*v, join(path, key), min, max);
  if (was_ok && !ok()) return std::nullopt;
  return d;
}

int64_t JsonFieldReader::integer(const json& obj, std::string_view path, std::string_view key,
                                 int64_t min, int64_t max) {
  if (!find(obj, path, key, true)) return 0;
  return optional_integer(obj, path, key, min, max).value_or(0);
}

std::optional<int64_t> JsonFieldReader::optional_integer(const json& obj, std::string_view path,
                                                         std::string_view key, int64_t min,
                                                         int64_t max) {
  const json* v = find(obj, path, key, false);
  if (v == nullptr) return std::nullopt;
  std::string where = join(path, key);
  if (!v->is_number_integer()) {
    // A fraction or 1e300 would need a conversion that is undefined out of range.
    fail(where, fmt::format("not an integer ({})", v->is_number() ? v->dump() : v->type_name()));
    return std::nullopt;
  }
  const bool too_big =
      v->is_number_unsigned() &&
      v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const int64_t n = too_big ? 0 : v->get<int64_t>();
  if (too_big || n < min || n > max) {
    fail(where, fmt::format("{} is out of range (must be from {} to {})", v->dump(), min, max));
    return std::nullopt;
  }
  return n;
}

bool JsonFieldReader::boolean(const json& obj, std::string_view path, std::string_view key,
                              bool fallback) {
  const json* v = find(obj, path, key, false);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) {
    fail(join(path, key), fmt::format("not true or false ({})", v->type_name()));
    return fallback;
  }
  return v->get<bool>();
}

std::vector<std::string> JsonFieldReader::strings(const json& obj, std::string_view path,
                                                  std::string_view key) {
  std::vector<std::string> out;
  const json* v = find(obj, path, key, false);
  if (v == nullptr) return out;
  std::string where = join(path, key);
  if (!v->is_array()) {
    fail(where, fmt::format("not an array ({})", v->type_name()));
    return out;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      fail(fmt::format("{}[{}]", where, i), fmt::format("not a string ({})", (*v)[i].type_name()));
      return {};
    }
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> JsonFieldReader::string_map(const json& obj,
                                                               std::string_view path,
                                                               std::string_view key) {
  std::map<std::string, std::string> out;
  const json* v = find(obj, path, key, false);
  if (v == nullptr) return out;
  std::string where = join(path, key);
  if (!v->is_object()) {
    fail(where, fmt::format("not an object ({})", v->type_name()));
    return out;
  }
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_string()) {
      fail(join(where, it.key()), fmt::format("not a string ({})", it.value().type_name()));
      return {};
    }
    out.emplace(it.key(), it.value().get<std::string>());
  }
  return out;
}

SysTime JsonFieldReader::time(const json& obj, std::string_view path, std::string_view key) {
  std::string text = string(obj, path, key);
  if (!ok()) return SysTime{};
  auto t = parse_utc(text);
  if (!t) {
    fail(join(path, key), t.error().message());
    return SysTime{};
  }
  return *t;
}

}  // namespace carbonclock

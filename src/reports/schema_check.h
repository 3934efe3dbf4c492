// Test helper: checks a JSON document against the parts of JSON Schema carbonclock's committed
// schemas use (type, required, properties, additionalProperties: false, items), with gtest
// expectations naming the path of each mismatch. Hand-written: Debian has no C++ JSON Schema
// validator packaged.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace carbonclock {

inline void check_schema(const nlohmann::json& schema, const nlohmann::json& doc,
                         const std::string& at) {
  if (schema.contains("type")) {
    std::vector<std::string> types;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) types.push_back(t);
    } else {
      types.push_back(schema["type"]);
    }
    bool ok = false;
    for (const auto& t : types) {
      ok |= (t == "object" && doc.is_object()) || (t == "array" && doc.is_array()) ||
            (t == "string" && doc.is_string()) || (t == "number" && doc.is_number()) ||
            (t == "integer" && doc.is_number_integer()) || (t == "boolean" && doc.is_boolean()) ||
            (t == "null" && doc.is_null());
    }
    EXPECT_TRUE(ok) << at << " is " << doc.type_name();
  }
  if (doc.is_object()) {
    const nlohmann::json none = nlohmann::json::object();
    const auto& required = schema.contains("required") ? schema["required"] : none;
    for (const auto& r : required) {
      EXPECT_TRUE(doc.contains(r.get<std::string>())) << at << " lacks " << r;
    }
    const auto& properties = schema.contains("properties") ? schema["properties"] : none;
    for (const auto& [k, sub] : properties.items()) {
      if (doc.contains(k)) check_schema(sub, doc[k], at + "." + k);
    }
    if (schema.value("additionalProperties", true) == false) {
      for (const auto& [k, v] : doc.items()) {
        EXPECT_TRUE(schema["properties"].contains(k)) << at << "." << k << " not in the schema";
      }
    }
  }
  if (doc.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < doc.size(); ++i) {
      check_schema(schema["items"], doc[i], at + "[" + std::to_string(i) + "]");
    }
  }
}

}  // namespace carbonclock

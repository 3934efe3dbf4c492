// JSON text at carbonclock's edges, with two promises:
//
// 1. Reading never crashes. parse_json returns an Error, never throws, for malformed text,
//    numbers outside the range of a double ("1e999") and nesting deeper than kMaxJsonDepth
//    (a parsed tree is later copied and dumped recursively, so its depth is bounded before it
//    exists; 100,000 levels used to overflow the stack).
//
// 2. Byte strings from the operating system are carried losslessly. Command arguments,
//    environment values, tags and host names are bytes, not necessarily UTF-8, while JSON text
//    must be UTF-8 (nlohmann::json::dump throws on anything else, which aborted `run`).
//    dump_json escapes every string (keys too) with escape_bytes and never throws;
//    parse_carbonclock_json undoes it.
//
// The escaping scheme (documented in docs/architecture.md, "Bytes in JSON"): a byte that is not
// part of a well-formed UTF-8 sequence is written as the four characters \xHH (lower-case hex),
// and a backslash followed by 'x' is written as \x5c; everything else is copied. Text that is
// valid UTF-8 and has no "\x" in it is therefore unchanged, every JSON reader sees valid UTF-8,
// and people see the bad byte as \xe9 (in the JSON file itself the backslash is escaped once
// more: "r\\xe9sum\\xe9").
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"

namespace carbonclock {

/// Deepest nesting of arrays and objects parse_json accepts. carbonclock's own files nest 6
/// levels, provider responses fewer than 10.
inline constexpr int kMaxJsonDepth = 256;

/// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
/// U+10FFFF; the same rules as nlohmann::json).
bool is_valid_utf8(std::string_view text);

/// Escapes bytes as described above; the result is valid UTF-8.
std::string escape_bytes(std::string_view bytes);
/// Inverse of escape_bytes: every \xHH (two hex digits, either case) becomes the byte HH.
/// unescape_bytes(escape_bytes(b)) == b for every byte string b.
std::string unescape_bytes(std::string_view text);

/// Parses any JSON text (provider responses, files). Error "ORIGIN: invalid JSON: CAUSE" for
/// malformed text or out-of-range numbers, "ORIGIN: JSON nested deeper than 256 levels" for deep
/// nesting. Never throws. Strings are returned as written.
Result<nlohmann::json> parse_json(std::string_view text, std::string_view origin);

/// parse_json for text written by dump_json (run.json, the journal): strings and keys are
/// unescaped back to the original bytes.
Result<nlohmann::json> parse_carbonclock_json(std::string_view text, std::string_view origin);

namespace json_text_detail {

/// True when escape_bytes would change `text`.
bool needs_escape(std::string_view text);

template <typename Json>
void escape_strings(Json& j) {
  if (j.is_string()) {
    auto& s = j.template get_ref<typename Json::string_t&>();
    if (needs_escape(s)) s = escape_bytes(s);
  } else if (j.is_array()) {
    for (auto& e : j) escape_strings(e);
  } else if (j.is_object()) {
    bool rekey = false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      escape_strings(it.value());
      rekey = rekey || needs_escape(it.key());
    }
    if (rekey) {
      Json rebuilt = Json::object();
      for (auto it = j.begin(); it != j.end(); ++it) {
        rebuilt[escape_bytes(it.key())] = std::move(it.value());
      }
      j = std::move(rebuilt);
    }
  }
}

}  // namespace json_text_detail

/// JSON text of `doc` (nlohmann::json or nlohmann::ordered_json) with every string and key
/// escaped by escape_bytes; `indent` as in nlohmann::json::dump (-1: one line). Never throws.
/// Pass an rvalue to avoid copying a large document.
template <typename Json>
std::string dump_json(Json doc, int indent = -1) {
  json_text_detail::escape_strings(doc);
  // After escaping every string is valid UTF-8; `replace` only keeps a bug here from aborting.
  return doc.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace carbonclock

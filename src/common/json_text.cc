#include "common/json_text.h"

#include <fmt/format.h>

namespace carbonclock {
namespace {

using json = nlohmann::json;

// Length of the well-formed UTF-8 sequence starting at text[i] (Unicode Table 3-7), or 0 when
// the byte there does not start one.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) -> unsigned {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0x100;
  };
  const auto in = [](unsigned b, unsigned lo, unsigned hi) { return b >= lo && b <= hi; };
  unsigned b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (in(b0, 0xC2, 0xDF)) return in(byte(1), 0x80, 0xBF) ? 2 : 0;
  if (in(b0, 0xE0, 0xEF)) {
    unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(b0, 0xF0, 0xF4)) {
    unsigned lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Depth of the deepest array/object nesting, counting only brackets outside strings; stops
// counting once `limit` is exceeded. Malformed text is left to the parser to report.
bool deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the tag helps nobody.
std::string without_exception_tag(const char* what) {
  std::string_view m(what);
  if (m.starts_with("[json.exception.")) {
    size_t close = m.find("] ");
    if (close != std::string_view::npos) m.remove_prefix(close + 2);
  }
  return std::string(m);
}

void unescape_strings(json& j) {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    if (s.find("\\x") != std::string::npos) s = unescape_bytes(s);
  } else if (j.is_array()) {
    for (auto& e : j) unescape_strings(e);
  } else if (j.is_object()) {
    bool rekey = false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      unescape_strings(it.value());
      rekey = rekey || it.key().find("\\x") != std::string::npos;
    }
    if (rekey) {
      json rebuilt = json::object();
      for (auto it = j.begin(); it != j.end(); ++it) {
        rebuilt[unescape_bytes(it.key())] = std::move(it.value());
      }
      j = std::move(rebuilt);
    }
  }
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace json_text_detail {

bool needs_escape(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == 'x') return true;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = utf8_sequence_length(text, i);
    if (n == 0) return true;
    i += n;
  }
  return false;
}

}  // namespace json_text_detail

std::string escape_bytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    char c = bytes[i];
    if (c == '\\' && i + 1 < bytes.size() && bytes[i + 1] == 'x') {
      out += "\\x5c";
      ++i;
      continue;
    }
    size_t n = utf8_sequence_length(bytes, i);
    if (n == 0) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", static_cast<unsigned char>(c));
      ++i;
      continue;
    }
    out.append(bytes.substr(i, n));
    i += n;
  }
  return out;
}

std::string unescape_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
      int hi = hex_value(text[i + 2]), lo = hex_value(text[i + 3]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

Result<json> parse_json(std::string_view text, std::string_view origin) {
  if (deeper_than(text, kMaxJsonDepth)) {
    return make_error("{}: JSON nested deeper than {} levels", origin, kMaxJsonDepth);
  }
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // parse_error for malformed text, out_of_range for numbers beyond a double.
    return make_error("{}: invalid JSON: {}", origin, without_exception_tag(e.what()));
  }
}

Result<json> parse_carbonclock_json(std::string_view text, std::string_view origin) {
  auto doc = parse_json(text, origin);
  if (doc.ok()) unescape_strings(*doc);
  return doc;
}

}  // namespace carbonclock

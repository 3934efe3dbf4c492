#include "http/redaction.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/json_text.h"

namespace carbonclock {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// Percent-encoding of everything but RFC 3986 unreserved characters; `plus_for_space` gives
// the form encoding of query strings and HTML forms.
std::string percent_encode(std::string_view text, bool plus_for_space) {
  std::string out;
  for (unsigned char ch : text) {
    bool unreserved = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~';
    if (unreserved) {
      out += static_cast<char>(ch);
    } else if (ch == ' ' && plus_for_space) {
      out += '+';
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

// The secret as it appears inside a JSON string, with and without "/" escaped.
std::vector<std::string> json_escaped(std::string_view secret) {
  std::string dumped = nlohmann::json(std::string(secret))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string inner = dumped.substr(1, dumped.size() - 2);
  std::string slashes;
  for (char c : inner) slashes += c == '/' ? std::string("\\/") : std::string(1, c);
  return {inner, slashes};
}

}  // namespace

// Hand-written: libcurl is loaded at run time and offers no base64 API, and a crypto library
// for 20 lines of RFC 4648 would put a TLS stack back into every process (see
// http_transport.cc).
std::string base64_encode(std::string_view bytes, bool url_safe, bool padding) {
  const char* alphabet = url_safe
                             ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                 static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += alphabet[(v >> k) & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (padding) out.append(3 - rest, '=');
  }
  return out;
}

void Redactor::add_form(std::string form) {
  if (form.empty()) return;
  form = lower(form);
  if (std::find(forms_.begin(), forms_.end(), form) == forms_.end()) {
    forms_.push_back(std::move(form));
  }
}

void Redactor::add_secret(std::string_view secret) {
  if (secret.empty()) return;
  add_form(std::string(secret));
  add_form(percent_encode(secret, false));
  add_form(percent_encode(secret, true));
  for (auto& form : json_escaped(secret)) add_form(std::move(form));
}

void Redactor::add_basic_auth(std::string_view user, std::string_view password) {
  add_secret(user);
  add_secret(password);
  std::string pair = fmt::format("{}:{}", user, password);
  for (bool url_safe : {false, true}) {
    for (bool padding : {true, false}) add_form(base64_encode(pair, url_safe, padding));
  }
}

std::string Redactor::redact(std::string_view text) const {
  if (forms_.empty()) return std::string(text);
  const std::string folded = lower(text);
  // Every occurrence of every form, then the leftmost-longest ones that do not overlap.
  std::vector<std::pair<size_t, size_t>> hits;  // (position, length)
  for (const auto& form : forms_) {
    for (size_t pos = folded.find(form); pos != std::string::npos;
         pos = folded.find(form, pos + 1)) {
      hits.emplace_back(pos, form.size());
    }
  }
  if (hits.empty()) return std::string(text);
  std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  });
  std::string out;
  size_t at = 0;
  for (auto [pos, len] : hits) {
    if (pos < at) {
      // Overlaps a redacted span: extend it if this one reaches further.
      if (pos + len > at) at = pos + len;
      continue;
    }
    out.append(text.substr(at, pos - at));
    out += "***";
    at = pos + len;
  }
  out.append(text.substr(at));
  return out;
}

std::string strip_control_sequences(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    // C1 controls are U+0080..U+009F, encoded C2 80 .. C2 9F; CSI is U+009B, OSC U+009D.
    bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
              static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    unsigned char intro = 0;  // '[' for CSI, ']' for OSC
    size_t body = 0;
    if (c == 0x1B && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x20 &&
        static_cast<unsigned char>(text[i + 1]) < 0x7F) {
      // Only an ASCII byte can follow ESC in a sequence; anything else (a UTF-8 lead byte) is
      // kept, so that dropping it cannot leave its continuation bytes behind (found by fuzzing).
      intro = static_cast<unsigned char>(text[i + 1]);
      body = i + 2;
    } else if (c1) {
      unsigned char code = static_cast<unsigned char>(text[i + 1]);
      intro = code == 0x9B ? '[' : code == 0x9D ? ']' : 0;
      body = i + 2;
      if (intro == 0) {  // another C1 control
        out += ' ';
        ++i;
        continue;
      }
    }
    if (intro == '[') {
      // CSI: parameter and intermediate bytes 0x20..0x3F, then one final byte 0x40..0x7E.
      size_t k = body;
      while (k < text.size() && static_cast<unsigned char>(text[k]) >= 0x20 &&
             static_cast<unsigned char>(text[k]) <= 0x3F) {
        ++k;
      }
      if (k < text.size() && static_cast<unsigned char>(text[k]) >= 0x40 &&
          static_cast<unsigned char>(text[k]) <= 0x7E) {
        ++k;
      }
      i = k - 1;
      continue;
    }
    if (intro == ']') {
      // OSC: up to BEL or ST (ESC \).
      size_t k = body;
      while (k < text.size() && text[k] != '\x07' &&
             !(text[k] == '\x1b' && k + 1 < text.size() && text[k + 1] == '\\')) {
        ++k;
      }
      if (k < text.size()) k += text[k] == '\x07' ? 1 : 2;
      i = k - 1;
      continue;
    }
    if (c == 0x1B) {
      if (intro != 0) ++i;  // a two-byte escape sequence; a lone ESC goes alone
      continue;
    }
    if (c < 0x20 || c == 0x7F) {
      out += ' ';
      continue;
    }
    out += static_cast<char>(c);
  }
  return out;
}

std::string printable_server_text(std::string_view text) {
  // Escaping first: stripping a sequence from between a stray lead byte and a stray
  // continuation byte would otherwise join them into a new character (found by fuzzing:
  // "\xc2" ESC "\\" "\x85" became U+0085, a C1 control). Removing whole characters from valid
  // UTF-8 cannot create a new one.
  return strip_control_sequences(escape_bytes(text));
}

}  // namespace carbonclock

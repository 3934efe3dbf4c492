// What a server sends back is untrusted text on its way to a terminal or a log, and it may
// echo the credentials it was sent. Both are handled here, on the whole text, before any
// excerpt is cut from it (a key straddling the cut used to leak its first characters).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace carbonclock {

/// Replaces credentials by "***" in every form a server may echo them.
class Redactor {
 public:
  /// A secret (API key, password, token). Matched as written, URL-encoded (%XX in either case,
  /// '+' for a space), JSON-escaped, and in any letter case (a lower-cased copy of a key is
  /// still the key). An empty secret is ignored.
  void add_secret(std::string_view secret);
  /// HTTP basic credentials: the user and the password as secrets, and base64("user:password")
  /// (standard and URL-safe alphabets, with and without padding), as sent in the
  /// Authorization header.
  void add_basic_auth(std::string_view user, std::string_view password);

  /// `text` with every occurrence of every form replaced by "***" (leftmost first, the longest
  /// form at a position wins; adjacent occurrences give one "***" each).
  std::string redact(std::string_view text) const;

 private:
  void add_form(std::string form);
  std::vector<std::string> forms_;  ///< lower-cased ASCII
};

/// Server text made safe to print on a terminal: bytes that are not UTF-8 shown as \xHH
/// (common/json_text.h's escape_bytes), then strip_control_sequences. The result is valid
/// UTF-8 without control characters. Apply it once, to the final message: escaping is not
/// idempotent (a literal "\x" is escaped too).
std::string printable_server_text(std::string_view text);
/// ANSI escape sequences (CSI "ESC [ ... final", OSC "ESC ] ... BEL or ESC \", other two-byte
/// ESC sequences, and C1 CSI/OSC) removed; other control characters (C0, DEL, C1) replaced by
/// a space. Bytes are otherwise kept.
std::string strip_control_sequences(std::string_view text);

/// RFC 4648 base64 of `bytes`; `url_safe` uses '-' and '_' for '+' and '/'.
std::string base64_encode(std::string_view bytes, bool url_safe = false, bool padding = true);

}  // namespace carbonclock

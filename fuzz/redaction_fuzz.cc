// http/redaction: whatever a server sends, no credential and no control character is printed.
#include <algorithm>

#include "fuzz/fuzz_util.h"
#include "http/redaction.h"

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  if (size < 2) return 0;
  size_t n = 1 + data[0] % 24;
  if (size < 1 + n) return 0;
  std::string secret(fuzz::as_text(data + 1, n));
  std::string_view text = fuzz::as_text(data + 1 + n, size - 1 - n);
  Redactor r;
  r.add_secret(secret);
  r.add_basic_auth(secret, "pw");
  std::string out = r.redact(text);
  // "***" next to text can spell a secret that itself holds '*'; any other secret is gone.
  if (secret.find('*') == std::string::npos) {
    fuzz::require(lower(out).find(lower(secret)) == std::string::npos, "secret survived");
  }
  std::string printable = printable_server_text(out);
  fuzz::require(is_valid_utf8(printable), "printable text is not UTF-8");
  for (size_t i = 0; i < printable.size(); ++i) {
    auto c = static_cast<unsigned char>(printable[i]);
    fuzz::require(c >= 0x20 && c != 0x7f, "control character printed");
    if (c == 0xC2 && i + 1 < printable.size()) {
      auto next = static_cast<unsigned char>(printable[i + 1]);
      fuzz::require(next < 0x80 || next > 0x9f, "C1 control printed");
    }
  }
  return 0;
}

#include "http/redaction.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

TEST(Base64, MatchesRfc4648) {
  EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("fo", false, false), "Zm8");
  EXPECT_EQ(base64_encode("\xfb\xff", false), "+/8=");
  EXPECT_EQ(base64_encode("\xfb\xff", true), "-_8=");
  EXPECT_EQ(base64_encode(""), "");
}

TEST(Redactor, RedactsEveryFormOfASecret) {
  Redactor r;
  r.add_secret("Key/With+Special=Chars 1");
  const std::vector<std::string> forms = {
      "Key/With+Special=Chars 1",          // raw
      "key/with+special=chars 1",          // case-folded
      "KEY/WITH+SPECIAL=CHARS 1",          // upper-cased
      "Key%2FWith%2BSpecial%3DChars%201",  // URL-encoded
      "Key%2fWith%2bSpecial%3dChars%201",  // URL-encoded, lower-case hex
      "Key%2FWith%2BSpecial%3DChars+1",    // form-encoded
      "Key\\/With+Special=Chars 1",        // JSON with an escaped slash
  };
  for (const auto& form : forms) {
    EXPECT_EQ(r.redact("<" + form + ">"), "<***>") << form;
  }
}

TEST(Redactor, RedactsBasicAuthAsSentInTheHeader) {
  Redactor r;
  r.add_basic_auth("user", "pass");
  EXPECT_EQ(r.redact("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic ***");
  EXPECT_EQ(r.redact("u=user p=PASS"), "u=*** p=***");
  Redactor pad;
  pad.add_basic_auth("ab", "c");  // base64("ab:c") = "YWI6Yw==", also without padding
  EXPECT_EQ(pad.redact("YWI6Yw== and YWI6Yw"), "*** and ***");
}

TEST(Redactor, OverlappingAndAdjacentOccurrences) {
  Redactor r;
  r.add_secret("abcabc");
  r.add_secret("cab");
  EXPECT_EQ(r.redact("xabcabcabx"), "x***x");  // overlapping matches merge into one span
  Redactor k;
  k.add_secret("KEY");
  EXPECT_EQ(k.redact("KEYKEY"), "******");
  EXPECT_EQ(k.redact("no secret here"), "no secret here");
  Redactor none;
  EXPECT_EQ(none.redact("text"), "text");
}

TEST(PrintableServerText, StripsEscapeSequencesAndControls) {
  EXPECT_EQ(printable_server_text("\x1b[2J\x1b[31mred\x1b[0m text"), "red text");
  EXPECT_EQ(printable_server_text("\x1b]0;window title\x07"
                                  "after"),
            "after");
  EXPECT_EQ(printable_server_text("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "link");
  EXPECT_EQ(printable_server_text("a\x1b"
                                  "cb"),
            "ab");  // two-byte ESC sequence (RIS)
  EXPECT_EQ(printable_server_text("bell\x07\x08tab\tnl\ncr\r."), "bell  tab nl cr .");
  EXPECT_EQ(printable_server_text("c1 \xc2\x9b"
                                  "31m csi \xc2\x85 nel"),
            "c1  csi   nel");
  EXPECT_EQ(printable_server_text("bad \xff byte, caf\xc3\xa9"), "bad \\xff byte, caf\xc3\xa9");
  EXPECT_EQ(printable_server_text("trailing \x1b"), "trailing ");
  EXPECT_EQ(printable_server_text("\x1b[unterminated"), "nterminated");
  // Found by fuzzing: a stray lead byte and a stray continuation byte around an escape
  // sequence used to join into U+0085 (a C1 control) once the sequence was removed.
  EXPECT_EQ(printable_server_text("a\xc2\x1b\\\x85"
                                  "b"),
            "a\\xc2\\x85b");
  // Found by fuzzing: ESC before a multi-byte character took the lead byte with it and left
  // a lone continuation byte (invalid UTF-8). ESC goes alone; the character stays.
  EXPECT_EQ(printable_server_text("p\x1b\xc3\xa9q"), "p\xc3\xa9q");
  EXPECT_EQ(printable_server_text("p\x1b\xc2\x9d"
                                  "0;t\x07q"),
            "pq");
}

}  // namespace
}  // namespace carbonclock

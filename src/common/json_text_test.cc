#include "common/json_text.h"

#include <gtest/gtest.h>

#include <random>

namespace carbonclock {
namespace {

using nlohmann::json;

TEST(EscapeBytes, RoundTripsEveryByteString) {
  // Every string of up to two bytes, then random strings rich in backslashes, 'x', hex digits
  // and bytes >= 0x80.
  for (int a = -1; a < 256; ++a) {
    for (int b = -1; b < 256; ++b) {
      std::string s;
      if (a >= 0) s.push_back(static_cast<char>(a));
      if (b >= 0) s.push_back(static_cast<char>(b));
      std::string e = escape_bytes(s);
      ASSERT_TRUE(is_valid_utf8(e)) << e;
      ASSERT_EQ(unescape_bytes(e), s) << e;
    }
  }
  const std::string alphabet = "\\x5cAf0\xc3\xa9\xe9\xff\xed\xa0\x80\xf0\x9f\x98\x80\"";
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    size_t n = rng() % 12;
    for (size_t k = 0; k < n; ++k) s.push_back(alphabet[rng() % alphabet.size()]);
    std::string e = escape_bytes(s);
    ASSERT_TRUE(is_valid_utf8(e)) << e;
    ASSERT_EQ(unescape_bytes(e), s) << e;
  }
}

TEST(EscapeBytes, LeavesValidTextAloneAndShowsBadBytesReadably) {
  EXPECT_EQ(escape_bytes("r\xc3\xa9sum\xc3\xa9 C:\\tmp \xf0\x9f\x98\x80"),
            "r\xc3\xa9sum\xc3\xa9 C:\\tmp \xf0\x9f\x98\x80");
  EXPECT_EQ(escape_bytes("marker\xe9"), "marker\\xe9");
  EXPECT_EQ(escape_bytes("\xff"), "\\xff");
  EXPECT_EQ(escape_bytes("a\\xe9"), "a\\x5cxe9");  // a literal backslash-x is escaped too
  EXPECT_EQ(escape_bytes("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a UTF-16 surrogate
  EXPECT_EQ(escape_bytes("\xc0\xaf"), "\\xc0\\xaf");           // an overlong '/'
  EXPECT_EQ(escape_bytes(std::string("nul\0byte", 8)), std::string("nul\0byte", 8));
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));
}

TEST(DumpJson, CarriesInvalidUtf8LosslesslyInsteadOfThrowing) {
  json doc = {{"command", {"echo", "marker\xe9"}},
              {"scheduler", {{"SLURM_JOB_NAME", "r\xe9sum\xe9"}}},
              {"tags", {"\xff", "plain", "lit\\x41"}},
              {"k\xe9y", 1}};
  // What aborted `carbonclock run`: nlohmann's dump throws on invalid UTF-8.
  EXPECT_THROW((void)doc.dump(), json::type_error);
  std::string text = dump_json(doc, 2);
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_NE(text.find(R"("marker\\xe9")"), std::string::npos) << text;
  // Any strict JSON reader accepts it ...
  EXPECT_TRUE(json::accept(text));
  // ... and carbonclock's reader gives back the original bytes.
  auto back = parse_carbonclock_json(text, "run.json");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, doc);
}

TEST(DumpJson, WorksForOrderedJsonAndKeepsOrder) {
  nlohmann::ordered_json doc;
  doc["zone"] = "evil\xe9zone";
  doc["a"] = 1;
  EXPECT_EQ(dump_json(doc), R"({"zone":"evil\\xe9zone","a":1})");
}

TEST(ParseJson, NumbersBeyondADoubleAreAnErrorNotACrash) {
  for (const char* text : {R"({"carbonIntensity":1e999})", "[-1e400]", "1E+309"}) {
    auto r = parse_json(text, "resp.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message().find("resp.json: invalid JSON"), std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().message().find("number overflow"), std::string::npos)
        << r.error().message();
  }
  EXPECT_EQ(parse_json("[1e308]", "x").value()[0].get<double>(), 1e308);
}

TEST(ParseJson, DeepNestingIsAnErrorNotAStackOverflow) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto r = parse_json(deep, "deep.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "deep.json: JSON nested deeper than 256 levels");
  std::string limit = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parse_json(limit, "x").ok());
  std::string over = "{\"a\":" + limit + "}";
  EXPECT_FALSE(parse_json(over, "x").ok());
  // Brackets inside strings are text, not nesting.
  std::string in_string = "[\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"]";
  EXPECT_TRUE(parse_json(in_string, "x").ok());
}

TEST(ParseJson, MalformedTextNamesTheOriginAndPosition) {
  auto r = parse_json("{\"a\": tru", "r.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("r.json: invalid JSON: parse error at line 1, column 10"),
            std::string::npos)
      << r.error().message();
  EXPECT_FALSE(parse_json("", "r.json").ok());
  EXPECT_FALSE(parse_json("\"bad \xe9 byte\"", "r.json").ok());
}

}  // namespace
}  // namespace carbonclock

#include "common/json_fields.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

using nlohmann::json;

TEST(JsonFieldReader, ReadsCheckedFields) {
  json doc = json::parse(R"({"s":"x","n":2.5,"i":7,"b":true,"l":["a","b"],"m":{"k":"v"},
                             "t":"2024-01-01T00:00Z","o":{"a":[1]}})");
  JsonFieldReader r("f.json");
  EXPECT_EQ(r.string(doc, "", "s"), "x");
  EXPECT_EQ(r.number(doc, "", "n", 0, 10), 2.5);
  EXPECT_EQ(r.integer(doc, "", "i", 0, 10), 7);
  EXPECT_TRUE(r.boolean(doc, "", "b", false));
  EXPECT_EQ(r.strings(doc, "", "l"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.string_map(doc, "", "m").at("k"), "v");
  EXPECT_EQ(format_utc(r.time(doc, "", "t")), "2024-01-01T00:00:00Z");
  EXPECT_EQ(r.array(r.object(doc, "", "o"), "o", "a").size(), 1u);
  EXPECT_EQ(r.optional_number(doc, "", "absent", 0, 1), std::nullopt);
  EXPECT_EQ(r.optional_string(doc, "", "absent"), std::nullopt);
  EXPECT_TRUE(r.ok());
}

std::string first_error(const char* text, auto read) {
  json doc = json::parse(text);
  JsonFieldReader r("f.json");
  read(r, doc);
  return r.ok() ? "(ok)" : r.error().message();
}

TEST(JsonFieldReader, NamesFileFieldAndCause) {
  auto num = [](JsonFieldReader& r, const json& d) {
    (void)r.number(r.object(d, "", "o"), "o", "x", 1, 86400);
  };
  EXPECT_EQ(first_error(R"({"o":{"x":0}})", num),
            "f.json: o.x: 0 is out of range (must be from 1 to 86400)");
  EXPECT_EQ(first_error(R"({"o":{"x":1e300}})", num),
            "f.json: o.x: 1e+300 is out of range (must be from 1 to 86400)");
  EXPECT_EQ(first_error(R"({"o":{"x":-300}})", num),
            "f.json: o.x: -300 is out of range (must be from 1 to 86400)");
  EXPECT_EQ(first_error(R"({"o":{"x":"5"}})", num), "f.json: o.x: not a number (string)");
  EXPECT_EQ(first_error(R"({"o":{}})", num), "f.json: o.x: missing");
  EXPECT_EQ(first_error(R"({"o":{"x":null}})", num), "f.json: o.x: missing");
  EXPECT_EQ(first_error(R"({"o":[]})", num), "f.json: o: not an object (array)");
  auto integer = [](JsonFieldReader& r, const json& d) { (void)r.integer(d, "", "i", 0, 255); };
  EXPECT_EQ(first_error(R"({"i":1e300})", integer), "f.json: i: not an integer (1e+300)");
  EXPECT_EQ(first_error(R"({"i":2.5})", integer), "f.json: i: not an integer (2.5)");
  EXPECT_EQ(first_error(R"({"i":18446744073709551615})", integer),
            "f.json: i: 18446744073709551615 is out of range (must be from 0 to 255)");
  EXPECT_EQ(first_error(R"({"i":-1})", integer),
            "f.json: i: -1 is out of range (must be from 0 to 255)");
  auto list = [](JsonFieldReader& r, const json& d) { (void)r.strings(d, "", "l"); };
  EXPECT_EQ(first_error(R"({"l":["a",3]})", list), "f.json: l[1]: not a string (number)");
  auto time = [](JsonFieldReader& r, const json& d) { (void)r.time(d, "", "t"); };
  EXPECT_NE(first_error(R"({"t":"2300-01-01"})", time).find("f.json: t: cannot parse time"),
            std::string::npos);
}

TEST(JsonFieldReader, KeepsTheFirstError) {
  json doc = json::parse(R"({"a":"x","b":"y"})");
  JsonFieldReader r("f.json");
  (void)r.number(doc, "", "a", 0, 1);
  (void)r.number(doc, "", "b", 0, 1);
  EXPECT_EQ(r.error().message(), "f.json: a: not a number (string)");
}

}  // namespace
}  // namespace carbonclock

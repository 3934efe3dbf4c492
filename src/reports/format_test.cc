#include "reports/format.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

TEST(Format, ParsesOnlyTheAllowedChoicesAndListsThem) {
  EXPECT_EQ(parse_format("md", {Format::kText, Format::kMarkdown}).value(), Format::kMarkdown);
  auto bad = parse_format("xml", {Format::kText, Format::kJson});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("text | json"), std::string::npos);
  EXPECT_FALSE(parse_format("json", {Format::kText}).ok());
}

TEST(Format, CsvFieldsAreQuotedWhenTheyMustBe) {
  // Regression: `grid list` wrote a zone "evil,zone" unquoted.
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("evil,zone"), "\"evil,zone\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
}

TEST(Format, JsonTextNeverThrowsOnBytesThatAreNotUtf8) {
  nlohmann::json j = {{"zone", std::string("r\xe9sum\xe9")}};
  std::string text;
  EXPECT_NO_THROW(text = json_text(j));
  EXPECT_TRUE(nlohmann::json::accept(text));
}

}  // namespace
}  // namespace carbonclock

#include "common/strings.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

TEST(Strings, TrimRemovesSpacesTabsAndLineEnds) {
  EXPECT_EQ(trim("  a b\t\r\n"), "a b");
  EXPECT_EQ(trim(" \t "), "");
}

TEST(Strings, IequalsIgnoresAsciiCase) {
  EXPECT_TRUE(iequals("us-WEST-2", "US-west-2"));
  EXPECT_FALSE(iequals("DE", "DE-LU"));
}

TEST(Strings, SplitListDropsEmptyItemsAndTrims) {
  EXPECT_EQ(split_list("a, b,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list("").empty());
}

}  // namespace
}  // namespace carbonclock

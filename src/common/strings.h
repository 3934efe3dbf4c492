// Small text helpers every domain shares: trimming, case-insensitive comparison, splitting
// comma-separated lists. One copy, here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace carbonclock {

/// `s` without leading and trailing spaces, tabs, carriage returns and newlines.
std::string_view trim(std::string_view s);

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

/// ASCII lower case.
std::string to_lower(std::string_view s);

/// Splits "a, b,,c" at commas into trimmed, non-empty items: {"a", "b", "c"}.
std::vector<std::string> split_list(std::string_view text);

}  // namespace carbonclock

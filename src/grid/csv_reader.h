// A small allocation-light CSV reader for the importers: walks lines with their numbers and
// splits fields into views of the input. Internal to the grid library.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/strings.h"

namespace carbonclock::csv {

/// Iterates the lines of `content` (LF or CRLF), skipping a leading UTF-8 BOM.
class LineReader {
 public:
  explicit LineReader(std::string_view content);
  /// Next line without its terminator; false at the end. line_number() is 1-based.
  bool next(std::string_view& line);
  size_t line_number() const { return line_number_; }

 private:
  std::string_view rest_;
  size_t line_number_ = 0;
};

/// Splits one line on commas into `fields` (cleared first). A field wrapped in double quotes
/// loses its quotes; commas inside quotes do not split (doubled quotes are kept as they are).
/// Returns false on an unterminated quote.
bool split(std::string_view line, std::vector<std::string_view>& fields);

// Trimming and case-insensitive comparison: the shared helpers (common/strings.h).
using carbonclock::iequals;
using carbonclock::trim;

}  // namespace carbonclock::csv

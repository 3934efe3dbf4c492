#include "grid/csv_reader.h"

#include <cctype>

namespace carbonclock::csv {

LineReader::LineReader(std::string_view content) : rest_(content) {
  if (rest_.substr(0, 3) == "\xEF\xBB\xBF") rest_.remove_prefix(3);
}

bool LineReader::next(std::string_view& line) {
  if (rest_.empty()) return false;
  size_t nl = rest_.find('\n');
  if (nl == std::string_view::npos) {
    line = rest_;
    rest_ = {};
  } else {
    line = rest_.substr(0, nl);
    rest_.remove_prefix(nl + 1);
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  ++line_number_;
  return true;
}

bool split(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t pos = 0;
  while (true) {
    if (pos < line.size() && line[pos] == '"') {
      size_t close = pos + 1;
      while (true) {
        close = line.find('"', close);
        if (close == std::string_view::npos) return false;
        if (close + 1 < line.size() && line[close + 1] == '"') {
          close += 2;  // doubled quote inside the field
          continue;
        }
        break;
      }
      fields.push_back(line.substr(pos + 1, close - pos - 1));
      pos = close + 1;
      // Skip anything up to the next comma (e.g. spaces after the closing quote).
      size_t comma = line.find(',', pos);
      if (comma == std::string_view::npos) return true;
      pos = comma + 1;
      continue;
    }
    size_t comma = line.find(',', pos);
    if (comma == std::string_view::npos) {
      fields.push_back(line.substr(pos));
      return true;
    }
    fields.push_back(line.substr(pos, comma - pos));
    pos = comma + 1;
  }
}

}  // namespace carbonclock::csv

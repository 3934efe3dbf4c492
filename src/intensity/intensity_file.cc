#include "intensity/intensity_file.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "common/strings.h"

namespace carbonclock {

Result<IntensitySeries> parse_intensity_file(std::string_view text, const std::string& origin,
                                             SysTime anchor) {
  IntensitySeries series;
  series.source = "intensity-file";
  bool header = false;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> cells;
    size_t c = 0;
    while (c <= line.size()) {
      size_t comma = line.find(',', c);
      if (comma == std::string_view::npos) comma = line.size();
      cells.push_back(trim(line.substr(c, comma - c)));
      c = comma + 1;
    }
    if (!header) {
      if (cells.size() != 3 || cells[0] != "start" || cells[1] != "duration_s" ||
          cells[2] != "g_per_kwh") {
        return make_error("{}:{}: expected the header start,duration_s,g_per_kwh", origin, line_no);
      }
      header = true;
      continue;
    }
    if (cells.size() != 3) {
      return make_error("{}:{}: expected 3 cells (start,duration_s,g_per_kwh), got {}", origin,
                        line_no, cells.size());
    }
    IntensityPoint p;
    if (!cells[0].empty() && cells[0].front() == '+') {
      auto offset = parse_duration(cells[0].substr(1));
      if (!offset) return offset.error().with_context(fmt::format("{}:{}", origin, line_no));
      p.start = anchor + *offset;
    } else {
      auto t = parse_utc(cells[0]);
      if (!t) return t.error().with_context(fmt::format("{}:{}", origin, line_no));
      p.start = *t;
    }
    char* end = nullptr;
    std::string d(cells[1]), g(cells[2]);
    double duration_s = std::strtod(d.c_str(), &end);
    if (end == d.c_str() || *end != '\0' || !(duration_s > 0)) {
      return make_error("{}:{}: duration_s '{}' must be a positive number", origin, line_no, d);
    }
    double value = std::strtod(g.c_str(), &end);
    if (end == g.c_str() || *end != '\0' || !std::isfinite(value) || value < 0) {
      return make_error("{}:{}: g_per_kwh '{}' must be a non-negative number", origin, line_no, g);
    }
    p.duration = from_seconds(duration_s);
    p.g_per_kwh = value;
    if (!series.points.empty() && p.start < series.points.back().end()) {
      return make_error("{}:{}: row starts at {}, before the previous row ends ({})", origin,
                        line_no, format_utc(p.start), format_utc(series.points.back().end()));
    }
    series.points.push_back(p);
  }
  if (!header)
    return make_error("{}: empty (expected the header start,duration_s,g_per_kwh)", origin);
  return series;
}

}  // namespace carbonclock

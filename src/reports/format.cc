#include "reports/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/json_text.h"
#include "common/units.h"

namespace carbonclock {

const char* to_string(Format format) {
  switch (format) {
    case Format::kText:
      return "text";
    case Format::kJson:
      return "json";
    case Format::kCsv:
      return "csv";
    case Format::kMarkdown:
      return "md";
    case Format::kHtml:
      return "html";
    case Format::kSbatch:
      return "sbatch";
    case Format::kRunJson:
      return "run-json";
    case Format::kModelCard:
      return "model-card";
  }
  return "?";
}

std::string format_choices(std::span<const Format> allowed) {
  std::string out;
  for (Format f : allowed) out += (out.empty() ? "" : " | ") + std::string(to_string(f));
  return out;
}

Result<Format> parse_format(std::string_view text, std::span<const Format> allowed) {
  for (Format f : allowed) {
    if (text == to_string(f)) return f;
  }
  if (text == "markdown") {
    for (Format f : allowed) {
      if (f == Format::kMarkdown) return f;
    }
  }
  return make_error("--format '{}': choose {}", text, format_choices(allowed));
}

std::string fixed(double value, int decimals) {
  std::string out = fmt::format("{:.{}f}", value, decimals);
  if (out.starts_with('-') && out.find_first_not_of("-0.") == std::string::npos) out.erase(0, 1);
  return out;
}

std::string significant(double value, int digits) {
  if (!std::isfinite(value) || value == 0) return fixed(value, 0);
  const int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  std::string out = fixed(value, std::max(0, digits - 1 - magnitude));
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  return out == "-0" ? "0" : out;
}

std::string signed_fixed(double value, int decimals) {
  std::string out = fixed(value, decimals);
  return out.starts_with('-') ? out : "+" + out;
}

ScaledUnit energy_unit_for(double max_abs_j) {
  const double wh = std::fabs(max_abs_j) / kJoulesPerWh;
  if (wh < 1) return {"J", 1, 1};
  if (wh < 1e3) return {"Wh", kJoulesPerWh, 2};
  if (wh < 1e6) return {"kWh", kJoulesPerKwh, 3};
  return {"MWh", 1e3 * kJoulesPerKwh, 3};
}

ScaledUnit grams_unit_for(double max_abs_g) {
  const double a = std::fabs(max_abs_g);
  if (a < 1 && a > 0) return {"mg", 1e-3, 1};
  if (a < 1e3) return {"g", 1, 2};
  if (a < 1e6) return {"kg", 1e3, 3};
  return {"t", 1e6, 3};
}

std::string in_unit(double value, const ScaledUnit& unit) {
  return fixed(value / unit.base_per_unit, unit.decimals) + " " + unit.name;
}

std::string json_text(const nlohmann::json& doc) { return dump_json(doc, 2) + "\n"; }

std::string json_text(const nlohmann::ordered_json& doc) { return dump_json(doc, 2) + "\n"; }

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  return csv_quoted(s);
}

std::string csv_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace carbonclock

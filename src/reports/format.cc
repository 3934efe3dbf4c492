#include "reports/format.h"

#include <fmt/format.h>

#include "common/json_text.h"

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

// Output formats, chosen by an enum (never by comparing strings in command code), and the
// helpers every renderer shares: JSON text, CSV fields.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace carbonclock {

enum class Format {
  kText,
  kJson,
  kCsv,
  kMarkdown,
  kHtml,
  kSbatch,     ///< `plan`: the --begin option for Slurm's sbatch
  kRunJson,    ///< `report`: run.json as stored
  kModelCard,  ///< `report`: the Hugging Face model card co2_eq_emissions block
};

/// "text" | "json" | "csv" | "md" | "html" | "sbatch" | "run-json" | "model-card".
const char* to_string(Format format);

/// The names of `allowed`, joined by " | " (for --help and errors).
std::string format_choices(std::span<const Format> allowed);
inline std::string format_choices(std::initializer_list<Format> allowed) {
  return format_choices(std::span<const Format>(allowed.begin(), allowed.size()));
}

/// Parses a --format value among `allowed`. Error names the value and lists the choices.
Result<Format> parse_format(std::string_view text, std::span<const Format> allowed);
inline Result<Format> parse_format(std::string_view text, std::initializer_list<Format> allowed) {
  return parse_format(text, std::span<const Format>(allowed.begin(), allowed.size()));
}

/// A JSON document as text, indented by 2, with a trailing newline. Never throws on strings
/// that are not valid UTF-8 (their bad bytes become U+FFFD).
std::string json_text(const nlohmann::json& doc);
std::string json_text(const nlohmann::ordered_json& doc);

/// A CSV field per RFC 4180: quoted (with doubled quotes) when it holds a comma, quote or line
/// break, as is otherwise.
std::string csv_field(std::string_view text);
/// A CSV field always quoted (RFC 4180 allows it; columns that may hold commas stay uniform).
std::string csv_quoted(std::string_view text);

/// `value` with `decimals` decimals, never "-0.00": a value that rounds to zero prints as zero.
std::string fixed(double value, int decimals);

/// `value` to `digits` significant figures in plain decimal notation, never an exponent and
/// never "-0": 0.000243 (not 2.43e-04), 12.2, 1234567. Trailing zeros after the point are
/// dropped, as %g drops them.
std::string significant(double value, int digits);

/// fixed() with a sign: "+1.25", "-0.40", "+0.00" (never "-0.00").
std::string signed_fixed(double value, int decimals);

/// A unit shared by every number of one table or column, chosen from its largest magnitude, so
/// a table never mixes "3572.7 J" with "1.06 Wh".
struct ScaledUnit {
  const char* name;          ///< "J", "Wh", "kWh", "MWh"; "mg", "g", "kg", "t"
  double base_per_unit = 1;  ///< joules or grams in one of it
  int decimals = 2;
};
/// J below 1 Wh, Wh below 1 kWh, kWh below 1 MWh, else MWh.
ScaledUnit energy_unit_for(double max_abs_j);
/// mg below 1 g, g below 1 kg, kg below 1 t, else t.
ScaledUnit grams_unit_for(double max_abs_g);
/// "12.30 Wh": `value` (in the unit's base) in `unit`, with its decimals, never "-0".
std::string in_unit(double value, const ScaledUnit& unit);

}  // namespace carbonclock

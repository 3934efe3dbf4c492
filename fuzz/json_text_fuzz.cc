// common/json_text: parse_json on any bytes, and the lossless byte escaping both ways.
#include "common/json_fields.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  std::string_view text = fuzz::as_text(data, size);
  std::string escaped = escape_bytes(text);
  fuzz::require(is_valid_utf8(escaped), "escape_bytes gave invalid UTF-8");
  fuzz::require(unescape_bytes(escaped) == text, "escape_bytes does not round-trip");
  if (is_valid_utf8(text) && text.find("\\x") == std::string_view::npos) {
    fuzz::require(escaped == text, "escape_bytes changed clean text");
  }
  auto doc = parse_json(text, "fuzz.json");
  if (!doc) {
    fuzz::check_error(doc.error());
    return 0;
  }
  // Whatever was read is written losslessly and read back the same.
  std::string written = dump_json(*doc);
  fuzz::require(is_valid_utf8(written), "dump_json gave invalid UTF-8");
  auto back = parse_carbonclock_json(written, "written.json");
  fuzz::require(back.ok() && *back == *doc, "dump_json does not round-trip");
  // Checked field reads of arbitrary documents never throw.
  JsonFieldReader r("fuzz.json");
  for (const char* key : {"a", "t", "e", "data", "bucket_s"}) {
    (void)r.number(*doc, "", key, 0, 1e9);
    (void)r.optional_integer(*doc, "", key, -5, 5);
    (void)r.strings(*doc, "", key);
    (void)r.string_map(*doc, "", key);
    (void)r.time(*doc, "", key);
  }
  return 0;
}

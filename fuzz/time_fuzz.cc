// common/time: parse_utc and parse_duration on any text (CSV cells, options, API fields).
#include "common/time.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  std::string_view text = fuzz::as_text(data, size);
  if (auto t = parse_utc(text)) {
    fuzz::require(in_time_range(*t), "parse_utc accepted a time outside the range");
    auto again = parse_utc(format_utc(*t));
    fuzz::require(again.ok() && *again == std::chrono::floor<Seconds>(*t),
                  "format_utc does not parse back");
    (void)format_utc_millis(*t);
  } else {
    fuzz::check_error(t.error());
  }
  if (auto d = parse_duration(text)) {
    fuzz::require(*d >= Nanos(0) && *d <= kMaxDuration, "parse_duration out of range");
    (void)format_duration(*d);
  }
  return 0;
}

// Provider responses: the UK Carbon Intensity API JSON (national and regional shapes) importer.
#include "fuzz/fuzz_series_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  fuzz::check_series(parse_uk_carbon_intensity_json(fuzz::as_text(data, size), "fuzz.json"));
  return 0;
}

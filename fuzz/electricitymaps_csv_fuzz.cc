// The Electricity Maps portal CSV importer.
#include "fuzz/fuzz_series_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  fuzz::check_series(parse_electricitymaps_csv(fuzz::as_text(data, size), "fuzz.csv"));
  return 0;
}

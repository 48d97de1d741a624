// `warpsim check`'s inputs: flat metrics.json files.
#include "fuzz_support.hpp"
#include "sim/stats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzzing::expect_input_errors(
      [&] { sim::metrics_from_json(fuzzing::text(data, size), "fuzz-metrics.json"); });
}

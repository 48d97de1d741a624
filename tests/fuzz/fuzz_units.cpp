// The units parser: every quantity a config may write ("3.35 TB/s", "80 GiB", "5 us").
#include "fuzz_support.hpp"
#include "sim/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string s = fuzzing::text(data, size);
  fuzzing::expect_input_errors([&] { sim::units::parse_size(s); });
  fuzzing::expect_input_errors([&] { sim::units::parse_bandwidth(s); });
  fuzzing::expect_input_errors([&] { sim::units::parse_frequency(s); });
  fuzzing::expect_input_errors([&] { sim::units::parse_duration(s); });
  fuzzing::expect_input_errors([&] { sim::units::parse_flops(s); });
  fuzzing::expect_input_errors([&] { sim::units::parse_fraction(s); });
  return 0;
}

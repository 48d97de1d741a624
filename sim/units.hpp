#pragma once
// The one parser for quantities with units in configs and on the command line:
//   sizes "80 GiB", bandwidths "3.35 TB/s" or "200 Gb/s", frequencies "1.98 GHz",
//   durations "5 us", compute rates "989 TFLOP/s".
// Decimal prefixes are powers of 1000, binary ones (KiB, GiB/s) powers of 1024; a lower-case
// 'b' means bits. Negative, empty, non-finite or unit-less strings are rejected with a message
// that names what was expected; callers add the file position.

#include <cstdint>
#include <string_view>

#include "sim/time.hpp"

namespace sim::units {

std::uint64_t parse_size(std::string_view text);    // bytes
double parse_bandwidth(std::string_view text);      // bytes per second
Frequency parse_frequency(std::string_view text);
Time parse_duration(std::string_view text);
double parse_flops(std::string_view text);          // operations per second
// A share, tolerance or error bound: "2%" is 0.02, and a bare number is the fraction itself
// ("0.02"), never a percentage; a bare number above 1 ("5") is refused as a likely percentage.
double parse_fraction(std::string_view text);

}  // namespace sim::units

#pragma once
// Test shorthand over the engine's generator (sim::RngStream: the same numbers everywhere).

#include <cstdint>

#include "sim/rng.hpp"

namespace testing {

struct Rand {
  sim::RngStream stream;
  explicit Rand(std::uint64_t seed) : stream(seed) {}
  std::uint64_t next() { return stream.next_u64(); }
  int below(int n) {
    return static_cast<int>(stream.uniform_int(0, static_cast<std::uint64_t>(n - 1)));
  }
  bool chance(double p) { return stream.bernoulli(p); }
};

}  // namespace testing

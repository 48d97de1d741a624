#pragma once
// A tiny plugin family used to test registries and plugin loading.

#include <memory>
#include <string>

#include "sim/registry.hpp"

namespace testing {

class Greeter {
 public:
  virtual ~Greeter() = default;
  virtual std::string greet(const std::string& who) const = 0;
};

using GreeterRegistry = sim::Registry<Greeter, const sim::Config&>;

inline GreeterRegistry& greeters(sim::PluginCatalog& c) {
  return c.family<GreeterRegistry>("greeter", "says hello (test family)");
}

}  // namespace testing

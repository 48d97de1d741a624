#include "app/command.hpp"

#include <fmt/format.h>

#include "sim/error.hpp"
#include "sim/units.hpp"

namespace app {

double parse_fraction_option(std::string_view option, const std::string& text) {
  try {
    return sim::units::parse_fraction(text);
  } catch (const sim::InputError& e) {
    throw sim::InputError(fmt::format("{}: {} (e.g. 2% or 0.02)", option, e.what()));
  }
}

}  // namespace app

#include "sim/time.hpp"

#include <fmt/format.h>

namespace sim {

std::string Time::str() const {
  const rep a = ps_ < 0 ? -ps_ : ps_;
  const char* unit = "ps";
  double div = 1;
  if (a >= 1'000'000'000'000) { unit = "s"; div = 1e12; }
  else if (a >= 1'000'000'000) { unit = "ms"; div = 1e9; }
  else if (a >= 1'000'000) { unit = "us"; div = 1e6; }
  else if (a >= 1'000) { unit = "ns"; div = 1e3; }
  if (div == 1) return fmt::format("{} ps", ps_);
  return fmt::format("{:.3f} {}", static_cast<double>(ps_) / div, unit);
}

}  // namespace sim

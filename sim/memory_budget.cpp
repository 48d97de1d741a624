#include "sim/memory_budget.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "sim/error.hpp"
#include "sim/units.hpp"

namespace sim {

std::uint64_t physical_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)
                               : 0;
}

std::uint64_t memory_budget() {
  if (const char* limit = std::getenv("WARPSIM_MEMORY_LIMIT"); limit && *limit) {
    try {
      return units::parse_size(limit);
    } catch (const InputError& e) {
      throw InputError(fmt::format("WARPSIM_MEMORY_LIMIT: {}", e.what()));
    }
  }
  const std::uint64_t total = physical_memory();
  return total ? total / 2 : ~std::uint64_t{0};
}

void check_memory_estimate(double bytes, std::string_view what) {
  const std::uint64_t budget = memory_budget();
  if (!(bytes > static_cast<double>(budget))) return;
  const double gib = 1024.0 * 1024.0 * 1024.0;
  const std::uint64_t total = physical_memory();
  throw InputError(fmt::format(
      "{} would need about {:.3g} GiB of memory, more than this run may use ({:.3g} GiB: {}); "
      "make it smaller{}",
      what, bytes / gib, static_cast<double>(budget) / gib,
      std::getenv("WARPSIM_MEMORY_LIMIT") ? "WARPSIM_MEMORY_LIMIT"
                                         : fmt::format("half of the machine's {:.3g} GiB",
                                                       static_cast<double>(total) / gib),
      std::getenv("WARPSIM_MEMORY_LIMIT") ? "" : ", or raise WARPSIM_MEMORY_LIMIT"));
}

}  // namespace sim

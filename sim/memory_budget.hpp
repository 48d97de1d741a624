#pragma once
// Failing early instead of being killed: a reader or builder that can tell how much memory its
// input will take asks here first. The budget is half of the machine's physical memory (the
// rest is the OS's, the run's other structures', a second worker's), or WARPSIM_MEMORY_LIMIT
// ("8 GiB", as any size) when set. Over budget is bad input: the message says what needs how
// much and what the machine has.

#include <cstdint>
#include <string_view>

namespace sim {

std::uint64_t physical_memory();  // bytes; 0 when the OS does not say
std::uint64_t memory_budget();    // bytes a run may plan to use

// Throws InputError when `bytes` (an estimate of what `what` will take) exceeds the budget.
void check_memory_estimate(double bytes, std::string_view what);

}  // namespace sim

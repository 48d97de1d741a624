#pragma once
// Internal helpers shared by the launch graph algorithms.

#include <cstdint>
#include <vector>

#include "schedulers/launch/dag.hpp"

namespace schedulers::launch::detail {

using workloads::successors;
using workloads::topological_order;

// pos[order[p]] = p.
std::vector<std::int32_t> inverse(const std::vector<std::int32_t>& order);

}  // namespace schedulers::launch::detail

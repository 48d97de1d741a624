#pragma once
// Internal helpers shared by the launch graph algorithms.

#include <cstdint>
#include <vector>

#include "schedulers/launch/dag.hpp"

namespace schedulers::launch::detail {

// Successor lists (ascending, duplicates dropped). Throws std::invalid_argument on an id out
// of range.
std::vector<std::vector<std::int32_t>> successors(const Dag& g);

// Smallest-ready-id-first topological order. Throws std::invalid_argument naming a node on a
// cycle.
std::vector<std::int32_t> topological_order(const std::vector<std::vector<std::int32_t>>& succ);

// pos[order[p]] = p.
std::vector<std::int32_t> inverse(const std::vector<std::int32_t>& order);

}  // namespace schedulers::launch::detail

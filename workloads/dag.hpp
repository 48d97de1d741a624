#pragma once
// A dependency DAG over tasks 0..n-1 (a lowered TaskGraph's kernels, a launch plan's nodes) and
// its deterministic topological order. Nimble's derived graphs (transitive reduction and
// closure) live with the launch policies that use them (schedulers/launch/dag.hpp).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace workloads {

// preds[v] = nodes that must finish before v. Duplicate entries are allowed on input and count
// once.
struct Dag {
  std::vector<std::vector<std::int32_t>> preds;

  std::size_t size() const { return preds.size(); }
  bool operator==(const Dag&) const = default;
};

// The deterministic topological order: Kahn's algorithm taking the smallest ready id first.
// Throws std::invalid_argument on a predecessor id out of range or on a cycle (the message
// names a node on the cycle). O((V + E) log V).
std::vector<std::int32_t> topological_order(const Dag& g);

// Successor lists (ascending, duplicates dropped). Throws like topological_order.
std::vector<std::vector<std::int32_t>> successors(const Dag& g);
// The same order from successor lists.
std::vector<std::int32_t> topological_order(const std::vector<std::vector<std::int32_t>>& succ);

}  // namespace workloads

#pragma once
// A dependency DAG of GPU tasks and the two graphs Nimble derives from it: the minimum
// equivalent graph (transitive reduction) and the transitive closure.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace schedulers::launch {

// A DAG over nodes 0..n-1; preds[v] = nodes that must finish before v. Duplicate entries are
// allowed on input and count once.
struct Dag {
  std::vector<std::vector<std::int32_t>> preds;

  std::size_t size() const { return preds.size(); }
  bool operator==(const Dag&) const = default;
};

// The deterministic topological order: Kahn's algorithm taking the smallest ready id first.
// Throws std::invalid_argument on a predecessor id out of range or on a cycle (the message
// names a node on the cycle). O((V + E) log V).
std::vector<std::int32_t> topological_order(const Dag& g);

// The minimum equivalent graph of a DAG (unique for a DAG): edge u->v is kept iff no other
// path leads from u to v. Output preds are sorted ascending. Throws like topological_order.
Dag transitive_reduction(const Dag& g);

// preds[v] = every ancestor of v, sorted ascending. The output alone is O(V^2) in the worst
// case (a chain); the work is O((V + E) * V / 64 + output). Throws like topological_order.
Dag transitive_closure(const Dag& g);

}  // namespace schedulers::launch

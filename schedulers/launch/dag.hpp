#pragma once
// The two graphs Nimble derives from a dependency DAG (workloads/dag.hpp): the minimum
// equivalent graph (transitive reduction) and the transitive closure.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "workloads/dag.hpp"

namespace schedulers::launch {

using workloads::Dag;
using workloads::topological_order;

// The minimum equivalent graph of a DAG (unique for a DAG): edge u->v is kept iff no other
// path leads from u to v. Output preds are sorted ascending. Throws like topological_order.
Dag transitive_reduction(const Dag& g);

// preds[v] = every ancestor of v, sorted ascending. The output alone is O(V^2) in the worst
// case (a chain); the work is O((V + E) * V / 64 + output). Throws like topological_order.
Dag transitive_closure(const Dag& g);

}  // namespace schedulers::launch

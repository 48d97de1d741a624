#pragma once
// Nimble's multi-stream assignment (Kwon et al., NeurIPS 2020, section 4.2): which CUDA stream
// each task of a DAG goes to, and which cross-stream dependencies need an event.
//
// The dependency DAG is reduced to its minimum equivalent graph (MEG). A bipartite graph gets a
// left and a right copy of every node and an edge u_left -- v_right per MEG edge u->v; a
// maximum matching chains matched nodes onto one stream, so streams = |V| - |M| (the fewest
// possible when only MEG edges may chain). Every MEG edge between different streams needs an
// event (record after u, wait before v); stream order carries the rest. With the matching on
// the transitive closure instead, the streams are a minimum chain cover (Dilworth: as many as
// the widest antichain), and the syncs are still taken from the MEG.
//
// Syncs implied by others are dropped: u->v (streams S -> T) is redundant when T already
// waits, before or at v, on a node of S at or after u. On MEG edges this never fires: such
// a pair of waits would be a second path u ~> v in the DAG, which the MEG excludes. So the
// syncs are exactly the cross-stream MEG edges, and none can be removed (Nimble's Theorem).

#include <compare>
#include <cstdint>
#include <vector>

#include "schedulers/launch/dag.hpp"

namespace schedulers::launch {

enum class MatchingGraph { minimum_equivalent, transitive_closure };

// An event recorded after `from` on its stream and waited on before `to` is issued.
struct Sync {
  std::int32_t from = 0, to = 0;
  auto operator<=>(const Sync&) const = default;
};

struct StreamAssignment {
  std::vector<std::int32_t> stream_of;  // node -> stream, numbered 0.. by first node in `order`
  std::int32_t streams = 0;
  std::vector<Sync> syncs;          // sorted by (from, to)
  std::vector<std::int32_t> order;  // issue order: topological, smallest ready id first
  bool operator==(const StreamAssignment&) const = default;
};

// Cost: O((V + E) * V / 64) for the MEG, then O(E * sqrt(V)) for Hopcroft–Karp on the MEG or
// O(V * (V + E)) for the closure matching, O((V + E) log V) for the rest.
// Throws std::invalid_argument on a cycle (naming a node on it) or an id out of range.
StreamAssignment assign_streams(const Dag& g, MatchingGraph m = MatchingGraph::minimum_equivalent);

// Whether running each stream in issue order (a stream runs its nodes in the order they appear
// in a.order) and waiting on a.syncs respects every edge u->v of g: v is reachable from u over
// stream-order and sync edges. False as well for a malformed assignment (sizes, ids, an order
// that is not a permutation, or a sync whose `from` is issued after its `to`, whose wait
// would see an event not yet recorded). O((V + E + syncs) * V / 64).
// Throws std::invalid_argument when g itself is not a DAG.
bool respects_dependencies(const Dag& g, const StreamAssignment& a);

}  // namespace schedulers::launch

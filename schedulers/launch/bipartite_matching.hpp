#pragma once
// Maximum bipartite matchings for Nimble's stream assignment.

#include <cstdint>
#include <vector>

#include "schedulers/launch/dag.hpp"

namespace schedulers::launch {

// Left vertices 0..adj.size()-1, right vertices 0..right-1; adj[l] = right neighbours of l.
struct BipartiteGraph {
  std::int32_t right = 0;
  std::vector<std::vector<std::int32_t>> adj;
};

struct Matching {
  std::vector<std::int32_t> mate_of_left;   // right mate or -1
  std::vector<std::int32_t> mate_of_right;  // left mate or -1
  std::int32_t size = 0;
  bool operator==(const Matching&) const = default;
};

// Hopcroft–Karp: O(E * sqrt(V)). Deterministic: free left vertices are tried in ascending id
// and each adjacency list in ascending id (lists are sorted on a copy; duplicates are harmless).
// Throws std::invalid_argument on a right id out of range.
Matching hopcroft_karp(const BipartiteGraph& g);

// A maximum matching of the bipartite graph of g's transitive closure (left u -- right v iff
// v is reachable from u), found without building the closure, which can hold V^2/2 edges
// (800 MB at V = 20k). One augmenting-path search per left vertex, in ascending id; a search
// is a single traversal of g, O(V + E), because reaching v as a right vertex also reaches
// every descendant of v. O(V * (V + E)) in the worst case, O(V + E) memory.
// Throws like topological_order.
Matching closure_matching(const Dag& g);

}  // namespace schedulers::launch

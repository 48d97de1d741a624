#include "schedulers/launch/bipartite_matching.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "schedulers/launch/dag_internal.hpp"

namespace schedulers::launch {

Matching hopcroft_karp(const BipartiteGraph& g) {
  constexpr std::int32_t kInf = std::numeric_limits<std::int32_t>::max();
  const auto left = static_cast<std::int32_t>(g.adj.size());
  auto adj = g.adj;
  for (std::size_t l = 0; l < adj.size(); ++l) {
    std::sort(adj[l].begin(), adj[l].end());
    for (const std::int32_t r : adj[l]) {
      if (r < 0 || r >= g.right) {
        throw std::invalid_argument("matching: left vertex " + std::to_string(l) +
                                    " has right neighbour " + std::to_string(r) + ", outside 0.." +
                                    std::to_string(g.right - 1));
      }
    }
  }
  Matching m;
  m.mate_of_left.assign(static_cast<std::size_t>(left), -1);
  m.mate_of_right.assign(static_cast<std::size_t>(g.right), -1);
  std::vector<std::int32_t> dist(static_cast<std::size_t>(left));
  std::vector<std::size_t> next(static_cast<std::size_t>(left));  // adjacency cursor per phase
  std::vector<std::int32_t> queue;
  std::vector<std::int32_t> stack;
  queue.reserve(static_cast<std::size_t>(left));

  for (;;) {
    // BFS from all free left vertices; `limit` is the layer at which a free right vertex
    // first appears, the length of the shortest augmenting paths.
    queue.clear();
    for (std::int32_t l = 0; l < left; ++l) {
      const bool free = m.mate_of_left[static_cast<std::size_t>(l)] < 0;
      dist[static_cast<std::size_t>(l)] = free ? 0 : kInf;
      if (free) queue.push_back(l);
    }
    std::int32_t limit = kInf;
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const std::int32_t l = queue[head];
      const std::int32_t d = dist[static_cast<std::size_t>(l)];
      if (d >= limit) break;  // queue is in layer order: nothing shorter remains
      for (const std::int32_t r : adj[static_cast<std::size_t>(l)]) {
        const std::int32_t mate = m.mate_of_right[static_cast<std::size_t>(r)];
        if (mate < 0) {
          limit = std::min(limit, d + 1);
        } else if (dist[static_cast<std::size_t>(mate)] == kInf) {
          dist[static_cast<std::size_t>(mate)] = d + 1;
          queue.push_back(mate);
        }
      }
    }
    if (limit == kInf) break;

    // DFS along the layers, iteratively (augmenting paths can be |V| long), from each free
    // left vertex in ascending id; a left vertex that leads nowhere is retired (dist = inf).
    std::fill(next.begin(), next.end(), 0);
    for (std::int32_t root = 0; root < left; ++root) {
      if (m.mate_of_left[static_cast<std::size_t>(root)] >= 0 ||
          dist[static_cast<std::size_t>(root)] != 0) {
        continue;
      }
      stack.assign(1, root);
      while (!stack.empty()) {
        const std::int32_t l = stack.back();
        const auto& a = adj[static_cast<std::size_t>(l)];
        std::size_t& it = next[static_cast<std::size_t>(l)];
        if (it == a.size()) {
          dist[static_cast<std::size_t>(l)] = kInf;
          stack.pop_back();
          if (!stack.empty()) ++next[static_cast<std::size_t>(stack.back())];
          continue;
        }
        const std::int32_t r = a[it];
        const std::int32_t mate = m.mate_of_right[static_cast<std::size_t>(r)];
        const std::int32_t want = dist[static_cast<std::size_t>(l)] + 1;
        if (mate < 0 && want == limit) {
          // Augment along the stack: each left vertex on it takes the right vertex under its
          // cursor.
          for (const std::int32_t sl : stack) {
            const std::int32_t sr =
                adj[static_cast<std::size_t>(sl)][next[static_cast<std::size_t>(sl)]];
            m.mate_of_left[static_cast<std::size_t>(sl)] = sr;
            m.mate_of_right[static_cast<std::size_t>(sr)] = sl;
          }
          ++m.size;
          break;
        }
        if (mate >= 0 && dist[static_cast<std::size_t>(mate)] == want) {
          stack.push_back(mate);
        } else {
          ++it;
        }
      }
    }
  }
  return m;
}

Matching closure_matching(const Dag& g) {
  const auto succ = detail::successors(g);
  (void)detail::topological_order(succ);  // reject cycles
  const std::size_t n = g.size();
  Matching m;
  m.mate_of_left.assign(n, -1);
  m.mate_of_right.assign(n, -1);
  // owner[v]: the left vertex through whose descendants v was reached in the current search;
  // the alternating path back from a free v is v - owner[v] = mate_of_right[w] - w - ...
  std::vector<std::int32_t> owner(n, -1);
  std::vector<std::uint32_t> stamp(n, 0);
  std::vector<std::int32_t> queue;
  queue.reserve(n);
  std::uint32_t search = 0;

  for (std::size_t x = 0; x < n; ++x) {
    ++search;
    queue.clear();
    // Visiting v as a right vertex and walking on to its successors covers all of v's
    // descendants with the same owner, so a node is visited at most once per search.
    const auto reach_from = [&](std::int32_t own, std::int32_t from) {
      for (const std::int32_t s : succ[static_cast<std::size_t>(from)]) {
        if (stamp[static_cast<std::size_t>(s)] == search) continue;
        stamp[static_cast<std::size_t>(s)] = search;
        owner[static_cast<std::size_t>(s)] = own;
        queue.push_back(s);
      }
    };
    reach_from(static_cast<std::int32_t>(x), static_cast<std::int32_t>(x));
    for (std::size_t head = 0; head < queue.size(); ++head) {
      std::int32_t v = queue[head];
      const std::int32_t mate = m.mate_of_right[static_cast<std::size_t>(v)];
      if (mate < 0) {
        for (;;) {
          const std::int32_t y = owner[static_cast<std::size_t>(v)];
          const std::int32_t previous = m.mate_of_left[static_cast<std::size_t>(y)];
          m.mate_of_left[static_cast<std::size_t>(y)] = v;
          m.mate_of_right[static_cast<std::size_t>(v)] = y;
          if (y == static_cast<std::int32_t>(x)) break;
          v = previous;
        }
        ++m.size;
        break;
      }
      reach_from(owner[static_cast<std::size_t>(v)], v);
      reach_from(mate, mate);
    }
  }
  return m;
}

}  // namespace schedulers::launch

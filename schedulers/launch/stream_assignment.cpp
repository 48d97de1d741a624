#include "schedulers/launch/stream_assignment.hpp"

#include <algorithm>
#include <utility>

#include "schedulers/launch/bipartite_matching.hpp"
#include "schedulers/launch/dag_internal.hpp"
#include "schedulers/launch/reachability.hpp"

namespace schedulers::launch {

StreamAssignment assign_streams(const Dag& g, MatchingGraph graph) {
  const std::size_t n = g.size();
  const Dag meg = transitive_reduction(g);  // validates ids and rejects cycles
  StreamAssignment a;
  a.order = detail::topological_order(detail::successors(g));

  Matching m;
  if (graph == MatchingGraph::minimum_equivalent) {
    BipartiteGraph b;
    b.right = static_cast<std::int32_t>(n);
    b.adj.resize(n);
    for (std::size_t v = 0; v < n; ++v) {
      for (const std::int32_t u : meg.preds[v]) {
        b.adj[static_cast<std::size_t>(u)].push_back(static_cast<std::int32_t>(v));
      }
    }
    m = hopcroft_karp(b);
  } else {
    m = closure_matching(meg);  // same closure as g's, on fewer edges
  }

  // A node whose right copy is unmatched heads a chain; follow left mates down the chain.
  // Heads are met in issue order, which numbers the streams.
  a.stream_of.assign(n, -1);
  for (const std::int32_t head : a.order) {
    if (m.mate_of_right[static_cast<std::size_t>(head)] >= 0) continue;
    for (std::int32_t v = head; v >= 0; v = m.mate_of_left[static_cast<std::size_t>(v)]) {
      a.stream_of[static_cast<std::size_t>(v)] = a.streams;
    }
    ++a.streams;
  }

  // Place of each node within its stream (chains follow issue order: u before its mate).
  std::vector<std::int32_t> place(n);
  {
    std::vector<std::int32_t> length(static_cast<std::size_t>(a.streams), 0);
    for (const std::int32_t v : a.order) {
      place[static_cast<std::size_t>(v)] =
          length[static_cast<std::size_t>(a.stream_of[static_cast<std::size_t>(v)])]++;
    }
  }

  // Candidate syncs: MEG edges across streams. Walk each target stream in order, remembering
  // the furthest node of each source stream it already waits on (reset per target stream via
  // the list of touched entries, so memory is O(streams), not O(streams^2)).
  std::vector<std::vector<std::int32_t>> members(static_cast<std::size_t>(a.streams));
  for (const std::int32_t v : a.order) {
    members[static_cast<std::size_t>(a.stream_of[static_cast<std::size_t>(v)])].push_back(v);
  }
  std::vector<std::int32_t> waited(static_cast<std::size_t>(a.streams), -1);
  std::vector<std::int32_t> touched;
  std::vector<std::int32_t> incoming;
  for (std::int32_t t = 0; t < a.streams; ++t) {
    for (const std::int32_t v : members[static_cast<std::size_t>(t)]) {
      incoming.clear();
      for (const std::int32_t u : meg.preds[static_cast<std::size_t>(v)]) {
        if (a.stream_of[static_cast<std::size_t>(u)] != t) incoming.push_back(u);
      }
      // Latest source node first, so a wait at v covers earlier nodes of the same stream.
      std::sort(incoming.begin(), incoming.end(), [&](std::int32_t x, std::int32_t y) {
        return place[static_cast<std::size_t>(x)] > place[static_cast<std::size_t>(y)];
      });
      for (const std::int32_t u : incoming) {
        auto& w = waited[static_cast<std::size_t>(a.stream_of[static_cast<std::size_t>(u)])];
        if (w >= place[static_cast<std::size_t>(u)]) continue;  // implied by an earlier wait
        if (w < 0) touched.push_back(a.stream_of[static_cast<std::size_t>(u)]);
        w = place[static_cast<std::size_t>(u)];
        a.syncs.push_back({u, v});
      }
    }
    for (const std::int32_t s : touched) waited[static_cast<std::size_t>(s)] = -1;
    touched.clear();
  }
  std::sort(a.syncs.begin(), a.syncs.end());
  return a;
}

bool respects_dependencies(const Dag& g, const StreamAssignment& a) {
  const auto g_succ = detail::successors(g);
  (void)detail::topological_order(g_succ);  // g must be a DAG
  const std::size_t n = g.size();
  if (a.stream_of.size() != n || a.order.size() != n || a.streams < 0) return false;
  std::vector<std::int32_t> pos(n, -1);
  for (std::size_t p = 0; p < n; ++p) {
    const std::int32_t v = a.order[p];
    if (v < 0 || static_cast<std::size_t>(v) >= n || pos[static_cast<std::size_t>(v)] >= 0) {
      return false;
    }
    pos[static_cast<std::size_t>(v)] = static_cast<std::int32_t>(p);
  }
  for (const std::int32_t s : a.stream_of) {
    if (s < 0 || s >= a.streams) return false;
  }

  // The execution graph: each stream's nodes chained in issue order, plus the syncs. All its
  // edges point forward in a.order, so a.order is a topological order of it.
  std::vector<std::vector<std::int32_t>> run(n);
  std::vector<std::int32_t> last(static_cast<std::size_t>(a.streams), -1);
  for (const std::int32_t v : a.order) {
    auto& l = last[static_cast<std::size_t>(a.stream_of[static_cast<std::size_t>(v)])];
    if (l >= 0) run[static_cast<std::size_t>(l)].push_back(v);
    l = v;
  }
  for (const Sync& s : a.syncs) {
    if (s.from < 0 || s.to < 0 || static_cast<std::size_t>(s.from) >= n ||
        static_cast<std::size_t>(s.to) >= n) {
      return false;
    }
    if (pos[static_cast<std::size_t>(s.from)] >= pos[static_cast<std::size_t>(s.to)]) {
      return false;
    }
    run[static_cast<std::size_t>(s.from)].push_back(s.to);
  }

  bool ok = true;
  detail::for_each_reach_band(
      run, a.order, pos, [](std::int32_t, std::size_t, std::size_t, const std::uint64_t*) {},
      [&](std::int32_t u, std::size_t lo, std::size_t hi, const std::uint64_t* row) {
        for (const std::int32_t v : g_succ[static_cast<std::size_t>(u)]) {
          const auto pv = static_cast<std::size_t>(pos[static_cast<std::size_t>(v)]);
          // A target issued before its source can never be reached (pv < pos[u] < hi, and a
          // band below u holds no bits for it since rows only point forward).
          if (pv < static_cast<std::size_t>(pos[static_cast<std::size_t>(u)])) {
            ok = false;
          } else if (pv >= lo && pv < hi && !detail::test_bit(row, pv - lo)) {
            ok = false;
          }
        }
      });
  return ok;
}

}  // namespace schedulers::launch

#include <doctest/doctest.h>

#include "../support/dags.hpp"
#include "../support/test_rand.hpp"

#include <algorithm>
#include <bit>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/max_cardinality_matching.hpp>
#include <cstdint>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "schedulers/launch/bipartite_matching.hpp"
#include "schedulers/launch/dag.hpp"
#include "schedulers/launch/dag_internal.hpp"
#include "schedulers/launch/reachability.hpp"
#include "schedulers/launch/stream_assignment.hpp"

using namespace schedulers::launch;
using Ids = std::vector<std::int32_t>;
using testing::Edges;

namespace {

Dag make_dag(int n, const Edges& edges) {
  Dag g;
  g.preds.resize(static_cast<std::size_t>(n));
  for (const auto& [u, v] : edges) g.preds[static_cast<std::size_t>(v)].push_back(u);
  return g;
}

using testing::Rand;

// Random DAG with ids shuffled (so id order is not a topological order) and some duplicate
// predecessor entries.
Dag random_dag(Rand& rng, int n, double p) {
  std::vector<int> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  for (int i = n - 1; i > 0; --i)
    std::swap(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(rng.below(i + 1))]);
  Edges edges;
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      if (rng.chance(p)) {
        edges.emplace_back(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(j)]);
        if (rng.chance(0.05))
          edges.emplace_back(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(j)]);
      }
    }
  }
  return make_dag(n, edges);
}

using Matrix = std::vector<std::vector<char>>;

// reach[u][v]: a path of one or more edges from u to v (Floyd–Warshall).
Matrix reach_matrix(const Dag& g) {
  const std::size_t n = g.size();
  Matrix r(n, std::vector<char>(n, 0));
  for (std::size_t v = 0; v < n; ++v) {
    for (const auto u : g.preds[v]) r[static_cast<std::size_t>(u)][v] = 1;
  }
  for (std::size_t k = 0; k < n; ++k) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!r[i][k]) continue;
      for (std::size_t j = 0; j < n; ++j) r[i][j] = r[i][j] || r[k][j];
    }
  }
  return r;
}

Dag oracle_closure(const Dag& g) {
  const Matrix r = reach_matrix(g);
  Dag c;
  c.preds.resize(g.size());
  for (std::size_t v = 0; v < g.size(); ++v) {
    for (std::size_t u = 0; u < g.size(); ++u) {
      if (r[u][v]) c.preds[v].push_back(static_cast<std::int32_t>(u));
    }
  }
  return c;
}

Dag oracle_reduction(const Dag& g) {
  const Matrix r = reach_matrix(g);
  const std::size_t n = g.size();
  Dag m;
  m.preds.resize(n);
  for (std::size_t v = 0; v < n; ++v) {
    std::set<std::int32_t> preds(g.preds[v].begin(), g.preds[v].end());
    for (const auto u : preds) {
      bool implied = false;
      for (std::size_t w = 0; w < n && !implied; ++w)
        implied = r[static_cast<std::size_t>(u)][w] && r[w][v];
      if (!implied) m.preds[v].push_back(u);
    }
  }
  return m;
}

// Smallest-ready-first topological order, the slow obvious way.
Ids oracle_order(const Dag& g) {
  const std::size_t n = g.size();
  std::vector<char> done(n, 0);
  Ids order;
  while (order.size() < n) {
    for (std::size_t v = 0; v < n; ++v) {
      if (done[v]) continue;
      if (std::all_of(g.preds[v].begin(), g.preds[v].end(),
                      [&](std::int32_t u) { return done[static_cast<std::size_t>(u)] != 0; })) {
        done[v] = 1;
        order.push_back(static_cast<std::int32_t>(v));
        break;
      }
    }
  }
  return order;
}

BipartiteGraph bipartite_of(const Dag& g) {
  BipartiteGraph b;
  b.right = static_cast<std::int32_t>(g.size());
  b.adj.resize(g.size());
  for (std::size_t v = 0; v < g.size(); ++v) {
    for (const auto u : g.preds[v])
      b.adj[static_cast<std::size_t>(u)].push_back(static_cast<std::int32_t>(v));
  }
  return b;
}

// Boost.Graph's Edmonds maximum cardinality matching on the same bipartite graph: the oracle.
// Boost.Graph's Edmonds matching trips GCC 12's -Wmaybe-uninitialized at -O3 inside Boost's own
// headers (odd_components_counter); the oracle is Boost's code, not ours, so silence it here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
int boost_matching_size(const BipartiteGraph& b) {
  using G = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  const auto left = static_cast<int>(b.adj.size());
  G g(static_cast<std::size_t>(left + b.right));
  for (int l = 0; l < left; ++l) {
    for (const auto r : b.adj[static_cast<std::size_t>(l)])
      boost::add_edge(static_cast<std::size_t>(l), static_cast<std::size_t>(left + r), g);
  }
  std::vector<boost::graph_traits<G>::vertex_descriptor> mate(boost::num_vertices(g));
  REQUIRE(boost::checked_edmonds_maximum_cardinality_matching(g, mate.data()));
  return static_cast<int>(boost::matching_size(g, mate.data()));
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

void check_matching_valid(const BipartiteGraph& b, const Matching& m) {
  int size = 0;
  for (std::size_t l = 0; l < b.adj.size(); ++l) {
    const auto r = m.mate_of_left[l];
    if (r < 0) continue;
    ++size;
    CHECK(std::find(b.adj[l].begin(), b.adj[l].end(), r) != b.adj[l].end());
    CHECK(m.mate_of_right[static_cast<std::size_t>(r)] == static_cast<std::int32_t>(l));
  }
  CHECK(size == m.size);
  CHECK(std::count_if(m.mate_of_right.begin(), m.mate_of_right.end(),
                      [](auto l) { return l >= 0; }) == size);
}

std::vector<Sync> cross_stream_meg_edges(const Dag& g, const StreamAssignment& a) {
  const Dag meg = transitive_reduction(g);
  std::vector<Sync> out;
  for (std::size_t v = 0; v < meg.size(); ++v) {
    for (const auto u : meg.preds[v]) {
      if (a.stream_of[static_cast<std::size_t>(u)] != a.stream_of[v])
        out.push_back({u, static_cast<std::int32_t>(v)});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Largest antichain by brute force (n <= ~14): the minimum chain cover, by Dilworth.
int max_antichain(const Dag& g) {
  const Matrix r = reach_matrix(g);
  const int n = static_cast<int>(g.size());
  int best = 0;
  for (std::uint32_t set = 0; set < (1U << n); ++set) {
    const int k = std::popcount(set);
    if (k <= best) continue;
    bool ok = true;
    for (int i = 0; i < n && ok; ++i) {
      if (!(set >> i & 1U)) continue;
      for (int j = 0; j < n && ok; ++j)
        ok = !((set >> j & 1U) && r[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]);
    }
    if (ok) best = k;
  }
  return best;
}

// The structural promises of an assignment, whatever the variant.
void check_assignment_shape(const Dag& g, const StreamAssignment& a, MatchingGraph mg) {
  const std::size_t n = g.size();
  REQUIRE(a.stream_of.size() == n);
  CHECK(a.order == oracle_order(g));
  // Streams numbered by first node in issue order.
  std::int32_t next_new = 0;
  for (const auto v : a.order) {
    const auto s = a.stream_of[static_cast<std::size_t>(v)];
    CHECK(s <= next_new);
    if (s == next_new) ++next_new;
  }
  CHECK(next_new == a.streams);
  // Consecutive nodes of a stream are a MEG edge (MEG variant) or a path (closure variant).
  const Matrix r = reach_matrix(g);
  const Dag meg = transitive_reduction(g);
  std::vector<std::int32_t> last(static_cast<std::size_t>(a.streams), -1);
  for (const auto v : a.order) {
    auto& l = last[static_cast<std::size_t>(a.stream_of[static_cast<std::size_t>(v)])];
    if (l >= 0) {
      if (mg == MatchingGraph::minimum_equivalent) {
        const auto& p = meg.preds[static_cast<std::size_t>(v)];
        CHECK(std::find(p.begin(), p.end(), l) != p.end());
      } else {
        CHECK(r[static_cast<std::size_t>(l)][static_cast<std::size_t>(v)]);
      }
    }
    l = v;
  }
  CHECK(std::is_sorted(a.syncs.begin(), a.syncs.end()));
  CHECK(a.syncs == cross_stream_meg_edges(g, a));
  CHECK(respects_dependencies(g, a));
}

}  // namespace

TEST_CASE("a chain runs on one stream with no syncs") {
  const Dag g = make_dag(5, {{0, 1}, {1, 2}, {2, 3}, {3, 4}});
  for (const auto mg : {MatchingGraph::minimum_equivalent, MatchingGraph::transitive_closure}) {
    const StreamAssignment a = assign_streams(g, mg);
    CHECK(a.streams == 1);
    CHECK(a.stream_of == Ids{0, 0, 0, 0, 0});
    CHECK(a.syncs.empty());
    CHECK(a.order == Ids{0, 1, 2, 3, 4});
    CHECK(respects_dependencies(g, a));
  }
}

TEST_CASE("a diamond: two streams, two syncs") {
  // a=0 -> {b=1, c=2} -> d=3. Matching a-b, b-d (c's only MEG edge leads to d, taken), so
  // stream 0 = a b d, stream 1 = c, and c needs an event from a and one for d.
  const Dag g = make_dag(4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}});
  for (const auto mg : {MatchingGraph::minimum_equivalent, MatchingGraph::transitive_closure}) {
    const StreamAssignment a = assign_streams(g, mg);
    CHECK(a.streams == 2);
    CHECK(a.stream_of == Ids{0, 0, 1, 0});
    CHECK(a.syncs == std::vector<Sync>{{0, 2}, {2, 3}});
    CHECK(a.order == Ids{0, 1, 2, 3});
    CHECK(respects_dependencies(g, a));
  }
}

TEST_CASE("fork-join of width k needs k streams and 2(k-1) syncs") {
  for (int k = 1; k <= 8; ++k) {
    CAPTURE(k);
    // 0 -> 1..k -> k+1
    Edges e;
    for (int i = 1; i <= k; ++i) {
      e.emplace_back(0, i);
      e.emplace_back(i, k + 1);
    }
    const Dag g = make_dag(k + 2, e);
    for (const auto mg : {MatchingGraph::minimum_equivalent, MatchingGraph::transitive_closure}) {
      const StreamAssignment a = assign_streams(g, mg);
      CHECK(a.streams == k);
      CHECK(a.syncs.size() == static_cast<std::size_t>(2 * (k - 1)));
      CHECK(a.stream_of[0] == 0);
      CHECK(a.stream_of[1] == 0);
      CHECK(a.stream_of[static_cast<std::size_t>(k + 1)] == 0);
      check_assignment_shape(g, a, mg);
    }
  }
}

TEST_CASE("an edge implied transitively leaves the MEG") {
  const Dag g = make_dag(3, {{0, 1}, {1, 2}, {0, 2}});
  CHECK(transitive_reduction(g) == make_dag(3, {{0, 1}, {1, 2}}));
  CHECK(transitive_closure(g).preds == std::vector<Ids>{{}, {0}, {0, 1}});
  const StreamAssignment a = assign_streams(g);
  CHECK(a.streams == 1);
  CHECK(a.syncs.empty());
  // Duplicates and unsorted predecessor lists are accepted and normalised.
  Dag messy;
  messy.preds = {{}, {0, 0}, {1, 0, 1}};
  CHECK(transitive_reduction(messy) == make_dag(3, {{0, 1}, {1, 2}}));
  CHECK(transitive_closure(messy).preds == std::vector<Ids>{{}, {0}, {0, 1}});
}

TEST_CASE("an Inception-like block, as in Nimble's stream-assignment figure") {
  const Dag g = make_dag(10, testing::inception_block());
  const Dag meg = transitive_reduction(g);
  CHECK(meg.preds[9] == Ids{1, 3, 6, 8});
  CHECK(boost_matching_size(bipartite_of(meg)) == 6);
  const StreamAssignment a = assign_streams(g);
  // Matching 0-1, 1-9, 2-3, 4-5, 5-6, 7-8: one stream per branch, the first carrying 0 and 9.
  CHECK(a.streams == 4);
  CHECK(a.stream_of == Ids{0, 0, 1, 1, 2, 2, 2, 3, 3, 0});
  CHECK(a.syncs == std::vector<Sync>{{0, 2}, {0, 4}, {0, 7}, {3, 9}, {6, 9}, {8, 9}});
  check_assignment_shape(g, a, MatchingGraph::minimum_equivalent);
  const StreamAssignment c = assign_streams(g, MatchingGraph::transitive_closure);
  CHECK(c.streams == 4);  // the four branches are an antichain
  check_assignment_shape(g, c, MatchingGraph::transitive_closure);
}

TEST_CASE("matching on the closure can save streams") {
  // {0, 1} -> 2 -> {3, 4}: MEG chains can't pass through 2 twice (3 streams); the closure lets
  // 1 chain on to 3 past 2 (2 streams, a minimum chain cover).
  const Dag g = make_dag(5, {{0, 2}, {1, 2}, {2, 3}, {2, 4}});
  const StreamAssignment a = assign_streams(g);
  CHECK(a.streams == 3);
  CHECK(a.stream_of == Ids{0, 1, 0, 0, 2});
  CHECK(a.syncs == std::vector<Sync>{{1, 2}, {2, 4}});
  const StreamAssignment c = assign_streams(g, MatchingGraph::transitive_closure);
  CHECK(c.streams == 2);
  CHECK(c.stream_of == Ids{0, 1, 0, 1, 0});
  CHECK(c.syncs == std::vector<Sync>{{1, 2}, {2, 3}});
  CHECK(respects_dependencies(g, a));
  CHECK(respects_dependencies(g, c));
}

TEST_CASE("Hopcroft-Karp agrees with Boost's Edmonds matching on random bipartite graphs") {
  Rand rng{7};
  for (int t = 0; t < 300; ++t) {
    BipartiteGraph b;
    const int left = rng.below(25);
    b.right = rng.below(25) + 1;
    b.adj.resize(static_cast<std::size_t>(left));
    const double p = 0.02 + 0.3 * rng.below(100) / 100.0;
    for (auto& a : b.adj) {
      for (int r = b.right - 1; r >= 0; --r) {  // descending, and with repeats: HK sorts
        if (rng.chance(p)) a.push_back(r);
        if (rng.chance(p / 10)) a.push_back(r);
      }
    }
    const Matching m = hopcroft_karp(b);
    CAPTURE(t);
    check_matching_valid(b, m);
    CHECK(m.size == boost_matching_size(b));
    CHECK(hopcroft_karp(b) == m);
  }
  BipartiteGraph bad;
  bad.right = 2;
  bad.adj = {{0, 2}};
  CHECK_THROWS_AS(hopcroft_karp(bad), std::invalid_argument);
}

TEST_CASE("reduction and closure match brute force, also when cut into many bands") {
  Rand rng{11};
  for (int t = 0; t < 200; ++t) {
    const int n = 1 + rng.below(40);
    const Dag g = random_dag(rng, n, 0.02 + 0.4 * rng.below(100) / 100.0);
    CAPTURE(t);
    CHECK(transitive_reduction(g) == oracle_reduction(g));
    CHECK(transitive_closure(g) == oracle_closure(g));
    CHECK(topological_order(g) == oracle_order(g));
    // The band sweep with one 64-bit word per row: ceil(n / 64) bands... and with budgets that
    // make bands of 64 targets over larger graphs.
    const Matrix r = reach_matrix(g);
    const auto succ = schedulers::launch::detail::successors(g);
    const auto order = schedulers::launch::detail::topological_order(succ);
    const auto pos = schedulers::launch::detail::inverse(order);
    for (const std::size_t budget :
         {std::size_t{1}, std::size_t{2} * static_cast<std::size_t>(n), std::size_t{1} << 20}) {
      Matrix seen(static_cast<std::size_t>(n), std::vector<char>(static_cast<std::size_t>(n), 0));
      schedulers::launch::detail::for_each_reach_band(
          succ, order, pos, [](std::int32_t, std::size_t, std::size_t, const std::uint64_t*) {},
          [&](std::int32_t u, std::size_t lo, std::size_t hi, const std::uint64_t* row) {
            schedulers::launch::detail::for_each_bit(row, hi - lo, [&](std::size_t b) {
              seen[static_cast<std::size_t>(u)][static_cast<std::size_t>(order[lo + b])] = 1;
            });
          },
          budget);
      CHECK(seen == r);
    }
  }
  // Bands of 64 targets on a graph of a few hundred nodes (several bands, partial last band).
  for (int t = 0; t < 5; ++t) {
    const Dag g = random_dag(rng, 200 + 37 * t, 0.02);
    const Matrix r = reach_matrix(g);
    const auto succ = schedulers::launch::detail::successors(g);
    const auto order = schedulers::launch::detail::topological_order(succ);
    const auto pos = schedulers::launch::detail::inverse(order);
    Matrix seen(g.size(), std::vector<char>(g.size(), 0));
    int bands = 0;
    schedulers::launch::detail::for_each_reach_band(
        succ, order, pos, [](std::int32_t, std::size_t, std::size_t, const std::uint64_t*) {},
        [&](std::int32_t u, std::size_t lo, std::size_t hi, const std::uint64_t* row) {
          if (u == order[0]) ++bands;
          schedulers::launch::detail::for_each_bit(row, hi - lo, [&](std::size_t b) {
            seen[static_cast<std::size_t>(u)][static_cast<std::size_t>(order[lo + b])] = 1;
          });
        },
        g.size());  // one word per row
    CHECK(bands == static_cast<int>((g.size() + 63) / 64));
    CHECK(seen == r);
  }
}

TEST_CASE("random DAGs: streams = |V| - |M|, closure never worse, dependencies respected") {
  Rand rng{2020};
  for (int t = 0; t < 250; ++t) {
    const int n = 1 + rng.below(t < 150 ? 13 : 45);
    const Dag g = random_dag(rng, n, 0.03 + 0.5 * rng.below(100) / 100.0);
    CAPTURE(t);
    CAPTURE(n);
    const Dag meg = transitive_reduction(g);
    const StreamAssignment a = assign_streams(g);
    const int meg_matching = boost_matching_size(bipartite_of(meg));
    CHECK(hopcroft_karp(bipartite_of(meg)).size == meg_matching);
    CHECK(a.streams == n - meg_matching);
    check_assignment_shape(g, a, MatchingGraph::minimum_equivalent);

    const StreamAssignment c = assign_streams(g, MatchingGraph::transitive_closure);
    const BipartiteGraph closure = bipartite_of(transitive_closure(g));
    const Matching cm = closure_matching(g);
    check_matching_valid(closure, cm);
    const int closure_matching_size = boost_matching_size(closure);
    CHECK(cm.size == closure_matching_size);
    CHECK(hopcroft_karp(closure).size == closure_matching_size);
    CHECK(closure_matching(meg).size == closure_matching_size);
    CHECK(c.streams == n - closure_matching_size);
    CHECK(c.streams <= a.streams);
    if (n <= 13) CHECK(c.streams == max_antichain(g));
    check_assignment_shape(g, c, MatchingGraph::transitive_closure);

    // Every sync is needed: without any one of them some dependency is unprotected.
    for (const StreamAssignment* s : {&a, &c}) {
      for (std::size_t i = 0; i < std::min<std::size_t>(s->syncs.size(), 4); ++i) {
        StreamAssignment broken = *s;
        broken.syncs.erase(broken.syncs.begin() + static_cast<std::ptrdiff_t>(i));
        CHECK_FALSE(respects_dependencies(g, broken));
      }
    }
  }
}

TEST_CASE("respects_dependencies rejects broken assignments") {
  const Dag g = make_dag(4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}});
  const StreamAssignment good = assign_streams(g);
  REQUIRE(respects_dependencies(g, good));

  StreamAssignment a = good;
  a.syncs.pop_back();  // d no longer waits for c
  CHECK_FALSE(respects_dependencies(g, a));

  a = good;
  a.syncs.clear();
  CHECK_FALSE(respects_dependencies(g, a));

  a = good;
  a.stream_of[2] = 0;  // c joins stream 0 after b: still fine (c after a, before d)...
  CHECK(respects_dependencies(g, a));
  a.order = {0, 2, 1, 3};
  a.stream_of = {0, 1, 0, 0};  // ...but here b is alone on stream 1 and waits for nothing
  a.syncs = {{2, 3}};
  CHECK_FALSE(respects_dependencies(g, a));

  a = good;
  a.order = {0, 1, 3, 2};  // not topological: d issued before c, the wait sees no event yet
  CHECK_FALSE(respects_dependencies(g, a));

  a = good;
  a.syncs.push_back({3, 1});  // a sync pointing backwards in issue order
  CHECK_FALSE(respects_dependencies(g, a));

  a = good;
  a.stream_of[1] = 5;  // no such stream
  CHECK_FALSE(respects_dependencies(g, a));

  a = good;
  a.order = {0, 1, 1, 3};  // not a permutation
  CHECK_FALSE(respects_dependencies(g, a));

  a = good;
  a.stream_of.pop_back();
  CHECK_FALSE(respects_dependencies(g, a));

  a = good;
  a.syncs.push_back({0, 9});
  CHECK_FALSE(respects_dependencies(g, a));

  // One stream in issue order needs no syncs at all.
  a = good;
  a.streams = 1;
  a.stream_of = {0, 0, 0, 0};
  a.syncs.clear();
  CHECK(respects_dependencies(g, a));
}

TEST_CASE("cycles and bad ids are rejected with std::invalid_argument") {
  // 0 -> 1 -> 2 -> 0, with 3 downstream of the cycle and 4 independent.
  const Dag cyclic = make_dag(5, {{0, 1}, {1, 2}, {2, 0}, {2, 3}});
  const auto on_cycle = [](const std::invalid_argument& e) {
    const std::string what = e.what();
    return what.find("cycle through node 0") != std::string::npos ||
           what.find("cycle through node 1") != std::string::npos ||
           what.find("cycle through node 2") != std::string::npos;
  };
  const auto expect_cycle = [&](auto&& f) {
    try {
      f();
      FAIL("no exception");
    } catch (const std::invalid_argument& e) {
      CHECK_MESSAGE(on_cycle(e), e.what());
    }
  };
  expect_cycle([&] { (void)topological_order(cyclic); });
  expect_cycle([&] { (void)transitive_reduction(cyclic); });
  expect_cycle([&] { (void)transitive_closure(cyclic); });
  expect_cycle([&] { (void)assign_streams(cyclic); });
  expect_cycle([&] { (void)assign_streams(cyclic, MatchingGraph::transitive_closure); });
  expect_cycle([&] { (void)closure_matching(cyclic); });
  expect_cycle([&] { (void)respects_dependencies(cyclic, StreamAssignment{}); });

  CHECK_THROWS_WITH_AS(assign_streams(make_dag(3, {{0, 1}, {2, 2}})),
                       doctest::Contains("cycle through node 2"), std::invalid_argument);
  Dag out_of_range;
  out_of_range.preds = {{}, {7}};
  CHECK_THROWS_WITH_AS(assign_streams(out_of_range), doctest::Contains("predecessor 7"),
                       std::invalid_argument);
  out_of_range.preds = {{}, {-1}};
  CHECK_THROWS_AS(transitive_reduction(out_of_range), std::invalid_argument);
}

TEST_CASE("the empty graph") {
  const StreamAssignment a = assign_streams(Dag{});
  CHECK(a.streams == 0);
  CHECK(a.stream_of.empty());
  CHECK(a.order.empty());
  CHECK(respects_dependencies(Dag{}, a));
  CHECK(transitive_reduction(Dag{}).size() == 0);
}

namespace {

// A NASNet-like training graph: `cells` cells of `width` branches (depth 2) fed by the two
// previous cell outputs, then the backward pass mirrored, each backward op also reading its
// forward op's activation (the long edges that make training graphs hard).
Dag nasnet_like_training(int cells, int width) {
  Edges e;
  int next = 0;
  int prev2 = next++, prev1 = next++;
  e.emplace_back(prev2, prev1);
  for (int c = 0; c < cells; ++c) {
    const int concat = next + 2 * width;
    for (int b = 0; b < width; ++b) {
      const int x = next++, y = next++;
      e.emplace_back(b % 2 ? prev1 : prev2, x);
      if (b % 3 == 0) e.emplace_back(prev1, x);
      e.emplace_back(x, y);
      e.emplace_back(y, concat);
    }
    ++next;
    prev2 = prev1;
    prev1 = concat;
  }
  // Backward: op i's gradient depends on the gradient of everything it fed and on op i.
  const int fwd_count = next;
  std::vector<std::pair<int, int>> fwd_edges = e;
  for (int i = 0; i < fwd_count; ++i) e.emplace_back(i, fwd_count + i);
  for (const auto& [u, v] : fwd_edges) e.emplace_back(fwd_count + v, fwd_count + u);
  return make_dag(2 * fwd_count, e);
}

}  // namespace

TEST_CASE("a 20k-node training graph, several reachability bands deep") {
  const Dag g = nasnet_like_training(/*cells=*/900, /*width=*/5);
  REQUIRE(g.size() > 19000);
  const StreamAssignment a = assign_streams(g);
  // Every forward->gradient edge but the last is implied (x -> y -> grad y -> grad x), so the
  // MEG is the forward DAG, its mirror and one bridge: per cell, 4 of the 5 branch chains end
  // at the concat going forward and 4 start at the concat going backward.
  CHECK(a.streams == 8 * 900 + 1);
  CHECK(a.syncs.size() == 16 * 900);  // golden
  CHECK(respects_dependencies(g, a));
  StreamAssignment broken = a;
  REQUIRE(!broken.syncs.empty());
  broken.syncs.erase(broken.syncs.begin() + static_cast<std::ptrdiff_t>(broken.syncs.size() / 2));
  CHECK_FALSE(respects_dependencies(g, broken));
  const StreamAssignment c = assign_streams(g, MatchingGraph::transitive_closure);
  // Widest antichain: a cell's 5 branches plus the next cell's 2 branches (b = 2, 4) that read
  // only the cell before.
  CHECK(c.streams == 7);
  CHECK(respects_dependencies(g, c));
  CHECK(assign_streams(g) == a);
}

TEST_CASE("determinism: same input, identical output") {
  Rand rng{99};
  const Dag g = random_dag(rng, 400, 0.01);
  for (const auto mg : {MatchingGraph::minimum_equivalent, MatchingGraph::transitive_closure}) {
    const StreamAssignment a = assign_streams(g, mg);
    const StreamAssignment b = assign_streams(Dag{g}, mg);
    CHECK(a == b);
    CHECK(respects_dependencies(g, a));
  }
}

// The launch policies' plans executed: hand-made kernel DAGs planned by eager, graph and nimble
// (MEG and closure matchings), run through models::HostRuntime on a models::Gpu, every kernel's
// start and end recorded with the GPU's kernel observer. Checks, on each DAG:
// - no dependency is violated in the simulated execution: end(u) <= start(v) for every u -> v,
//   every kernel runs exactly once, kernels of one nimble stream never overlap;
// - nimble's streams = |V| - |M| (M a maximum matching of the MEG's, or closure's, bipartite
//   graph, sized here by plain augmenting paths as an oracle) = assign_streams' count;
// - the cross-stream edges of nimble's captured graph are exactly its syncs, which are the
//   cross-stream MEG edges, and each is needed (dropping any one breaks a dependency);
// - on a fork-join of wide independent branches of small kernels, nimble beats graph replay.

#include <doctest/doctest.h>

#include "../support/dags.hpp"
#include "../support/test_rand.hpp"

#include "../support/toy_gpu.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/gpu.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/launch/dag.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "schedulers/launch/stream_assignment.hpp"
#include "sim/config.hpp"
#include "sim/registry.hpp"
#include "sim/simulator.hpp"

using namespace schedulers::launch;
using sim::Time;
using testing::Edges;

namespace {

// 8 SMs, 1 TFLOP/s FP32 (125 GFLOP/s per SM), 100 GB/s DRAM, microsecond-scale launch costs.
models::GpuSpec small_gpu() { return testing::toy_gpu(8, Time::us(3)); }

models::HostCosts host_costs() {
  models::HostCosts h;
  h.per_op = Time::us(4);
  h.per_launch = Time::us(2);
  h.event_record = Time::us(1);
  h.event_wait = Time::us(1);
  h.graph_launch = Time::us(5);
  h.graph_node = Time::ns(500);
  return h;
}

// `ctas` CTAs of 256 threads, each 1.25 MFLOP (10 us alone on an SM) plus `bytes` of DRAM,
// with the SM's whole shared memory (one CTA per SM, as a large-tile GEMM): the dispatcher fills
// SMs in index order, so kernels that may share an SM would stack on SM 0 and split it.
workloads::KernelDesc tiny_kernel(int id, std::int64_t ctas = 1, double bytes = 0) {
  workloads::KernelDesc k;
  k.name = "k" + std::to_string(id);
  k.op = id;
  k.grid = {ctas, 1, 1};
  k.block = {256, 1, 1};
  k.shared_mem_per_cta = 96 << 10;
  k.flops = 1.25e6 * static_cast<double>(ctas);
  k.dram_bytes = bytes;
  return k;
}

// A TaskGraph over n kernels with edges u -> v, u < v (ids are a topological order, as
// lowering guarantees); kernel i is op i.
workloads::TaskGraph task_graph(const std::string& name, int n, const Edges& edges,
                                std::vector<workloads::KernelDesc> kernels = {}) {
  workloads::TaskGraph g;
  g.name = name;
  if (kernels.empty())
    for (int i = 0; i < n; ++i) kernels.push_back(tiny_kernel(i));
  g.kernels = std::move(kernels);
  g.deps.resize(static_cast<std::size_t>(n));
  for (const auto& [u, v] : edges) {
    REQUIRE(u < v);
    g.deps[static_cast<std::size_t>(v)].push_back(u);
  }
  for (int i = 0; i < n; ++i) {
    g.first_kernel_of_op.push_back(i);
  }
  g.ops = static_cast<std::size_t>(n);
  return g;
}

struct Policies {
  sim::PluginCatalog catalog;
  std::unique_ptr<models::KernelCost> cost;
  std::map<std::string, std::unique_ptr<LaunchPolicy>> by_name;
  Policies() {
    models::register_roofline_cost(catalog);
    register_launch_policies(catalog);
    cost = models::kernel_costs(catalog).create("roofline", params("{}"));
    auto& launch = launch_policies(catalog);
    by_name["eager"] = launch.create("eager", params("{}"));
    by_name["graph"] = launch.create("graph", params("{}"));
    by_name["nimble"] = launch.create("nimble", params("{matching: meg}"));
    by_name["nimble-closure"] = launch.create("nimble", params("{matching: closure}"));
  }
  static sim::Config params(const char* yaml) {
    return sim::Config(sim::parse_yaml(yaml, "test"), "");
  }
};

struct Execution {
  models::HostProgram program;
  std::vector<Time> start, end;
  std::vector<int> runs;  // times each kernel ran
  Time latency;
};

// Runs `program` (a plan of g) and records every kernel's start and end.
Execution simulate(const Policies& p, models::HostProgram program, const workloads::TaskGraph& g) {
  Execution x;
  const models::HostCosts costs = host_costs();
  x.program = std::move(program);
  const std::size_t n = g.kernels.size();
  x.start.assign(n, Time::zero());
  x.end.assign(n, Time::zero());
  x.runs.assign(n, 0);
  sim::Simulator sim;
  models::Gpu gpu(sim, small_gpu(), *p.cost);
  gpu.on_kernel([&](const workloads::KernelDesc& k, Time s, Time e) {
    // HostRuntime launches the descriptors of g.kernels itself: the address is the index.
    const auto i = static_cast<std::size_t>(&k - g.kernels.data());
    REQUIRE(i < n);
    REQUIRE(k.name == g.kernels[i].name);
    x.start[i] = s;
    x.end[i] = e;
    ++x.runs[i];
  });
  models::HostRuntime host(sim, gpu, costs);
  bool done = false;
  host.run(x.program, g.kernels, [&] {
    x.latency = sim.now();
    done = true;
  });
  sim.run();
  REQUIRE(done);
  return x;
}

Execution execute(const Policies& p, const std::string& policy, const workloads::TaskGraph& g) {
  return simulate(p, p.by_name.at(policy)->plan(g, host_costs()), g);
}

// Dependencies u -> v of g that the execution ran out of order.
int violations(const workloads::TaskGraph& g, const Execution& x) {
  int bad = 0;
  for (std::size_t v = 0; v < g.kernels.size(); ++v)
    for (const std::int32_t u : g.deps[v]) bad += x.end[static_cast<std::size_t>(u)] > x.start[v];
  return bad;
}

void check_dependencies(const workloads::TaskGraph& g, const Execution& x) {
  for (std::size_t v = 0; v < g.kernels.size(); ++v) {
    CAPTURE(v);
    CHECK(x.runs[v] == 1);
    CHECK(x.start[v] <= x.end[v]);
    CHECK(x.end[v] <= x.latency);
    for (const std::int32_t u : g.deps[v]) {
      CAPTURE(u);
      CHECK(x.end[static_cast<std::size_t>(u)] <= x.start[v]);
    }
  }
}

Dag dag_of(const workloads::TaskGraph& g) {
  Dag d;
  d.preds = g.deps;
  return d;
}

// |M| of the bipartite graph left u -- right v per edge u -> v of `d`: Kuhn's augmenting
// paths, written out here as an oracle independent of the planner's Hopcroft-Karp.
int matching_size(const Dag& d) {
  const std::size_t n = d.size();
  std::vector<std::vector<std::int32_t>> succ(n);
  for (std::size_t v = 0; v < n; ++v)
    for (const auto u : d.preds[v])
      succ[static_cast<std::size_t>(u)].push_back(static_cast<std::int32_t>(v));
  std::vector<std::int32_t> mate_of_right(n, -1);
  std::vector<char> seen;
  std::function<bool(std::int32_t)> augment = [&](std::int32_t u) {
    for (const auto v : succ[static_cast<std::size_t>(u)]) {
      if (seen[static_cast<std::size_t>(v)]) continue;
      seen[static_cast<std::size_t>(v)] = 1;
      const std::int32_t m = mate_of_right[static_cast<std::size_t>(v)];
      if (m < 0 || augment(m)) {
        mate_of_right[static_cast<std::size_t>(v)] = u;
        return true;
      }
    }
    return false;
  };
  int size = 0;
  for (std::size_t u = 0; u < n; ++u) {
    seen.assign(n, 0);
    size += augment(static_cast<std::int32_t>(u));
  }
  return size;
}

// The nimble-specific checks on one matching mode; returns the stream count.
int check_nimble_plan(const workloads::TaskGraph& g, const Execution& x, MatchingGraph mg) {
  const Dag dag = dag_of(g);
  const Dag meg = transitive_reduction(dag);
  const StreamAssignment a = assign_streams(dag, mg);
  const int v = static_cast<int>(g.kernels.size());
  const int m =
      matching_size(mg == MatchingGraph::minimum_equivalent ? meg : transitive_closure(dag));
  REQUIRE(x.program.graphs.size() == 1);
  const models::DeviceGraph& d = x.program.graphs[0];
  REQUIRE(d.stream_of.size() == g.kernels.size());
  const int streams = *std::max_element(d.stream_of.begin(), d.stream_of.end()) + 1;
  CHECK(streams == v - m);
  CHECK(streams == a.streams);
  CHECK(d.stream_of == a.stream_of);

  // Captured edges: stream order (|V| - streams of them) plus one per sync, nothing else.
  std::size_t same_stream = 0;
  std::vector<Sync> cross;
  for (std::size_t to = 0; to < d.deps.size(); ++to)
    for (const std::int32_t from : d.deps[to]) {
      if (d.stream_of[static_cast<std::size_t>(from)] == d.stream_of[to])
        ++same_stream;
      else
        cross.push_back({from, static_cast<std::int32_t>(to)});
    }
  std::sort(cross.begin(), cross.end());
  CHECK(same_stream == static_cast<std::size_t>(v - streams));
  CHECK(cross == a.syncs);
  // Minimal: the syncs are the cross-stream MEG edges, and none of them can go.
  std::vector<Sync> meg_cross;
  for (std::size_t to = 0; to < meg.size(); ++to)
    for (const std::int32_t from : meg.preds[to])
      if (a.stream_of[static_cast<std::size_t>(from)] != a.stream_of[to])
        meg_cross.push_back({from, static_cast<std::int32_t>(to)});
  std::sort(meg_cross.begin(), meg_cross.end());
  CHECK(a.syncs == meg_cross);
  CHECK(respects_dependencies(dag, a));
  for (std::size_t i = 0; i < a.syncs.size(); ++i) {
    StreamAssignment fewer = a;
    fewer.syncs.erase(fewer.syncs.begin() + static_cast<std::ptrdiff_t>(i));
    CAPTURE(i);
    CHECK_FALSE(respects_dependencies(dag, fewer));
  }

  // In the simulation, the kernels of one stream ran one after the other, in issue order.
  std::vector<Time> stream_free(static_cast<std::size_t>(streams), Time::zero());
  for (const std::int32_t k : a.order) {
    const auto s = static_cast<std::size_t>(a.stream_of[static_cast<std::size_t>(k)]);
    CHECK(stream_free[s] <= x.start[static_cast<std::size_t>(k)]);
    stream_free[s] = x.end[static_cast<std::size_t>(k)];
  }
  return streams;
}

struct Case {
  int meg_streams, closure_streams;
};

// Runs every policy on g; returns latency per policy.
std::map<std::string, Time> run_all(const Policies& p, const workloads::TaskGraph& g,
                                    const Case* expected = nullptr) {
  std::map<std::string, Time> latency;
  for (const auto& entry : p.by_name) {
    const auto& name = entry.first;  // named: CAPTURE's lambda captures it (clang 14)
    CAPTURE(g.name);
    CAPTURE(name);
    const Execution x = execute(p, name, g);
    check_dependencies(g, x);
    latency[name] = x.latency;
    if (name == "nimble") {
      const int s = check_nimble_plan(g, x, MatchingGraph::minimum_equivalent);
      if (expected) CHECK(s == expected->meg_streams);
    } else if (name == "nimble-closure") {
      const int s = check_nimble_plan(g, x, MatchingGraph::transitive_closure);
      if (expected) CHECK(s == expected->closure_streams);
    } else if (name == "graph") {
      REQUIRE(x.program.graphs.size() == 1);
      CHECK(std::all_of(x.program.graphs[0].stream_of.begin(), x.program.graphs[0].stream_of.end(),
                        [](int s) { return s == 0; }));
    }
  }
  return latency;
}

Edges fork_join(int width, int depth) {
  // 0 -> width branches of `depth` kernels each -> last.
  Edges e;
  const int last = 1 + width * depth;
  for (int b = 0; b < width; ++b) {
    const int first = 1 + b * depth;
    e.emplace_back(0, first);
    for (int i = 1; i < depth; ++i) e.emplace_back(first + i - 1, first + i);
    e.emplace_back(first + depth - 1, last);
  }
  return e;
}

using testing::Rand;

}  // namespace

TEST_CASE("launch policies in simulation: a chain") {
  const Policies p;
  const auto g = task_graph("chain", 6, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}});
  const Case c{1, 1};
  run_all(p, g, &c);
}

TEST_CASE("launch policies in simulation: a diamond") {
  const Policies p;
  const auto g = task_graph("diamond", 4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}});
  const Case c{2, 2};
  run_all(p, g, &c);
}

TEST_CASE("launch policies in simulation: fork-join of width 4") {
  const Policies p;
  const auto g = task_graph("fork-join", 6, fork_join(4, 1));
  const Case c{4, 4};
  run_all(p, g, &c);
}

TEST_CASE("launch policies in simulation: an Inception-like block") {
  // testing::inception_block(); branch kernels of different sizes, one of them also DRAM-bound.
  const Policies p;
  std::vector<workloads::KernelDesc> k;
  for (int i = 0; i < 10; ++i) k.push_back(tiny_kernel(i, 1 + i % 3, i % 4 == 2 ? 2e6 : 0));
  const auto g = task_graph("inception", 10, testing::inception_block(), k);
  const Case c{4, 4};
  run_all(p, g, &c);
}

TEST_CASE("launch policies in simulation: the closure matching saves a stream") {
  // {0, 1} -> 2 -> {3, 4}: 3 streams on MEG chains, 2 on the closure.
  const Policies p;
  const auto g = task_graph("bowtie", 5, {{0, 2}, {1, 2}, {2, 3}, {2, 4}});
  const Case c{3, 2};
  run_all(p, g, &c);
}

TEST_CASE("launch policies in simulation: random DAGs of 60 kernels") {
  const Policies p;
  Rand rng{20250601};
  for (int trial = 0; trial < 4; ++trial) {
    CAPTURE(trial);
    const int n = 60;
    Edges e;
    const double density = trial % 2 ? 0.04 : 0.10;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j)
        if (rng.chance(density)) e.emplace_back(i, j);
    std::vector<workloads::KernelDesc> k;
    for (int i = 0; i < n; ++i)
      k.push_back(tiny_kernel(i, 1 + rng.below(24), rng.chance(0.3) ? 1e5 * rng.below(50) : 0));
    run_all(p, task_graph("random", n, e, k));
  }
}

TEST_CASE("nimble is never slower than graph replay on wide independent branches") {
  // Branches of small kernels (one CTA on an SM of its own, 10 us) that co-run on the 8 SMs: graph
  // replay runs them one after the other, nimble side by side.
  const Policies p;
  for (const auto& shape : std::vector<std::pair<int, int>>{{4, 1}, {4, 3}, {8, 2}}) {
    const int width = shape.first, depth = shape.second;  // named: CAPTURE captures them
    CAPTURE(width);
    CAPTURE(depth);
    const int n = 2 + width * depth;
    const auto g = task_graph("wide", n, fork_join(width, depth));
    const auto latency = run_all(p, g);
    CHECK(latency.at("nimble") <= latency.at("graph"));
    CHECK(latency.at("nimble-closure") <= latency.at("graph"));
    // With `width` branches side by side, the branch part takes about a width-th of the time.
    CHECK(latency.at("nimble").seconds() < 0.6 * latency.at("graph").seconds());
    CHECK(latency.at("graph") < latency.at("eager"));
  }
}

TEST_CASE("the dependency check catches a plan that drops a needed sync") {
  // Diamond 0 -> {1, 2} -> 3 with a long kernel 2 (3 waves of 8 CTAs): nimble puts 0 1 3 on
  // stream 0 and 2 on stream 1, joined by the sync 2 -> 3. Without it, 3 starts early.
  const Policies p;
  std::vector<workloads::KernelDesc> k{tiny_kernel(0), tiny_kernel(1), tiny_kernel(2, 24),
                                       tiny_kernel(3)};
  const auto g = task_graph("diamond", 4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}, k);
  models::HostProgram plan = p.by_name.at("nimble")->plan(g, host_costs());
  CHECK(violations(g, simulate(p, plan, g)) == 0);
  auto& deps3 = plan.graphs.at(0).deps.at(3);
  REQUIRE(std::find(deps3.begin(), deps3.end(), 2) != deps3.end());
  deps3.erase(std::find(deps3.begin(), deps3.end(), 2));
  CHECK(violations(g, simulate(p, plan, g)) == 1);
}

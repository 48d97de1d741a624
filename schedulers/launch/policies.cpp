// The built-in launch policies: eager, graph, nimble.

#include <fmt/format.h>

#include "schedulers/launch/launch_policy.hpp"
#include "sim/params.hpp"
#include "schedulers/launch/stream_assignment.hpp"

namespace schedulers::launch {
namespace {

using Kind = models::HostCommand::Kind;

class Eager final : public LaunchPolicy {
 public:
  static const sim::ParamSchema& schema() {
    static const sim::ParamSchema s = sim::schema(R"(
host_mode | string | eager | eager | scripted (TorchScript)
)");
    return s;
  }
  explicit Eager(const sim::Config& c) : mode_(sim::Params(c, schema()).string("host_mode")) {
    if (mode_ != "eager" && mode_ != "scripted")
      c.at("host_mode")
          .fail(fmt::format("'{}': eager launches use host_mode eager or scripted", mode_));
  }
  std::string host_mode() const override { return mode_; }

  models::HostProgram plan(const workloads::TaskGraph& g,
                           const models::HostCosts& costs) const override {
    models::HostProgram p;
    // Kernels come op by op in a topological order of the ops: framework work for the op, then
    // one launch per kernel on the default stream.
    std::int32_t last_op = -1;
    for (std::size_t k = 0; k < g.kernels.size(); ++k) {
      const std::int32_t op = g.kernels[k].op;
      if (op != last_op) {
        models::HostCommand w;
        w.kind = Kind::work;
        w.duration = costs.per_op;
        w.label = g.kernels[k].name;
        p.commands.push_back(std::move(w));
        last_op = op;
      }
      models::HostCommand l;
      l.kind = Kind::launch;
      l.kernel = static_cast<std::int32_t>(k);
      p.commands.push_back(l);
    }
    models::HostCommand sync;
    sync.kind = Kind::synchronize;
    p.commands.push_back(sync);
    return p;
  }

 private:
  std::string mode_;
};

models::HostProgram replay(models::DeviceGraph graph) {
  models::HostProgram p;
  p.graphs.push_back(std::move(graph));
  models::HostCommand l;
  l.kind = Kind::graph_launch;
  l.graph = 0;
  p.commands.push_back(l);
  models::HostCommand sync;
  sync.kind = Kind::synchronize;
  p.commands.push_back(sync);
  return p;
}

// Captured from one stream: every kernel depends on the one issued before it.
class Graph final : public LaunchPolicy {
 public:
  explicit Graph(const sim::Config&) {}
  std::string host_mode() const override { return "graph"; }
  models::HostProgram plan(const workloads::TaskGraph& g, const models::HostCosts&) const override {
    models::DeviceGraph d;
    for (std::size_t k = 0; k < g.kernels.size(); ++k) {
      d.kernels.push_back(static_cast<std::int32_t>(k));
      d.deps.push_back(k ? std::vector<std::int32_t>{static_cast<std::int32_t>(k - 1)}
                         : std::vector<std::int32_t>{});
      d.stream_of.push_back(0);
    }
    return replay(std::move(d));
  }
};

class Nimble final : public LaunchPolicy {
 public:
  static const sim::ParamSchema& schema() {
    static const sim::ParamSchema s = sim::schema(R"(
matching | string | meg | meg | closure (fewest streams, more syncs)
)");
    return s;
  }
  explicit Nimble(const sim::Config& c) {
    const std::string m = sim::Params(c, schema()).string("matching");
    if (m == "meg")
      matching_ = MatchingGraph::minimum_equivalent;
    else if (m == "closure")
      matching_ = MatchingGraph::transitive_closure;
    else
      c.at("matching").fail(fmt::format("'{}': matching is meg or closure", m));
  }
  std::string host_mode() const override { return "graph"; }

  models::HostProgram plan(const workloads::TaskGraph& g, const models::HostCosts&) const override {
    Dag dag;
    dag.preds = g.deps;
    const StreamAssignment a = assign_streams(dag, matching_);
    // The captured graph: stream order plus one edge per sync (CUDA turns the event record /
    // wait pair of a capture into exactly that edge).
    const std::size_t n = g.kernels.size();
    models::DeviceGraph d;
    d.kernels.resize(n);
    d.deps.resize(n);
    d.stream_of = a.stream_of;
    std::vector<std::int32_t> last_on_stream(static_cast<std::size_t>(a.streams), -1);
    for (std::int32_t v : a.order) {
      const auto s = static_cast<std::size_t>(a.stream_of[static_cast<std::size_t>(v)]);
      d.kernels[static_cast<std::size_t>(v)] = v;
      if (last_on_stream[s] >= 0) d.deps[static_cast<std::size_t>(v)].push_back(last_on_stream[s]);
      last_on_stream[s] = v;
    }
    for (const Sync& s : a.syncs) d.deps[static_cast<std::size_t>(s.to)].push_back(s.from);
    return replay(std::move(d));
  }

 private:
  MatchingGraph matching_ = MatchingGraph::minimum_equivalent;
};

}  // namespace

void register_launch_policies(sim::PluginCatalog& c) {
  auto& r = launch_policies(c);
  r.add("eager", "one stream, framework work per op, one launch per kernel (PyTorch eager)",
        Eager::schema(), [](const sim::Config& cfg) { return std::make_unique<Eager>(cfg); });
  r.add("graph", "captured once from one stream, replayed as one CUDA graph", {},
        [](const sim::Config& cfg) { return std::make_unique<Graph>(cfg); });
  r.add("nimble", "graph replay + Nimble stream assignment (MEG, bipartite matching, syncs)",
        Nimble::schema(), [](const sim::Config& cfg) { return std::make_unique<Nimble>(cfg); });
}

}  // namespace schedulers::launch

// The built-in collective algorithms: ring, tree (double binary), halving-doubling, in-network
// (switch reduces and multicasts) and hierarchical (inside nodes, then across them).
//
// Per-GPU DRAM traffic of the reduce/copy kernels, per byte a link carries (NCCL's simple
// protocol writes straight into the peer's buffer, so each received byte is written once):
//   reduce step  read own + read received + the write of the peer into us  = 3
//   copy step    the write of the peer into us + read to forward            = 2
// In-network, the GPU only reads what it pushes and takes the multicast write: 1 + 1.

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "interconnect/collective.hpp"
#include "sim/error.hpp"
#include "sim/nearest.hpp"

namespace interconnect {

std::string_view op_name(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce: return "all_reduce";
    case CollectiveOp::reduce_scatter: return "reduce_scatter";
    case CollectiveOp::all_gather: return "all_gather";
    case CollectiveOp::broadcast: return "broadcast";
    case CollectiveOp::send_recv: return "send_recv";
  }
  return "?";
}

std::vector<std::string> op_names() {
  return {"all_reduce", "reduce_scatter", "all_gather", "broadcast", "send_recv"};
}

CollectiveOp parse_op(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(CollectiveOp::send_recv); ++i)
    if (op_name(static_cast<CollectiveOp>(i)) == name) return static_cast<CollectiveOp>(i);
  throw sim::InputError(fmt::format("unknown collective operation '{}'{}; known: {}", name,
                                    sim::did_you_mean(name, op_names()),
                                    fmt::join(op_names(), ", ")));
}

double bus_factor(CollectiveOp op, int n) {
  const double r = n > 1 ? static_cast<double>(n - 1) / n : 0.0;
  switch (op) {
    case CollectiveOp::all_reduce: return 2 * r;
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::all_gather: return r;
    default: return 1;
  }
}

namespace {

using Edge = std::pair<int, int>;  // GPU a sends to GPU b

// Routes that move in lockstep as few flows as possible: each flow crosses a resource once, so
// a route sharing a resource with an earlier one goes to a later flow (and they share it).
// Returns the largest route latency.
sim::Time lockstep(const Topology& t, const std::vector<Edge>& edges, double coef,
                   std::vector<FlowSpec>& out) {
  std::vector<std::uint32_t> group(t.resources(), 0);  // 1 + index of the flow using it
  const std::size_t first = out.size();
  std::vector<Topology::Res> hops;
  sim::Time lat;
  for (const Edge& e : edges) {
    hops.clear();
    lat = std::max(lat, t.route(e.first, e.second, hops));
    std::uint32_t g = 0;
    for (auto r : hops) g = std::max(g, group[r]);
    if (first + g >= out.size()) out.push_back(FlowSpec{{}, coef});
    for (auto r : hops) {
      group[r] = g + 1;
      out[first + g].path.push_back(r);
    }
  }
  return lat;
}

// Every GPU's link up to its node switch, and down from it.
std::pair<std::vector<Topology::Res>, std::vector<Topology::Res>> switch_ports(const Topology& t) {
  std::vector<Topology::Res> up, down;
  for (int i = 0; i < t.gpus(); ++i) {
    up.push_back(t.gpu_up(i));
    down.push_back(t.gpu_down(i));
  }
  return {std::move(up), std::move(down)};
}

// A flow over given resources (in-network: ports and engines), sent by the GPUs.
FlowSpec flow(std::vector<Topology::Res> path, double coef) {
  return FlowSpec{std::move(path), coef, true};
}
// A switch's multicast down to the GPUs.
FlowSpec multicast(std::vector<Topology::Res> path, double coef) {
  return FlowSpec{std::move(path), coef, false};
}

Phase named(std::string name) {
  Phase p;
  p.name = std::move(name);
  return p;
}

Plan host_plan(const Topology& t, CollectiveOp op, std::string algo) {
  Plan p;
  p.algorithm = std::move(algo);
  p.op = op;
  p.chunk = t.spec().kernels.chunk;
  p.window = t.spec().kernels.pipeline_depth;
  p.ctas = t.spec().kernels.ctas;
  return p;
}

// send_recv as nccl-tests runs it: every rank sends the buffer to the next, receives from the
// previous. The same for every algorithm.
Plan send_recv_plan(const Topology& t, std::string algo) {
  Plan p = host_plan(t, CollectiveOp::send_recv, std::move(algo));
  Phase ph = named("send_recv");
  std::vector<Edge> edges;
  for (int i = 0; i < t.gpus(); ++i) edges.push_back({i, (i + 1) % t.gpus()});
  ph.alpha = lockstep(t, edges, 1.0, ph.flows);
  ph.dram_coef = 2;
  p.phases.push_back(std::move(ph));
  return p;
}

// ---------------------------------------------------------------------------------------------
// Rings. Inside a node the ring follows the node's ring order; across nodes, ring r visits the
// node's GPUs starting at r, so each ring leaves a node through a different NIC (NCCL's rails).

std::vector<std::vector<int>> ring_orders(const Topology& t) {
  const int g = t.gpus_per_node();
  std::vector<std::vector<int>> bases = t.spec().rings;  // the node's rings, or 0, 1, ..., g-1
  if (bases.empty()) {
    bases.emplace_back(g);
    for (int i = 0; i < g; ++i) bases[0][static_cast<std::size_t>(i)] = i;
  }
  if (t.nodes() == 1) return bases;
  // Across nodes ring r starts each node at its r-th GPU (a rotation keeps the node's ring
  // edges), so different rings leave and enter nodes through different NICs.
  const int rings = std::max<int>(g, static_cast<int>(bases.size()));
  std::vector<std::vector<int>> orders;
  for (int r = 0; r < rings; ++r) {
    const auto& b = bases[static_cast<std::size_t>(r) % bases.size()];
    std::vector<int> o(static_cast<std::size_t>(g));
    for (int j = 0; j < g; ++j) o[static_cast<std::size_t>(j)] = b[static_cast<std::size_t>((r + j) % g)];
    orders.push_back(std::move(o));
  }
  return orders;
}

std::vector<Edge> ring_edges(const Topology& t, const std::vector<int>& local, bool chain) {
  std::vector<int> order;
  order.reserve(static_cast<std::size_t>(t.gpus()));
  // Odd nodes walk the ring backwards, so a ring leaves a node and enters the next through
  // GPUs of the same rail (the same leaf: no spine crossing), as NCCL's rail-aligned rings do.
  for (int node = 0; node < t.nodes(); ++node) {
    const int base = node * t.gpus_per_node();
    if (node % 2 == 1)
      for (auto it = local.rbegin(); it != local.rend(); ++it) order.push_back(base + *it);
    else
      for (int l : local) order.push_back(base + l);
  }
  std::vector<Edge> edges;
  const std::size_t n = order.size();
  for (std::size_t i = 0; i + (chain ? 1 : 0) < n; ++i) edges.push_back({order[i], order[(i + 1) % n]});
  return edges;
}

// One ring phase: `steps` pipelined steps, `coef` bytes on each hop per byte of data.
Phase ring_phase(const Topology& t, std::string name, int steps, double coef, double dram,
                 bool chain = false) {
  Phase ph = named(std::move(name));
  const auto orders = ring_orders(t);
  sim::Time lat;
  for (const auto& o : orders)
    lat = std::max(lat, lockstep(t, ring_edges(t, o, chain), coef / orders.size(), ph.flows));
  ph.alpha = lat;
  ph.steps = std::max(1, steps);
  ph.dram_coef = dram;
  ph.flops_coef = 0;
  return ph;
}

double elements_per_byte() { return 0.25; }  // fp32 reductions, as nccl-tests' default type

class Ring final : public Collective {
 public:
  Ring() : Collective("ring") {}

 protected:
  Plan plan_collective(CollectiveOp op, const Topology& t) const override {
    Plan p = host_plan(t, op, name());
    const int n = t.gpus();
    const double f = static_cast<double>(n - 1) / n;
    switch (op) {
      case CollectiveOp::all_reduce: {
        Phase ph = ring_phase(t, "ring all_reduce", 2 * (n - 1), 2 * f, 5 * f);
        ph.flops_coef = f * elements_per_byte();
        p.phases.push_back(std::move(ph));
        break;
      }
      case CollectiveOp::reduce_scatter: {
        Phase ph = ring_phase(t, "ring reduce_scatter", n - 1, f, 3 * f);
        ph.flops_coef = f * elements_per_byte();
        p.phases.push_back(std::move(ph));
        break;
      }
      case CollectiveOp::all_gather:
        p.phases.push_back(ring_phase(t, "ring all_gather", n - 1, f, 2 * f));
        break;
      default:  // broadcast: a pipelined chain from rank 0
        p.phases.push_back(ring_phase(t, "ring broadcast", n - 1, 1.0, 2.0, true));
        break;
    }
    return p;
  }
};

// ---------------------------------------------------------------------------------------------
// Double binary tree (NCCL 2.4): two trees over the nodes, each carrying half of the data; a
// node that is interior in one is a leaf in the other. Inside a node the GPUs form a chain
// down from the GPU that talks to the network. Like NCCL, one channel per GPU of a node (its
// NIC rail), each with 1/g of the data and its chain starting at that GPU. Reduction flows up
// while the result flows down, pipelined.

struct BinaryTree {
  std::vector<int> parent;              // -1 at the root
  std::vector<std::vector<int>> children;
  int depth = 0;
};

// In-order tree over positions 0..n-1 (middle of each range is the root of that range), with
// position p holding rank (p + shift) % n.
BinaryTree make_tree(int n, int shift) {
  BinaryTree t;
  t.parent.assign(n, -1);
  t.children.assign(n, {});
  struct Range { int lo, hi, parent, depth; };
  std::vector<Range> stack{{0, n - 1, -1, 0}};
  while (!stack.empty()) {
    const Range r = stack.back();
    stack.pop_back();
    if (r.lo > r.hi) continue;
    const int mid = (r.lo + r.hi + 1) / 2;
    const int rank = (mid + shift) % n;
    t.depth = std::max(t.depth, r.depth);
    if (r.parent >= 0) {
      t.parent[rank] = r.parent;
      t.children[r.parent].push_back(rank);
    }
    stack.push_back({r.lo, mid - 1, rank, r.depth + 1});
    stack.push_back({mid + 1, r.hi, rank, r.depth + 1});
  }
  return t;
}

// One channel's tree over all GPUs: the node tree between the channel's head GPUs (local
// index `channel` of each node), and in each node a chain from the head through the others.
BinaryTree channel_tree(const BinaryTree& nodes, int g, int channel) {
  const int n = static_cast<int>(nodes.parent.size()) * g;
  BinaryTree t;
  t.parent.assign(n, -1);
  t.children.assign(n, {});
  for (int node = 0; node < static_cast<int>(nodes.parent.size()); ++node) {
    auto gpu = [&](int node_index, int j) { return node_index * g + (channel + j) % g; };
    if (nodes.parent[node] >= 0) t.parent[gpu(node, 0)] = gpu(nodes.parent[node], 0);
    for (int j = 1; j < g; ++j) t.parent[gpu(node, j)] = gpu(node, j - 1);
  }
  for (int r = 0; r < n; ++r)
    if (t.parent[r] >= 0) t.children[t.parent[r]].push_back(r);
  t.depth = nodes.depth + g - 1;
  return t;
}

class Tree final : public Collective {
 public:
  Tree() : Collective("tree") {}

 protected:
  Plan plan_collective(CollectiveOp op, const Topology& t) const override {
    if (op != CollectiveOp::all_reduce && op != CollectiveOp::broadcast)
      throw sim::InputError(fmt::format(
          "algorithm 'tree' does all_reduce and broadcast, not {} (use ring or "
          "halving-doubling)", op_name(op)));
    Plan p = host_plan(t, op, name());
    const int g = t.gpus_per_node(), nodes = t.nodes();
    Phase ph = named(fmt::format("tree {}", op_name(op)));
    // One node: NCCL's tree is the chains alone (the node tree is a single root).
    const int trees = op == CollectiveOp::all_reduce && nodes > 1 ? 2 : 1;
    const double share = 1.0 / (trees * g);
    sim::Time lat;
    int depth = 0;
    double dram = 0;
    for (int k = 0; k < trees; ++k) {
      const BinaryTree node_tree = make_tree(nodes, k == 0 ? 0 : 1);
      for (int c = 0; c < g; ++c) {
        const BinaryTree tr = channel_tree(node_tree, g, c);
        depth = std::max(depth, tr.depth);
        std::vector<Edge> up, down;
        for (int r = 0; r < t.gpus(); ++r)
          if (tr.parent[r] >= 0) {
            up.push_back({r, tr.parent[r]});
            down.push_back({tr.parent[r], r});
          }
        if (op == CollectiveOp::all_reduce) lat = std::max(lat, lockstep(t, up, share, ph.flows));
        lat = std::max(lat, lockstep(t, down, share, ph.flows));
        // Rank 0 (the GPU the model runs): reduce its children into its own data and pass it
        // up, then receive the result and forward it to its children.
        const double ch = static_cast<double>(tr.children[0].size());
        const double parent = tr.parent[0] >= 0 ? 1 : 0;
        dram += share * (op == CollectiveOp::all_reduce
                             ? (1 + 2 * ch + parent) + (parent + ch + 1)
                             : parent + ch);
      }
    }
    ph.alpha = lat;
    ph.steps = std::max(1, (op == CollectiveOp::all_reduce ? 2 : 1) * depth);
    ph.dram_coef = dram;
    if (op == CollectiveOp::all_reduce) ph.flops_coef = elements_per_byte();
    p.phases.push_back(std::move(ph));
    return p;
  }
};

// ---------------------------------------------------------------------------------------------
// Halving-doubling (Rabenseifner): reduce-scatter by recursive halving, all-gather by recursive
// doubling; log2(n) steps each, pairwise exchanges.

class HalvingDoubling final : public Collective {
 public:
  HalvingDoubling() : Collective("halving-doubling") {}

 protected:
  Plan plan_collective(CollectiveOp op, const Topology& t) const override {
    const int n = t.gpus();
    if (!std::has_single_bit(static_cast<unsigned>(n)))
      throw sim::InputError(fmt::format(
          "algorithm 'halving-doubling' needs a power-of-two number of GPUs, not {}", n));
    if (op == CollectiveOp::broadcast)
      throw sim::InputError("algorithm 'halving-doubling' does not broadcast (use ring or tree)");
    Plan p = host_plan(t, op, name());
    const int steps = std::countr_zero(static_cast<unsigned>(n));
    auto exchange = [&](int distance, double coef, double dram, double flops, std::string name) {
      Phase ph = named(std::move(name));
      std::vector<Edge> edges;
      for (int i = 0; i < n; ++i) edges.push_back({i, i ^ distance});
      ph.alpha = lockstep(t, edges, coef, ph.flows);
      ph.dram_coef = dram * coef;
      ph.flops_coef = flops * coef;
      p.phases.push_back(std::move(ph));
    };
    if (op != CollectiveOp::all_gather)
      for (int k = 0; k < steps; ++k)
        exchange(n >> (k + 1), 1.0 / (2 << k), 3, elements_per_byte(),
                 fmt::format("halving step {}", k));
    if (op != CollectiveOp::reduce_scatter)
      for (int k = 0; k < steps; ++k)
        exchange(1 << k, static_cast<double>(1 << k) / n, 2, 0,
                 fmt::format("doubling step {}", k));
    return p;
  }
};

// ---------------------------------------------------------------------------------------------
// In-network: GPUs push their data into the switch, the switch reduces it in a slot and
// multicasts the result. Across nodes the node switch reduces first (or a ring inside the node
// where the node switch cannot), each GPU's NIC carries 1/g of the node's data through the leaf
// and spine switches (SHARP), and the node switch multicasts the result back.

Phase node_ring(const Topology& t, std::string name, bool reduce) {
  // A ring inside each node (each node's ring is its own flow set).
  const int g = t.gpus_per_node();
  const double f = static_cast<double>(g - 1) / g;
  Phase ph = named(std::move(name));
  const auto orders = ring_orders(t);
  const std::vector<int>& o = orders.front();
  sim::Time lat;
  for (int node = 0; node < t.nodes(); ++node) {
    std::vector<Edge> edges;
    for (int j = 0; j < g; ++j)
      edges.push_back({node * g + o[j], node * g + o[(j + 1) % g]});
    lat = std::max(lat, lockstep(t, edges, f, ph.flows));
  }
  ph.alpha = lat;
  ph.steps = std::max(1, g - 1);
  ph.dram_coef = (reduce ? 3 : 2) * f;
  if (reduce) ph.flops_coef = f * elements_per_byte();
  return ph;
}

class InNetwork final : public Collective {
 public:
  InNetwork() : Collective("in-network") {}

 protected:
  Plan plan_collective(CollectiveOp op, const Topology& t) const override {
    Plan p = plan_switches(op, t);
    bool fallback = false;
    for (const Phase& ph : p.phases)
      for (const ReductionEngine* e : ph.hold) fallback = fallback || e->spec().fallback_to_ring;
    if (fallback) p.fallback = std::make_shared<const Plan>(Ring().plan(op, t));
    return p;
  }

 private:
  Plan plan_switches(CollectiveOp op, const Topology& t) const {
    const SystemSpec& s = t.spec();
    Plan p = host_plan(t, op, name());
    p.in_network = true;
    p.ctas = s.kernels.in_network_ctas;
    const int n = t.gpus(), g = t.gpus_per_node();
    const bool node_engine = t.has_node_switch() && t.node_engine(0) != nullptr;
    if (t.nodes() == 1) {
      if (!node_engine)
        throw sim::InputError(fmt::format(
            "algorithm 'in-network' needs a switch with a reduction engine; system '{}' has "
            "none (add node.reduction)", s.name));
      p.chunk = s.node_reduction.chunk;
      auto [up, down] = switch_ports(t);
      Phase push = named("push to switch"), cast = named("multicast");
      push.alpha = s.gpu_link.latency + s.node_reduction.latency;
      cast.alpha = s.gpu_link.latency;
      cast.synchronised = false;
      push.hold = {t.node_engine(0)};
      push.hold_until = 1;
      switch (op) {
        case CollectiveOp::all_reduce:
        case CollectiveOp::reduce_scatter: {
          up.push_back(t.node_engine(0)->resource());
          push.flows.push_back(flow(up, 1.0));
          const double out = op == CollectiveOp::all_reduce ? 1.0 : 1.0 / n;
          cast.flows.push_back(multicast(down, out));
          push.dram_coef = 1;
          cast.dram_coef = out;
          push.reduce_point = true;
          cast.deliver_point = true;
          break;
        }
        case CollectiveOp::all_gather:
          push.flows.push_back(flow(up, 1.0 / n));
          cast.flows.push_back(multicast(down, 1.0));
          push.dram_coef = 1.0 / n;
          cast.dram_coef = 1;
          break;
        default:  // broadcast from rank 0
          push.flows.push_back(flow({t.gpu_up(0)}, 1.0));
          down.erase(down.begin());
          cast.flows.push_back(multicast(down, 1.0));
          push.dram_coef = 0;  // rank 0 reads; the others take the multicast
          cast.dram_coef = 1;
          break;
      }
      p.phases.push_back(std::move(push));
      p.phases.push_back(std::move(cast));
      return p;
    }
    if (op != CollectiveOp::all_reduce)
      throw sim::InputError(fmt::format(
          "algorithm 'in-network' across nodes does all_reduce only, not {}", op_name(op)));
    if (t.leaf_engine(0) == nullptr)
      throw sim::InputError(fmt::format(
          "algorithm 'in-network' across nodes needs network.reduction (SHARP) in system '{}'",
          s.name));
    p.chunk = s.network_reduction.chunk;
    const double share = 1.0 / g;
    // 1. Inside each node: reduce-scatter, by the node switch or by a ring.
    if (node_engine) {
      p.chunk = std::min<std::uint64_t>(p.chunk, s.node_reduction.chunk);
      Phase ph = named("node switch reduce");
      auto [up, down] = switch_ports(t);
      for (int node = 0; node < t.nodes(); ++node) {
        up.push_back(t.node_engine(node)->resource());
        ph.hold.push_back(t.node_engine(node));
      }
      ph.flows.push_back(flow(up, 1.0));
      ph.flows.push_back(multicast(down, share));
      ph.alpha = s.gpu_link.latency * 2 + s.node_reduction.latency;
      ph.hold_until = 0;
      ph.dram_coef = 1 + share;
      p.phases.push_back(std::move(ph));
    } else {
      p.phases.push_back(node_ring(t, "node ring reduce_scatter", true));
    }
    // 2. Up through the leaves (and a spine) of each rail; 3. the result multicast back down.
    const int leaves = s.leaves_per_rail();
    Phase up_ph = named("network reduce"), down_ph = named("network multicast");
    for (int r = 0; r < g; ++r) {
      const int spine = r % s.spines;
      std::vector<Topology::Res> up, down;
      for (int node = 0; node < t.nodes(); ++node) {
        up.push_back(t.nic_up(node * g + r));
        down.push_back(t.nic_down(node * g + r));
      }
      for (int lg = 0; lg < leaves; ++lg) {
        const int leaf = lg * g + r;
        up.push_back(t.leaf_engine(leaf)->resource());
        up_ph.hold.push_back(t.leaf_engine(leaf));
        if (leaves > 1) {
          up.push_back(t.leaf_up(leaf, spine));
          down.push_back(t.leaf_down(leaf, spine));
        }
      }
      if (leaves > 1) {
        up.push_back(t.spine_engine(spine)->resource());
        if (std::find(up_ph.hold.begin(), up_ph.hold.end(), t.spine_engine(spine)) ==
            up_ph.hold.end())
          up_ph.hold.push_back(t.spine_engine(spine));
      }
      up_ph.flows.push_back(flow(up, share));
      down_ph.flows.push_back(multicast(down, share));
    }
    const sim::Time hop = s.nic.latency + (leaves > 1 ? s.uplink.latency : sim::Time{});
    up_ph.alpha = hop + s.network_reduction.latency * (leaves > 1 ? 2 : 1);
    down_ph.alpha = hop;
    down_ph.synchronised = false;
    up_ph.hold_until = static_cast<int>(p.phases.size()) + 1;
    up_ph.dram_coef = share;  // the NIC reads the node's reduced slice
    down_ph.dram_coef = share;
    p.phases.push_back(std::move(up_ph));
    p.phases.push_back(std::move(down_ph));
    // 4. Inside each node: all-gather, by multicast or by a ring.
    if (node_engine) {
      Phase ph = named("node switch multicast");
      auto [up, down] = switch_ports(t);
      ph.flows.push_back(flow(up, share));
      ph.flows.push_back(multicast(down, 1.0));
      ph.alpha = s.gpu_link.latency * 2;
      ph.dram_coef = share + 1;
      p.phases.push_back(std::move(ph));
    } else {
      p.phases.push_back(node_ring(t, "node ring all_gather", false));
    }
    return p;
  }
};

// ---------------------------------------------------------------------------------------------
// Hierarchical (host): ring reduce-scatter inside each node, a ring all-reduce of each GPU's
// 1/g across nodes (one ring per rail), ring all-gather inside each node.

class Hierarchical final : public Collective {
 public:
  Hierarchical() : Collective("hierarchical") {}

 protected:
  Plan plan_collective(CollectiveOp op, const Topology& t) const override {
    if (t.nodes() == 1 || t.gpus_per_node() == 1) {
      Plan p = Ring().plan(op, t);
      p.algorithm = name();
      return p;
    }
    if (op != CollectiveOp::all_reduce)
      throw sim::InputError(fmt::format(
          "algorithm 'hierarchical' across nodes does all_reduce only, not {}", op_name(op)));
    Plan p = host_plan(t, op, name());
    const int g = t.gpus_per_node(), nodes = t.nodes();
    p.phases.push_back(node_ring(t, "node ring reduce_scatter", true));
    Phase ph = named("rail ring all_reduce");
    const double f = static_cast<double>(nodes - 1) / nodes;
    sim::Time lat;
    for (int r = 0; r < g; ++r) {
      std::vector<Edge> edges;
      for (int node = 0; node < nodes; ++node)
        edges.push_back({node * g + r, ((node + 1) % nodes) * g + r});
      lat = std::max(lat, lockstep(t, edges, 2 * f / g, ph.flows));
    }
    ph.alpha = lat;
    ph.steps = std::max(1, 2 * (nodes - 1));
    ph.dram_coef = 5 * f / g;
    ph.flops_coef = f / g * elements_per_byte();
    p.phases.push_back(std::move(ph));
    p.phases.push_back(node_ring(t, "node ring all_gather", false));
    return p;
  }
};

}  // namespace

Plan Collective::plan(CollectiveOp op, const Topology& t) const {
  if (t.gpus() < 2) throw sim::InputError("a collective needs at least 2 GPUs");
  if (op == CollectiveOp::send_recv) return send_recv_plan(t, name_);
  return plan_collective(op, t);
}

namespace {

template <class T>
CollectiveRegistry::Factory make() {
  return [](const sim::Config&) { return std::make_unique<T>(); };
}

}  // namespace

void register_collectives(sim::PluginCatalog& c) {
  auto& r = collectives(c);
  r.add("ring", "pipelined rings (one per NIC rail across nodes): 2(n-1)/n of the data per link",
        {}, make<Ring>());
  r.add("tree", "NCCL's double binary tree: two trees, each half of the data, reduce up and "
                "broadcast down pipelined", {}, make<Tree>());
  r.add("halving-doubling", "Rabenseifner: recursive-halving reduce-scatter, recursive-doubling "
                            "all-gather (power-of-two GPU counts)", {}, make<HalvingDoubling>());
  r.add("in-network", "switches reduce in aggregation slots and multicast the result (NVLink "
                      "SHARP, InfiniBand SHARP); GPUs only push and receive", {},
        make<InNetwork>());
  r.add("hierarchical", "ring reduce-scatter in each node, ring all-reduce per rail across "
                        "nodes, ring all-gather in each node", {}, make<Hierarchical>());
}

}  // namespace interconnect

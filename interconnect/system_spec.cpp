#include "interconnect/system_spec.hpp"

#include "sim/files.hpp"
#include "sim/nearest.hpp"
#include "sim/params.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>

namespace interconnect {

const sim::ParamSchema& LinkSpec::schema() {
  static const sim::ParamSchema s = sim::schema(R"(
bandwidth  | bandwidth |      | each direction (line rate)
latency    | duration  | 0 ns | per traversal
efficiency | double    | 1    | share of the line rate that carries data (packet and protocol overhead)
)");
  return s;
}

LinkSpec LinkSpec::from_config(const sim::Config& c) {
  const sim::Params p(c, schema());
  LinkSpec l;
  l.bandwidth = p.bandwidth("bandwidth");
  if (!(l.bandwidth > 0)) p.value("bandwidth").fail("a link needs a bandwidth > 0");
  l.latency = p.duration("latency");
  l.efficiency = p.real("efficiency");
  if (!(l.efficiency > 0 && l.efficiency <= 1))
    p.value("efficiency").fail("a link's efficiency is in (0, 1]");
  return l;
}

const sim::ParamSchema& ProtocolSpec::schema() {
  static const sim::ParamSchema s = sim::schema(R"(
launch            | duration  | 0 ns | once per collective: set-up before its first step
step_overhead     | duration  | 0 ns | per step, on top of the route's latency (flags, fences, polling)
efficiency        | double    | 1    | data bytes per byte on the wire
channel_bandwidth | bandwidth |      | wire bytes/s one channel moves (absent: collective_kernels.channel_bandwidth)
)");
  return s;
}

ProtocolSpec ProtocolSpec::from_config(const sim::Config& c, std::string name) {
  const sim::Params p(c, schema());
  ProtocolSpec r;
  r.name = std::move(name);
  r.launch = p.duration("launch");
  r.step_overhead = p.duration("step_overhead");
  r.efficiency = p.real("efficiency");
  if (!(r.efficiency > 0 && r.efficiency <= 1))
    p.value("efficiency").fail("a protocol's efficiency is in (0, 1]");
  if (p.has("channel_bandwidth")) {
    r.channel_bandwidth = p.bandwidth("channel_bandwidth");
    if (!(r.channel_bandwidth > 0)) p.value("channel_bandwidth").fail("must be > 0");
  }
  return r;
}

const sim::ParamSchema& ReductionSpec::schema() {
  static const sim::ParamSchema s = sim::schema(R"(
throughput | bandwidth |      | reduced output bytes/s the engine produces
slots      | int       |      | aggregation buffers: chunks in flight through the switch
chunk      | size      |      | bytes one slot holds
latency    | duration  | 0 ns | per chunk, last contribution to result ready
fallback   | string    | wait | no free slot: wait | ring (run the host ring instead)
)");
  return s;
}

ReductionSpec ReductionSpec::from_config(const sim::Config& c) {
  const sim::Params p(c, schema());
  ReductionSpec r;
  r.present = true;
  r.throughput = p.bandwidth("throughput");
  if (!(r.throughput > 0)) p.value("throughput").fail("the reduction throughput must be > 0");
  r.slots = static_cast<int>(p.integer("slots", 1, 1 << 20));
  r.chunk = p.size("chunk");
  if (r.chunk == 0) p.value("chunk").fail("the slot chunk must be > 0 bytes");
  r.latency = p.duration("latency");
  const std::string f = p.string("fallback");
  if (f != "wait" && f != "ring") p.value("fallback").fail("fallback is 'wait' or 'ring'");
  r.fallback_to_ring = f == "ring";
  return r;
}

const sim::ParamSchema& SystemSpec::schema() {
  static const sim::ParamSchema s = sim::schema(R"(
name                               | string    |       | the preset's name
description                        | string    |       | what the preset is (for people)
gpu                                | gpu       |       | a GPU preset (configs/gpus/; `warpsim list gpu`)
gpus_per_node                      | int       |       | GPUs in one node
nodes                              | int       | 1     | nodes
node                               | map       |       | how the GPUs of one node are wired
node.fabric                        | string    |       | nvswitch | mesh | pcie
node.link                          | link      |       | each GPU to the node switch; mesh: one lane
node.mesh                          | list      |       | mesh only: [gpu a, gpu b, lanes] per connection
node.rings                         | list      |       | ring orders of the node's GPUs (default 0, 1, ...)
node.reduction                     | reduction |       | the node switch's in-network reduction engine
network                            | map       |       | between nodes (needed when nodes > 1)
network.nic                        | link      |       | each GPU's NIC to its rail's leaf
network.nodes_per_leaf             | int       |       | nodes a leaf group holds
network.spines                     | int       |       | spine switches
network.uplink                     | link      |       | one leaf-spine link
network.reduction                  | reduction |       | the network switches' reduction engines
collective_kernels                 | map       | {}    | how collective kernels use the GPU (NCCL-like)
collective_kernels.ctas            | int       | 16    | CTAs of a host algorithm's kernel (channels)
collective_kernels.in_network_ctas | int       | 4     | CTAs of an in-network kernel (0: by DMA, no kernel)
collective_kernels.threads         | int       | 512   | threads per CTA
collective_kernels.chunk           | size      | 4 MiB | pipeline piece of the host algorithms
collective_kernels.pipeline_depth  | int       | 2     | pieces in flight per step
collective_kernels.step_overhead   | duration  | 0 ns  | per step: peer synchronisation
collective_kernels.persistent      | bool      | true  | CTAs stay on their SMs while data is on the wire (NCCL's polling CTAs)
collective_kernels.channel_bandwidth | bandwidth |       | bytes/s one channel's CTA sends (absent: no limit)
collective_kernels.protocol        | string    | auto  | auto (the fastest estimate for each size, as NCCL's tuner) | ll | ll128 | simple
collective_kernels.protocols       | map       |       | NCCL's protocols (ll, ll128, simple; simple required): each launch, step_overhead, efficiency, channel_bandwidth (absent: simple alone, of step_overhead and channel_bandwidth)
collective_kernels.protocols.ll    | protocol  |       | 8-byte words with their own flag: lowest latency, half the bytes data
collective_kernels.protocols.ll128 | protocol  |       | 128-byte lines with a flag: 120 of 128 bytes data
collective_kernels.protocols.simple | protocol |       | fenced buffer slices: full bandwidth, a synchronisation per step
)");
  return s;
}

SystemSpec SystemSpec::from_config(const sim::Config& c) {
  const sim::Params p(c, schema());
  SystemSpec s;
  s.name = p.string("name");
  p.note("description");
  s.gpu = models::GpuSpec::from_config(p.value("gpu"));
  s.gpus_per_node = static_cast<int>(p.integer("gpus_per_node", 1, 64));
  s.nodes = static_cast<int>(p.integer("nodes", 1, 1 << 16));

  const sim::Params node_params = p.section("node");
  const sim::Config fabric = node_params.value("fabric");
  const std::string f = fabric.as_string();
  if (f == "nvswitch") s.fabric = NodeFabric::nvswitch;
  else if (f == "mesh") s.fabric = NodeFabric::mesh;
  else if (f == "pcie") s.fabric = NodeFabric::pcie;
  else fabric.fail(fmt::format("unknown node fabric '{}' (nvswitch, mesh or pcie)", f));
  s.gpu_link = LinkSpec::from_config(node_params.value("link"));
  if (s.fabric == NodeFabric::mesh) {
    std::set<std::pair<int, int>> seen;
    for (const sim::Config& l : node_params.value("mesh").items()) {
      const auto v = l.items();
      if (v.size() != 3) l.fail("a mesh entry is [gpu a, gpu b, lanes]");
      MeshLink m{static_cast<int>(v[0].as_int()), static_cast<int>(v[1].as_int()),
                 static_cast<int>(v[2].as_int())};
      if (m.a < 0 || m.b < 0 || m.a >= s.gpus_per_node || m.b >= s.gpus_per_node || m.a == m.b)
        l.fail(fmt::format("mesh GPUs must be distinct and in [0, {})", s.gpus_per_node));
      if (m.lanes < 1) v[2].fail("lanes must be >= 1");
      if (!seen.insert({std::min(m.a, m.b), std::max(m.a, m.b)}).second)
        l.fail("this GPU pair is listed twice");
      s.mesh.push_back(m);
    }
  } else if (auto mesh = node_params.find("mesh")) {
    mesh->fail("'mesh' applies to fabric: mesh only");
  }
  if (auto rings = node_params.find("rings")) {
    for (const sim::Config& ring : rings->items()) {
      std::vector<int> order;
      std::vector<bool> seen(static_cast<std::size_t>(s.gpus_per_node), false);
      for (const sim::Config& v : ring.items()) {
        const auto i = v.as_int();
        if (i < 0 || i >= s.gpus_per_node || seen[static_cast<std::size_t>(i)])
          v.fail(fmt::format("a ring lists each GPU of the node [0, {}) once", s.gpus_per_node));
        seen[static_cast<std::size_t>(i)] = true;
        order.push_back(static_cast<int>(i));
      }
      if (static_cast<int>(order.size()) != s.gpus_per_node)
        ring.fail(fmt::format("a ring must visit all {} GPUs of the node", s.gpus_per_node));
      s.rings.push_back(std::move(order));
    }
  }
  if (auto r = node_params.find("reduction")) {
    if (s.fabric == NodeFabric::mesh) r->fail("a mesh has no switch to reduce in");
    s.node_reduction = ReductionSpec::from_config(*r);
  }

  if (auto n = p.find_section("network")) {
    s.nic = LinkSpec::from_config(n->value("nic"));
    s.nodes_per_leaf = static_cast<int>(n->integer("nodes_per_leaf", 1, 1 << 12));
    s.spines = static_cast<int>(n->integer("spines", 1, 1 << 12));
    s.uplink = LinkSpec::from_config(n->value("uplink"));
    if (auto r = n->find("reduction")) s.network_reduction = ReductionSpec::from_config(*r);
  } else if (s.nodes > 1) {
    p.value("nodes").fail("more than one node needs a 'network' section");
  }

  const sim::Params k = p.section("collective_kernels");
  s.kernels.ctas = static_cast<int>(k.integer("ctas", 1, 1024));
  s.kernels.in_network_ctas = static_cast<int>(k.integer("in_network_ctas", 0, 1024));
  s.kernels.threads = static_cast<int>(k.integer("threads", 32, 1024));
  s.kernels.chunk = k.size("chunk");
  if (s.kernels.chunk == 0) k.value("chunk").fail("the pipeline chunk must be > 0 bytes");
  s.kernels.pipeline_depth = static_cast<int>(k.integer("pipeline_depth", 1, 64));
  s.kernels.step_overhead = k.duration("step_overhead");
  s.kernels.persistent = k.flag("persistent");
  if (k.has("channel_bandwidth")) s.kernels.channel_bandwidth = k.bandwidth("channel_bandwidth");
  if (auto protocols = k.find("protocols")) {
    for (const char* name : {"ll", "ll128"})
      if (auto c = protocols->find(name))
        s.kernels.protocols.push_back(ProtocolSpec::from_config(*c, name));
    const auto simple = protocols->find("simple");
    if (!simple) protocols->fail("the protocols must include simple (in-network algorithms use it)");
    s.kernels.protocols.push_back(ProtocolSpec::from_config(*simple, "simple"));
    for (ProtocolSpec& q : s.kernels.protocols)  // the kernels' own limit, unless it has one
      if (q.channel_bandwidth == 0) q.channel_bandwidth = s.kernels.channel_bandwidth;
  } else {
    ProtocolSpec simple;
    simple.name = "simple";
    simple.step_overhead = s.kernels.step_overhead;
    simple.channel_bandwidth = s.kernels.channel_bandwidth;
    s.kernels.protocols.push_back(simple);
  }
  const sim::Config protocol = k.value("protocol");
  s.kernels.protocol = protocol.as_string();
  if (s.kernels.protocol != "auto" &&
      std::none_of(s.kernels.protocols.begin(), s.kernels.protocols.end(),
                   [&](const ProtocolSpec& q) { return q.name == s.kernels.protocol; })) {
    std::vector<std::string> names{"auto"};
    for (const auto& q : s.kernels.protocols) names.push_back(q.name);
    protocol.fail(fmt::format("unknown protocol '{}'{}; this system has: {}", s.kernels.protocol,
                              sim::did_you_mean(s.kernels.protocol, names), fmt::join(names, ", ")));
  }
  return s;
}

SystemSpec SystemSpec::load(const sim::ConfigLoader& loader, const std::string& name,
                            const std::vector<std::string>& overrides) {
  namespace fs = std::filesystem;
  fs::path file;
  if (name.find('/') != std::string::npos || name.ends_with(".yaml") || name.ends_with(".yml")) {
    if (!sim::is_file(name))
      throw sim::InputError(fmt::format("no such system file '{}'", name));
    file = name;
  } else if (auto found = loader.find("systems", name)) {
    file = *found;
  } else {
    const auto names = loader.names("systems");
    throw sim::InputError(fmt::format("unknown system '{}'{}; known: {}", name,
                                      sim::did_you_mean(name, names), fmt::join(names, ", ")));
  }
  auto root = std::make_shared<sim::ConfigNode>();
  root->kind = sim::ConfigNode::Kind::kMap;
  root->pos = sim::SourcePos{file.string()};
  root->entries.emplace_back("system", loader.load(file));
  for (const std::string& o : overrides)
    sim::apply_override(root, o.starts_with("system.") ? o : "system." + o);
  SystemSpec spec = from_config(sim::Config(root, "").at("system"));
  sim::check_unused(root);
  return spec;
}

}  // namespace interconnect

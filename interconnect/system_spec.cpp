#include "interconnect/system_spec.hpp"

#include "sim/nearest.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <set>
#include <utility>

namespace interconnect {
namespace {

LinkSpec read_link(const sim::Config& c) {
  LinkSpec l;
  l.bandwidth = c.get_bandwidth("bandwidth");
  if (!(l.bandwidth > 0)) c.at("bandwidth").fail("a link needs a bandwidth > 0");
  l.latency = c.get_duration("latency", "0 ns");
  return l;
}

ReductionSpec read_reduction(const sim::Config& c) {
  ReductionSpec r;
  r.present = true;
  r.throughput = c.get_bandwidth("throughput");
  if (!(r.throughput > 0)) c.at("throughput").fail("the reduction throughput must be > 0");
  r.slots = static_cast<int>(c.get_int_in("slots", 1, 1 << 20));
  r.chunk = c.get_size("chunk");
  if (r.chunk == 0) c.at("chunk").fail("the slot chunk must be > 0 bytes");
  r.latency = c.get_duration("latency", "0 ns");
  const std::string f = c.get_string("fallback", "wait");
  if (f != "wait" && f != "ring") c.at("fallback").fail("fallback is 'wait' or 'ring'");
  r.fallback_to_ring = f == "ring";
  return r;
}

}  // namespace

SystemSpec SystemSpec::from_config(const sim::Config& c) {
  SystemSpec s;
  s.name = c.get_string("name");
  s.gpu = models::GpuSpec::from_config(c.at("gpu"));
  s.gpus_per_node = static_cast<int>(c.get_int_in("gpus_per_node", 1, 64));
  s.nodes = static_cast<int>(c.get_int_in("nodes", 1, 1 << 16, 1));

  const sim::Config node = c.at("node");
  const sim::Config fabric = node.at("fabric");
  const std::string f = fabric.as_string();
  if (f == "nvswitch") s.fabric = NodeFabric::nvswitch;
  else if (f == "mesh") s.fabric = NodeFabric::mesh;
  else if (f == "pcie") s.fabric = NodeFabric::pcie;
  else fabric.fail(fmt::format("unknown node fabric '{}' (nvswitch, mesh or pcie)", f));
  s.gpu_link = read_link(node.at("link"));
  if (s.fabric == NodeFabric::mesh) {
    std::set<std::pair<int, int>> seen;
    for (const sim::Config& l : node.seq("mesh")) {
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
  } else if (node.has("mesh")) {
    node.at("mesh").fail("'mesh' applies to fabric: mesh only");
  }
  if (auto rings = node.find("rings")) {
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
  if (auto r = node.find("reduction")) {
    if (s.fabric == NodeFabric::mesh) r->fail("a mesh has no switch to reduce in");
    s.node_reduction = read_reduction(*r);
  }

  if (auto n = c.find("network")) {
    s.nic = read_link(n->at("nic"));
    s.nodes_per_leaf = static_cast<int>(n->get_int_in("nodes_per_leaf", 1, 1 << 12));
    s.spines = static_cast<int>(n->get_int_in("spines", 1, 1 << 12));
    s.uplink = read_link(n->at("uplink"));
    if (auto r = n->find("reduction")) s.network_reduction = read_reduction(*r);
  } else if (s.nodes > 1) {
    c.at("nodes").fail("more than one node needs a 'network' section");
  }

  if (auto k = c.find("collective_kernels")) {
    s.kernels.ctas = static_cast<int>(k->get_int_in("ctas", 1, 1024, s.kernels.ctas));
    s.kernels.in_network_ctas =
        static_cast<int>(k->get_int_in("in_network_ctas", 0, 1024, s.kernels.in_network_ctas));
    s.kernels.threads = static_cast<int>(k->get_int_in("threads", 32, 1024, s.kernels.threads));
    s.kernels.chunk = k->get_size("chunk", "4 MiB");
    if (s.kernels.chunk == 0) k->at("chunk").fail("the pipeline chunk must be > 0 bytes");
    s.kernels.pipeline_depth = static_cast<int>(k->get_int_in("pipeline_depth", 1, 64, 2));
    s.kernels.step_overhead = k->get_duration("step_overhead", "0 ns");
    s.kernels.persistent = k->get_bool("persistent", true);
  }
  return s;
}

SystemSpec SystemSpec::load(const sim::ConfigLoader& loader, const std::string& name,
                            const std::vector<std::string>& overrides) {
  namespace fs = std::filesystem;
  fs::path file;
  if (name.find('/') != std::string::npos || name.ends_with(".yaml") || name.ends_with(".yml")) {
    if (!fs::is_regular_file(name))
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

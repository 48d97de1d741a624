#include "interconnect/topology.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "sim/memory_budget.hpp"

namespace interconnect {

void ReductionEngine::reduce(std::span<const std::span<const float>> contributions,
                             std::span<float> out) {
  for (float& v : out) v = 0;
  for (const auto& c : contributions) {
    if (c.size() != out.size()) throw std::invalid_argument("reduction: contribution size");
    for (std::size_t i = 0; i < out.size(); ++i) out[i] += c[i];
  }
}

Topology::Topology(const SystemSpec& spec, sim::FlowNetwork& net) : spec_(spec), net_(net) {
  // About 2 KiB per GPU: its links' resources in the fair-share solver, their names, routes
  // (docs/performance.md measures 1.4 KiB per GPU at 8192 GPUs).
  sim::check_memory_estimate(2048.0 * static_cast<double>(spec.nodes) * spec.gpus_per_node,
                             fmt::format("system '{}' with {} nodes of {} GPUs", spec.name,
                                         spec.nodes, spec.gpus_per_node));
  const int n = spec.gpus(), g = spec.gpus_per_node;
  if (spec.fabric == NodeFabric::mesh) {
    mesh_.assign(static_cast<std::size_t>(spec.nodes) * g * g, kNone);
    for (int node = 0; node < spec.nodes; ++node)
      for (const MeshLink& m : spec.mesh) {
        const double bw = spec.gpu_link.data_rate() * m.lanes;
        const int a = node * g + m.a, b = node * g + m.b;
        mesh_[(static_cast<std::size_t>(node) * g + m.a) * g + m.b] =
            add(fmt::format("gpu[{}]->gpu[{}]", a, b), bw);
        mesh_[(static_cast<std::size_t>(node) * g + m.b) * g + m.a] =
            add(fmt::format("gpu[{}]->gpu[{}]", b, a), bw);
      }
    // Pairs without a direct link go through the lowest-numbered GPU linked to both.
    mesh_via_.assign(static_cast<std::size_t>(g) * g, -1);
    for (int a = 0; a < g; ++a)
      for (int b = 0; b < g; ++b) {
        if (a == b || mesh_[static_cast<std::size_t>(a) * g + b] != kNone) continue;
        for (int c = 0; c < g && mesh_via_[a * g + b] < 0; ++c)
          if (c != a && c != b && mesh_[static_cast<std::size_t>(a) * g + c] != kNone &&
              mesh_[static_cast<std::size_t>(c) * g + b] != kNone)
            mesh_via_[a * g + b] = c;
        if (mesh_via_[a * g + b] < 0)
          throw sim::InputError(fmt::format(
              "system '{}': GPUs {} and {} of the mesh are not within two NVLink hops", spec.name,
              a, b));
      }
  } else {
    for (int i = 0; i < n; ++i) {
      gpu_up_.push_back(add(fmt::format("gpu[{}]->switch[{}]", i, i / g), spec.gpu_link.data_rate()));
      gpu_down_.push_back(
          add(fmt::format("switch[{}]->gpu[{}]", i / g, i), spec.gpu_link.data_rate()));
    }
  }
  for (int node = 0; node < spec.nodes; ++node)
    node_engines_.push_back(engine(spec.node_reduction, fmt::format("switch[{}]", node)));

  if (spec.nodes > 1) {
    for (int i = 0; i < n; ++i) {
      nic_up_.push_back(add(fmt::format("nic[{}]->leaf[{}]", i, leaf_of(i)), spec.nic.data_rate()));
      nic_down_.push_back(
          add(fmt::format("leaf[{}]->nic[{}]", leaf_of(i), i), spec.nic.data_rate()));
    }
    const int leaves = spec.leaves_per_rail() * g;
    for (int l = 0; l < leaves; ++l) {
      for (int s = 0; s < spec.spines; ++s) {
        leaf_up_.push_back(add(fmt::format("leaf[{}]->spine[{}]", l, s), spec.uplink.data_rate()));
        leaf_down_.push_back(
            add(fmt::format("spine[{}]->leaf[{}]", s, l), spec.uplink.data_rate()));
      }
      leaf_engines_.push_back(engine(spec.network_reduction, fmt::format("leaf[{}]", l)));
    }
    for (int s = 0; s < spec.spines; ++s)
      spine_engines_.push_back(engine(spec.network_reduction, fmt::format("spine[{}]", s)));
  }
}

Topology::Res Topology::add(std::string name, double bandwidth) {
  const Res r = net_.add_resource(std::move(name), bandwidth);
  if (carried_.size() <= r) carried_.resize(r + 1, 0.0);
  return r;
}

std::unique_ptr<ReductionEngine> Topology::engine(const ReductionSpec& r, std::string name) {
  if (!r.present) return nullptr;
  const Res res = add(name + ".reduce", r.throughput);
  return std::make_unique<ReductionEngine>(std::move(name), r, res);
}

int Topology::leaf_of(int gpu) const {
  return (node_of(gpu) / spec_.nodes_per_leaf) * spec_.gpus_per_node + local_of(gpu);
}

sim::Time Topology::intra(int a, int b, std::vector<Res>& hops) const {
  const int g = spec_.gpus_per_node;
  if (spec_.fabric != NodeFabric::mesh) {
    hops.push_back(gpu_up_[a]);
    hops.push_back(gpu_down_[b]);
    return spec_.gpu_link.latency * 2;
  }
  const std::size_t base = static_cast<std::size_t>(node_of(a)) * g * g;
  const int la = local_of(a), lb = local_of(b);
  const Res direct = mesh_[base + static_cast<std::size_t>(la) * g + lb];
  if (direct != kNone) {
    hops.push_back(direct);
    return spec_.gpu_link.latency;
  }
  const int c = mesh_via_[la * g + lb];
  hops.push_back(mesh_[base + static_cast<std::size_t>(la) * g + c]);
  hops.push_back(mesh_[base + static_cast<std::size_t>(c) * g + lb]);
  return spec_.gpu_link.latency * 2;
}

sim::Time Topology::route(int a, int b, std::vector<Res>& hops) const {
  if (a == b) throw std::logic_error("route from a GPU to itself");
  if (node_of(a) == node_of(b)) return intra(a, b, hops);
  hops.push_back(nic_up_[a]);
  sim::Time lat = spec_.nic.latency * 2;
  const int la = leaf_of(a), lb = leaf_of(b);
  if (la != lb) {
    // ECMP: the spine is a hash of the endpoints (mixed, so regular traffic patterns such as
    // partner = rank ^ 2^k do not all land on a few spines), deterministic and spread.
    std::uint64_t h = static_cast<std::uint64_t>(node_of(a)) * 0x9E3779B97F4A7C15ULL ^
                      static_cast<std::uint64_t>(node_of(b)) * 0xC2B2AE3D27D4EB4FULL ^
                      static_cast<std::uint64_t>(local_of(a)) * 0x165667B19E3779F9ULL;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    const int s = static_cast<int>(h % static_cast<std::uint64_t>(spec_.spines));
    hops.push_back(leaf_up(la, s));
    hops.push_back(leaf_down(lb, s));
    lat += spec_.uplink.latency * 2;
  }
  hops.push_back(nic_down_[b]);
  return lat;
}

void Topology::carry(const std::vector<Res>& path, double bytes) {
  for (Res r : path) carried_[r] += bytes;
}

}  // namespace interconnect

#pragma once
// The links of a system as bandwidth resources of one sim::FlowNetwork, and routes over them.
//
// Every full-duplex link is two resources, one per direction. Inside a node: each GPU to the
// node switch (nvswitch, pcie) or GPU-to-GPU NVLink bundles (mesh). Between nodes: each GPU's
// NIC to the leaf of its rail (rail-optimised: NIC r of every node in a leaf group goes to the
// same leaf), every leaf to every spine. Routes are computed on demand in O(path) time and
// memory is O(GPUs + leaves x spines): nothing is quadratic in the GPU count. Switches with a
// reduction engine also get an engine resource (its throughput) and a slot pool.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "interconnect/reduction_engine.hpp"
#include "interconnect/system_spec.hpp"
#include "sim/flow_network.hpp"

namespace interconnect {

class Topology {
 public:
  using Res = sim::FlowNetwork::ResourceId;

  Topology(const SystemSpec& spec, sim::FlowNetwork& net);
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  const SystemSpec& spec() const { return spec_; }
  sim::FlowNetwork& network() const { return net_; }
  int gpus() const { return spec_.gpus(); }
  int gpus_per_node() const { return spec_.gpus_per_node; }
  int nodes() const { return spec_.nodes; }
  int node_of(int gpu) const { return gpu / spec_.gpus_per_node; }
  int local_of(int gpu) const { return gpu % spec_.gpus_per_node; }

  // The resources from GPU a to GPU b (a != b) appended to `hops`; returns the path latency.
  sim::Time route(int a, int b, std::vector<Res>& hops) const;

  // Pieces for in-network collectives.
  bool has_node_switch() const { return spec_.fabric != NodeFabric::mesh; }
  Res gpu_up(int gpu) const { return gpu_up_.at(gpu); }      // GPU -> node switch
  Res gpu_down(int gpu) const { return gpu_down_.at(gpu); }  // node switch -> GPU
  Res nic_up(int gpu) const { return nic_up_.at(gpu); }      // GPU's NIC -> its leaf
  Res nic_down(int gpu) const { return nic_down_.at(gpu); }
  int leaf_of(int gpu) const;  // leaf index: group * gpus_per_node + rail
  int leaves() const { return static_cast<int>(leaf_engines_.size()); }
  Res leaf_up(int leaf, int spine) const { return leaf_up_.at(leaf * spec_.spines + spine); }
  Res leaf_down(int leaf, int spine) const { return leaf_down_.at(leaf * spec_.spines + spine); }
  // Engines (null where the switch cannot reduce).
  ReductionEngine* node_engine(int node) const { return node_engines_.at(node).get(); }
  ReductionEngine* leaf_engine(int leaf) const { return leaf_engines_.at(leaf).get(); }
  ReductionEngine* spine_engine(int spine) const { return spine_engines_.at(spine).get(); }

  // Byte accounting: what every flow started by the collectives carried, per resource.
  void carry(const std::vector<Res>& path, double bytes);
  double carried(Res r) const { return r < carried_.size() ? carried_[r] : 0.0; }
  const std::string& name(Res r) const { return net_.name(r); }
  std::size_t resources() const { return carried_.size(); }

 private:
  Res add(std::string name, double bandwidth);
  sim::Time intra(int a, int b, std::vector<Res>& hops) const;  // same node
  std::unique_ptr<ReductionEngine> engine(const ReductionSpec& r, std::string name);

  const SystemSpec& spec_;
  sim::FlowNetwork& net_;
  std::vector<Res> gpu_up_, gpu_down_, nic_up_, nic_down_, leaf_up_, leaf_down_;
  // mesh: per node, a gpus_per_node^2 table of the directed link resource (or kNone)
  static constexpr Res kNone = ~Res{0};
  std::vector<Res> mesh_;
  std::vector<int> mesh_via_;  // local pair -> intermediate GPU for two-hop routes (-1: none)
  std::vector<std::unique_ptr<ReductionEngine>> node_engines_, leaf_engines_, spine_engines_;
  std::vector<double> carried_;
};

}  // namespace interconnect

#pragma once
// Max-min fair sharing of bandwidth among flows over shared resources (links, DRAM, PCIe),
// with per-flow caps and weights. The one solver every bandwidth model in warpsim goes through.
//
// Progressive filling: raise every unfrozen flow's rate in proportion to its weight until a
// resource saturates or a flow reaches its cap; freeze those flows; repeat. Rates only change
// inside the connected component (flows linked by shared resources) of a flow that joined or
// left, so solve() recomputes just those components and reports which flows changed rate.

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace sim {

class FairShare {
 public:
  using ResourceId = std::uint32_t;
  using FlowId = std::uint32_t;
  static constexpr double kUncapped = std::numeric_limits<double>::infinity();

  ResourceId add_resource(std::string name, double capacity);
  void set_capacity(ResourceId r, double capacity);
  double capacity(ResourceId r) const { return resources_[r].capacity; }
  const std::string& name(ResourceId r) const { return resources_[r].name; }

  // A flow crossing `path` (each resource once), at most `cap`, sharing by `weight`.
  FlowId add_flow(std::span<const ResourceId> path, double cap = kUncapped, double weight = 1.0);
  void remove_flow(FlowId f);
  void set_cap(FlowId f, double cap);
  void set_weight(FlowId f, double weight);
  bool active(FlowId f) const { return f < flows_.size() && flows_[f].active; }

  // Recomputes rates where something changed; returns the flows whose rate changed (valid until
  // the next call). Solving with nothing changed is free.
  const std::vector<FlowId>& solve();
  double rate(FlowId f) const { return flows_[f].rate; }
  // Sum of the rates of the flows crossing r (after solve()).
  double load(ResourceId r) const;

 private:
  struct Resource {
    std::string name;
    double capacity;
    std::vector<FlowId> flows;  // active flows crossing it
    bool dirty = false;
    std::uint32_t mark = 0;  // component visit stamp
  };
  struct Flow {
    std::vector<ResourceId> path;
    double cap, weight, rate = 0;
    bool active = false, dirty = false;
    std::uint32_t mark = 0;
  };

  void fill(const std::vector<FlowId>& flows, const std::vector<ResourceId>& resources);

  std::vector<Resource> resources_;
  std::vector<Flow> flows_;
  std::vector<FlowId> free_flows_;
  std::vector<ResourceId> dirty_resources_;
  std::vector<FlowId> dirty_flows_;
  std::vector<FlowId> changed_;
  // Scratch kept between solves, so a solve allocates nothing.
  struct Local {
    double remaining;
    double weight;
  };
  std::vector<std::uint32_t> slot_;  // resource -> index in the component
  std::vector<FlowId> comp_flows_;
  std::vector<ResourceId> comp_res_;
  std::vector<Local> local_;
  std::vector<double> new_rate_;
  std::vector<char> frozen_;
  std::uint32_t stamp_ = 0;
};

}  // namespace sim

#include "sim/fair_share.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/invariant.hpp"

namespace sim {

FairShare::ResourceId FairShare::add_resource(std::string name, double capacity) {
  if (!(capacity > 0)) throw std::invalid_argument("fair share: capacity must be > 0: " + name);
  resources_.push_back(Resource{std::move(name), capacity, {}});
  return static_cast<ResourceId>(resources_.size() - 1);
}

void FairShare::set_capacity(ResourceId r, double capacity) {
  if (!(capacity > 0)) throw std::invalid_argument("fair share: capacity must be > 0");
  resources_[r].capacity = capacity;
  if (!resources_[r].dirty) {
    resources_[r].dirty = true;
    dirty_resources_.push_back(r);
  }
}

FairShare::FlowId FairShare::add_flow(std::span<const ResourceId> path, double cap, double weight) {
  if (!(weight > 0)) throw std::invalid_argument("fair share: weight must be > 0");
  if (!(cap > 0)) throw std::invalid_argument("fair share: cap must be > 0");
  if (path.empty() && std::isinf(cap))
    throw std::invalid_argument("fair share: a flow needs a resource or a finite cap");
  FlowId f;
  if (free_flows_.empty()) {
    f = static_cast<FlowId>(flows_.size());
    flows_.emplace_back();
  } else {
    f = free_flows_.back();
    free_flows_.pop_back();
  }
  Flow& fl = flows_[f];
  fl.path.assign(path.begin(), path.end());
  fl.cap = cap;
  fl.weight = weight;
  fl.rate = 0;
  fl.active = true;
  fl.dirty = true;
  dirty_flows_.push_back(f);
  for (ResourceId r : fl.path) {
    if (r >= resources_.size()) throw std::out_of_range("fair share: unknown resource");
    resources_[r].flows.push_back(f);
  }
  return f;
}

void FairShare::remove_flow(FlowId f) {
  Flow& fl = flows_.at(f);
  if (!fl.active) return;
  fl.active = false;
  fl.rate = 0;
  for (ResourceId r : fl.path) {
    auto& v = resources_[r].flows;
    v.erase(std::find(v.begin(), v.end(), f));
    if (!resources_[r].dirty) {
      resources_[r].dirty = true;
      dirty_resources_.push_back(r);
    }
  }
  free_flows_.push_back(f);
}

void FairShare::set_cap(FlowId f, double cap) {
  if (!(cap > 0)) throw std::invalid_argument("fair share: cap must be > 0");
  Flow& fl = flows_.at(f);
  if (fl.cap == cap) return;
  fl.cap = cap;
  if (!fl.dirty) {
    fl.dirty = true;
    dirty_flows_.push_back(f);
  }
}

void FairShare::set_weight(FlowId f, double weight) {
  if (!(weight > 0)) throw std::invalid_argument("fair share: weight must be > 0");
  Flow& fl = flows_.at(f);
  if (fl.weight == weight) return;
  fl.weight = weight;
  if (!fl.dirty) {
    fl.dirty = true;
    dirty_flows_.push_back(f);
  }
}

double FairShare::load(ResourceId r) const {
  double s = 0;
  for (FlowId f : resources_[r].flows) s += flows_[f].rate;
  return s;
}

const std::vector<FairShare::FlowId>& FairShare::solve() {
  changed_.clear();
  if (dirty_flows_.empty() && dirty_resources_.empty()) return changed_;
  ++stamp_;
  // Collect each affected component by breadth-first search over flows and resources, seeded
  // in a fixed order so the result never depends on anything but the inputs.
  std::vector<FlowId>& comp_flows = comp_flows_;
  std::vector<ResourceId>& comp_res = comp_res_;
  comp_flows.clear();
  comp_res.clear();
  auto visit_resource = [&](ResourceId r) {
    if (resources_[r].mark == stamp_) return;
    resources_[r].mark = stamp_;
    comp_res.push_back(r);
  };
  auto visit_flow = [&](FlowId f) {
    if (!flows_[f].active || flows_[f].mark == stamp_) return;
    flows_[f].mark = stamp_;
    comp_flows.push_back(f);
  };
  for (FlowId f : dirty_flows_) {
    flows_[f].dirty = false;
    visit_flow(f);
  }
  for (ResourceId r : dirty_resources_) {
    resources_[r].dirty = false;
    visit_resource(r);
  }
  dirty_flows_.clear();
  dirty_resources_.clear();
  for (std::size_t fi = 0, ri = 0; fi < comp_flows.size() || ri < comp_res.size();) {
    if (fi < comp_flows.size()) {
      for (ResourceId r : flows_[comp_flows[fi++]].path) visit_resource(r);
    } else {
      for (FlowId f : resources_[comp_res[ri++]].flows) visit_flow(f);
    }
  }
  fill(comp_flows, comp_res);
  return changed_;
}

void FairShare::fill(const std::vector<FlowId>& flows, const std::vector<ResourceId>& resources) {
  // Remaining capacity and unfrozen weight per resource (indexed through a local map).
  std::vector<Local>& local = local_;
  local.assign(resources.size(), Local{});
  std::vector<std::uint32_t>& slot = slot_;  // resource -> local index
  if (slot.size() < resources_.size()) slot.resize(resources_.size(), 0);
  for (std::size_t i = 0; i < resources.size(); ++i) {
    slot[resources[i]] = static_cast<std::uint32_t>(i);
    local[i] = {resources_[resources[i]].capacity, 0.0};
  }
  std::vector<double>& new_rate = new_rate_;
  new_rate.assign(flows.size(), 0.0);
  std::vector<char>& frozen = frozen_;
  frozen.assign(flows.size(), 0);
  for (std::size_t i = 0; i < flows.size(); ++i)
    for (ResourceId r : flows_[flows[i]].path) local[slot[r]].weight += flows_[flows[i]].weight;

  std::size_t left = flows.size();
  double level = 0;  // rate per unit weight given to every unfrozen flow so far
  while (left > 0) {
    // The next level at which some resource saturates or some flow hits its cap.
    double next = std::numeric_limits<double>::infinity();
    for (const Local& l : local)
      if (l.weight > 0) next = std::min(next, level + l.remaining / l.weight);
    for (std::size_t i = 0; i < flows.size(); ++i)
      if (!frozen[i]) next = std::min(next, flows_[flows[i]].cap / flows_[flows[i]].weight);
    const double step = next - level;
    for (Local& l : local) l.remaining -= step * l.weight;
    level = next;
    // Freeze flows at their cap, and flows crossing a saturated resource.
    constexpr double kEps = 1e-12;
    for (std::size_t i = 0; i < flows.size(); ++i) {
      if (frozen[i]) continue;
      const Flow& fl = flows_[flows[i]];
      bool freeze = fl.cap / fl.weight <= level * (1 + kEps);
      for (ResourceId r : fl.path) {
        const Local& l = local[slot[r]];
        if (l.remaining <= kEps * resources_[r].capacity) freeze = true;
      }
      if (freeze) {
        frozen[i] = 1;
        --left;
        new_rate[i] = std::min(fl.cap, level * fl.weight);
        for (ResourceId r : fl.path) {
          Local& l = local[slot[r]];
          l.weight -= fl.weight;
          if (l.weight < 1e-12) l.weight = 0;
        }
      }
    }
  }
  for (std::size_t i = 0; i < flows.size(); ++i) {
    Flow& fl = flows_[flows[i]];
    WARPSIM_INVARIANT(new_rate[i] >= 0 && new_rate[i] <= fl.cap * (1 + 1e-9),
                      "a flow's fair-share rate is negative or above its cap");
    if (fl.rate != new_rate[i]) {
      fl.rate = new_rate[i];
      changed_.push_back(flows[i]);
    }
  }
#ifndef NDEBUG
  for (ResourceId r : resources)
    WARPSIM_INVARIANT(load(r) <= resources_[r].capacity * (1 + 1e-9) + 1e-9,
                      "the flows crossing a resource exceed its capacity");
#endif
}

}  // namespace sim

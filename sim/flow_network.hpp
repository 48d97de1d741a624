#pragma once
// Transfers that share bandwidth over time: a FairShare solver driven by the Simulator.
// A flow moves `bytes` across a path of resources; whenever flows join or leave, the rates of
// the affected component are re-solved once per timestep (at Priority::kBandwidth, after every
// same-time change, which gives the same answer as solving after each change) and completion
// events are moved. Used by DRAM sharing among kernels, PCIe, NVLink and network links.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "sim/fair_share.hpp"
#include "sim/simulator.hpp"

namespace sim {

class FlowNetwork {
 public:
  using ResourceId = FairShare::ResourceId;
  using FlowId = FairShare::FlowId;
  using Callback = std::function<void(FlowId)>;

  explicit FlowNetwork(Simulator& sim) : sim_(sim) {}

  ResourceId add_resource(std::string name, double bytes_per_second) {
    return solver_.add_resource(std::move(name), bytes_per_second);
  }
  // Starts moving `bytes` now; `on_done` runs when the last byte arrives.
  FlowId start(std::span<const ResourceId> path, double bytes, Callback on_done,
               double cap = FairShare::kUncapped, double weight = 1.0);
  // Stops a flow without calling its callback; returns the bytes it had left.
  double abort(FlowId f);

  double rate(FlowId f) const { return solver_.rate(f); }
  double load(ResourceId r) const { return solver_.load(r); }
  double capacity(ResourceId r) const { return solver_.capacity(r); }
  const std::string& name(ResourceId r) const { return solver_.name(r); }
  // Called after each re-solve with the resources whose load may have changed (for stats).
  void on_rates_changed(std::function<void()> hook) { hook_ = std::move(hook); }

 private:
  struct State {
    double remaining = 0;  // bytes left at `since`
    double rate = 0;       // bytes/s in effect since `since`
    Time since;
    EventHandle done;
    Callback on_done;
  };
  void request_solve();
  void resolve();
  void finish(FlowId f);
  void advance(State& s);

  Simulator& sim_;
  FairShare solver_;
  std::vector<State> state_;
  bool solve_pending_ = false;
  std::function<void()> hook_;
};

}  // namespace sim

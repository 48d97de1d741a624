#pragma once
// The shipped system presets and a GPU model for interconnect tests.

#include <memory>
#include <string>
#include <vector>

#include "interconnect/collective.hpp"
#include "interconnect/collective_runner.hpp"
#include "interconnect/plugins.hpp"
#include "interconnect/system_spec.hpp"
#include "interconnect/topology.hpp"
#include "models/gpu.hpp"
#include "models/kernel_cost.hpp"
#include "sim/config.hpp"
#include "sim/flow_network.hpp"

namespace testing {

inline sim::ConfigLoader preset_loader() {
  sim::ConfigLoader l({std::string(WARPSIM_SOURCE) + "/configs"});
  l.add_reference("gpu", "gpus");
  l.add_reference("system", "systems");
  return l;
}

inline interconnect::SystemSpec preset(const std::string& name,
                                       const std::vector<std::string>& overrides = {}) {
  return interconnect::SystemSpec::load(preset_loader(), name, overrides);
}

// One system in simulated time: links, optionally rank 0's GPU, and the collectives.
struct Cluster {
  interconnect::SystemSpec spec;
  sim::PluginCatalog catalog;
  sim::Simulator sim;
  sim::FlowNetwork net{sim};
  interconnect::Topology topo;
  std::unique_ptr<models::KernelCost> cost;
  std::unique_ptr<models::Gpu> gpu;
  std::unique_ptr<interconnect::CollectiveRunner> runner;

  explicit Cluster(interconnect::SystemSpec s, bool with_gpu = false)
      : spec(std::move(s)), topo(spec, net) {
    interconnect::register_interconnect_plugins(catalog);
    if (with_gpu) {
      models::register_roofline_cost(catalog);
      cost = models::kernel_costs(catalog).create("roofline",
                                                  sim::Config(sim::parse_yaml("{}", "t"), ""));
      gpu = std::make_unique<models::Gpu>(sim, spec.gpu, *cost);
    }
    runner = std::make_unique<interconnect::CollectiveRunner>(sim, topo, gpu.get());
  }
  interconnect::Plan plan(const std::string& algo, interconnect::CollectiveOp op) {
    auto a = interconnect::collectives(catalog).create(algo, sim::Config(sim::parse_yaml("{}", "t"), ""));
    return a->plan(op, topo);
  }
  // Runs one collective alone; returns its time.
  sim::Time run(const std::string& algo, interconnect::CollectiveOp op, double bytes,
                interconnect::CollectiveData* data = nullptr) {
    const sim::Time start = sim.now();
    sim::Time end;
    runner->run(plan(algo, op), bytes, [&] { end = sim.now(); }, data);
    sim.run();
    return end - start;
  }
};

}  // namespace testing

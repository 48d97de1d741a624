#include "interconnect/measure.hpp"

#include <memory>

#include "interconnect/collective_runner.hpp"
#include "interconnect/topology.hpp"
#include "models/gpu.hpp"
#include "sim/flow_network.hpp"
#include "sim/simulator.hpp"

namespace interconnect {

CollectiveTiming measure_collective(const SystemSpec& system, const models::KernelCost* cost,
                                    const Collective& algorithm, CollectiveOp op,
                                    std::uint64_t bytes, sim::TimelineWriter* timeline) {
  sim::Simulator sim;
  sim::FlowNetwork net(sim);
  Topology topo(system, net);
  std::unique_ptr<models::Gpu> gpu;
  if (cost) gpu = std::make_unique<models::Gpu>(sim, system.gpu, *cost);
  CollectiveRunner runner(sim, topo, gpu.get());
  if (timeline) {
    if (gpu) gpu->attach_timeline(timeline);
    runner.attach_timeline(timeline);
  }
  sim::Time end;
  runner.run(algorithm.plan(op, topo), static_cast<double>(bytes), [&] { end = sim.now(); });
  sim.run();
  CollectiveTiming t;
  t.time = end;
  const double us = end.us();
  t.algbw_gbps = us > 0 ? static_cast<double>(bytes) / (us * 1e3) : 0.0;
  t.busbw_gbps = t.algbw_gbps * bus_factor(op, system.gpus());
  t.fingerprint = sim.fingerprint();
  return t;
}

std::vector<std::uint64_t> geometric_sizes(std::uint64_t lo, std::uint64_t hi, double factor) {
  std::vector<std::uint64_t> sizes;
  for (double s = static_cast<double>(lo); s <= static_cast<double>(hi) * (1 + 1e-12); s *= factor)
    sizes.push_back(static_cast<std::uint64_t>(s));
  return sizes;
}

}  // namespace interconnect

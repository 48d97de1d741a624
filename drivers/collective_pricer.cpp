#include "drivers/collective_pricer.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sim/error.hpp"

namespace drivers {

CollectivePricer::CollectivePricer(const interconnect::SystemSpec& system,
                                   const interconnect::Collective& algorithm,
                                   interconnect::CollectiveOp op)
    : system_(std::make_unique<System>(system, SystemOptions{})) {
  runner_ = std::make_unique<interconnect::CollectiveRunner>(system_->sim(), system_->topology(),
                                                             nullptr);
  plan_ = algorithm.plan(op, system_->topology());
}

CollectivePricer::~CollectivePricer() = default;

sim::Time CollectivePricer::price(std::uint64_t bytes) {
  if (auto it = memo_.find(bytes); it != memo_.end()) return it->second;
  sim::Simulator& sim = system_->sim();
  const sim::Time start = sim.now();
  sim::Time end = start;
  runner_->run(plan_, static_cast<double>(bytes), [&] { end = sim.now(); });
  sim.run();
  const sim::Time t = end - start;
  memo_.emplace(bytes, t);
  return t;
}

interconnect::SystemSpec node_subset(const interconnect::SystemSpec& system, int gpus) {
  if (gpus < 1 || gpus > system.gpus_per_node)
    throw sim::InputError(fmt::format("a group of {} GPUs does not fit in a node of {} ({} GPUs "
                                      "per node): tensor parallelism stays inside a node",
                                      gpus, system.name, system.gpus_per_node));
  interconnect::SystemSpec s = system;
  s.gpus_per_node = gpus;
  s.nodes = 1;
  std::erase_if(s.mesh, [gpus](const interconnect::MeshLink& l) { return l.a >= gpus || l.b >= gpus; });
  for (auto& ring : s.rings) std::erase_if(ring, [gpus](int g) { return g >= gpus; });
  std::erase_if(s.rings, [](const std::vector<int>& r) { return r.empty(); });
  return s;
}

interconnect::SystemSpec gpu_pair(const interconnect::SystemSpec& system, bool same_node) {
  const bool in_node = system.gpus_per_node >= 2 && (same_node || system.nodes < 2);
  if (in_node) return node_subset(system, 2);
  interconnect::SystemSpec s = system;
  s.gpus_per_node = 1;
  s.nodes = 2;
  s.mesh.clear();
  s.rings.clear();
  return s;
}

}  // namespace drivers

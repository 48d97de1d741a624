#pragma once
// A collective's time on an otherwise idle system, run on the network model once per message
// size and remembered (a serving engine's TP all-reduces and pipeline sends repeat the same
// few sizes thousands of times). One system and plan, built once; each new size runs alone on
// it, so the answer equals measure_collective's for that size.

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "drivers/system.hpp"
#include "interconnect/collective.hpp"
#include "interconnect/collective_runner.hpp"
#include "interconnect/system_spec.hpp"
#include "sim/time.hpp"

namespace drivers {

class CollectivePricer {
 public:
  // `system` is copied; network only (the collective's kernels take no SMs of a GPU model).
  CollectivePricer(const interconnect::SystemSpec& system,
                   const interconnect::Collective& algorithm, interconnect::CollectiveOp op);
  ~CollectivePricer();

  sim::Time price(std::uint64_t bytes);
  std::size_t sizes_priced() const { return memo_.size(); }

 private:
  std::unique_ptr<System> system_;
  std::unique_ptr<interconnect::CollectiveRunner> runner_;
  interconnect::Plan plan_;
  std::unordered_map<std::uint64_t, sim::Time> memo_;
};

// The first `gpus` GPUs of `system`'s first node as a system of their own (a replica's TP
// group); the mesh links and ring orders among them are kept. Needs 1 <= gpus <= gpus_per_node.
interconnect::SystemSpec node_subset(const interconnect::SystemSpec& system, int gpus);
// Two GPUs that exchange activations or KV: in one node (`same_node`) over its fabric, or in two
// nodes over their NICs and the network.
interconnect::SystemSpec gpu_pair(const interconnect::SystemSpec& system, bool same_node);

}  // namespace drivers

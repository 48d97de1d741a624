#pragma once
// Family `launch`: how a kernel DAG reaches the GPU. A policy turns a lowered workload into the
// program one host thread runs (framework work, launches, events, graph launches); the host
// runtime and the GPU model then execute it.
//
//   eager   one stream, per-op framework work then a launch per kernel (PyTorch eager;
//           `host_mode: scripted` for TorchScript's cheaper dispatch)
//   graph   the whole DAG captured once from one stream and replayed as one CUDA graph
//   nimble  graph replay plus Nimble's stream assignment: the DAG reduced to its minimum
//           equivalent graph, chains from a maximum bipartite matching as streams, events only
//           on reduced cross-stream edges (`matching: closure` for the fewest streams)

#include <memory>
#include <string>

#include "models/host_runtime.hpp"
#include "sim/registry.hpp"
#include "workloads/kernel.hpp"

namespace schedulers::launch {

class LaunchPolicy {
 public:
  virtual ~LaunchPolicy() = default;
  // Which framework mode's host costs apply (a key of configs/hosts/*.yaml).
  virtual std::string host_mode() const = 0;
  virtual models::HostProgram plan(const workloads::TaskGraph& g,
                                   const models::HostCosts& costs) const = 0;
};

using LaunchRegistry = sim::Registry<LaunchPolicy, const sim::Config&>;

inline LaunchRegistry& launch_policies(sim::PluginCatalog& c) {
  return c.family<LaunchRegistry>("launch", "how an op graph reaches the GPU");
}

void register_launch_policies(sim::PluginCatalog& c);

}  // namespace schedulers::launch

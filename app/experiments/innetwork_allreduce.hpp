#pragma once
// `experiment: innetwork_allreduce` -- card 7 of EXPERIMENTS.md: data-parallel training with
// gradient all-reduce overlapped with backprop, host algorithms (ring, ...) against in-network
// reduction in the switch, on several systems; and All-Reduce time against message size for each
// algorithm, nccl-tests style.

#include "sim/registry.hpp"

namespace app {

void register_innetwork_allreduce_experiment(sim::PluginCatalog& catalog);

}  // namespace app

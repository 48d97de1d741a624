#pragma once
// `experiment: windtunnel` -- card 3 of EXPERIMENTS.md (Hummingbird / WindTunnel): a tree
// ensemble compiled to a tensor program by each strategy (workloads/tree_ensemble.hpp), timed
// on the GPU model over tree depth and batch; the crossover, what the depth heuristic picks
// against the fastest, and the cost of a fine-tuning step through the gemm form.

#include "sim/registry.hpp"

namespace app {

void register_windtunnel_experiment(sim::PluginCatalog& catalog);

}  // namespace app

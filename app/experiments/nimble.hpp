#pragma once
// `experiment: nimble` — card 1 of EXPERIMENTS.md: DNN inference and training steps under the
// eager, graph and nimble launch policies (and any other `launch` entries named), reporting
// latency, speedup over eager and the multi-stream gain, next to the published values given in
// the scenario file.

#include "sim/registry.hpp"

namespace app {

void register_nimble_experiment(sim::PluginCatalog& catalog);

}  // namespace app

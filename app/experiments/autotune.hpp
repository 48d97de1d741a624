#pragma once
// `experiment: autotune` -- card 4 of EXPERIMENTS.md (resource-aware autotuning, Dhakal et al.):
// kernel variants tuned on the whole GPU against variants tuned at the share they will run at,
// and tuning jobs run one after another against side by side on shares of the GPU.

#include "sim/registry.hpp"

namespace app {

void register_autotune_experiment(sim::PluginCatalog& catalog);

}  // namespace app

#pragma once
// `experiment: barm` -- card 6 of EXPERIMENTS.md: periodic multi-tenant DNN inference on a GPU
// whose unified memory is oversubscribed, under the `sharing` policies, swept over the
// oversubscription ratio and the SM count.

#include "sim/registry.hpp"

namespace app {

void register_barm_experiment(sim::PluginCatalog& catalog);

}  // namespace app

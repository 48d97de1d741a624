#pragma once
// `experiment: model_serving` -- card 4 of EXPERIMENTS.md: request streams of several DNN
// models with SLOs served on one shared GPU (time slicing, MPS or MIG) under a `sharing` policy
// (GSLICE, D-STACK and their baselines). One point is one policy; the sweeps compare them.

#include "sim/registry.hpp"

namespace app {

void register_model_serving_experiment(sim::PluginCatalog& catalog);

}  // namespace app

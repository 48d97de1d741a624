#pragma once
// `experiment: pretzel` -- card 5 of EXPERIMENTS.md (PRETZEL, Lee et al., OSDI 2018): the same
// classical-ML pipelines (workloads/ml_pipeline.hpp) served as black boxes and as white-box
// plans (drivers/pipeline/pipeline_server.hpp) on the cores of one host.

#include "sim/registry.hpp"

namespace app {

void register_pretzel_experiment(sim::PluginCatalog& catalog);

}  // namespace app

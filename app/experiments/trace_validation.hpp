#pragma once
// `experiment: trace_validation` -- `warpsim validate` over a list of Kineto traces and kernel
// costs, as a scenario: one metrics.json for sweeps, golden checks and plots
// (configs/experiments/trace_validation.yaml, docs/validation.md).

#include "sim/registry.hpp"

namespace app {

void register_trace_validation_experiment(sim::PluginCatalog& catalog);

}  // namespace app

#pragma once
// The plugin families of workloads/ and its built-in entries (see sim/registry.hpp).

#include "sim/registry.hpp"

namespace workloads {

void register_workloads_plugins(sim::PluginCatalog& catalog);

}  // namespace workloads

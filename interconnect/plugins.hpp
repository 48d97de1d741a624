#pragma once
// The plugin families of interconnect/ and its built-in entries (see sim/registry.hpp).

#include "sim/registry.hpp"

namespace interconnect {

void register_interconnect_plugins(sim::PluginCatalog& catalog);

}  // namespace interconnect

#pragma once
// Registers every built-in plugin family of every folder (see sim/registry.hpp).

#include "sim/registry.hpp"

namespace app {

void register_all_plugins(sim::PluginCatalog& catalog);

}  // namespace app

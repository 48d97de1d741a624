#pragma once
// The plugin families of models/ and its built-in entries (see sim/registry.hpp).

#include "sim/registry.hpp"

namespace models {

void register_models_plugins(sim::PluginCatalog& catalog);

}  // namespace models

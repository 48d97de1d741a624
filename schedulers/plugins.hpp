#pragma once
// The plugin families of schedulers/ and its built-in entries (see sim/registry.hpp).

#include "sim/registry.hpp"

namespace schedulers {

void register_schedulers_plugins(sim::PluginCatalog& catalog);

}  // namespace schedulers

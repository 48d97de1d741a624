#pragma once
// `warpsim list [family]`: the plugin families with their entries, and the named configs.

#include <ostream>
#include <string>

#include "sim/registry.hpp"

namespace app {

// Returns false when `family` names nothing known.
bool list_plugins(const sim::PluginCatalog& catalog, const std::string& family, std::ostream& out);

}  // namespace app

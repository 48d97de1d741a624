#pragma once
// `warpsim list [family]`: the plugin families with their entries, and the named configs.

#include <ostream>
#include <string>

#include "app/command.hpp"
#include "sim/registry.hpp"

namespace app {

// Returns false when `family` names nothing known.
bool list_plugins(const sim::PluginCatalog& catalog, const std::string& family, std::ostream& out);

// Declares `warpsim list` on the CLI.
Command add_list_command(CLI::App& cli);

}  // namespace app

#include "interconnect/plugins.hpp"

#include "interconnect/collective.hpp"

namespace interconnect {

void register_interconnect_plugins(sim::PluginCatalog& catalog) { register_collectives(catalog); }

}  // namespace interconnect

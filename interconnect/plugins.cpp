#include "interconnect/plugins.hpp"

namespace interconnect {

void register_interconnect_plugins(sim::PluginCatalog& /*catalog*/) {
  // No families yet: they arrive with the models that use them (see the open issues).
}

}  // namespace interconnect

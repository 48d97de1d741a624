#include "workloads/plugins.hpp"

namespace workloads {

void register_workloads_plugins(sim::PluginCatalog& /*catalog*/) {
  // No families yet: they arrive with the models that use them (see the open issues).
}

}  // namespace workloads

#include "schedulers/plugins.hpp"

namespace schedulers {

void register_schedulers_plugins(sim::PluginCatalog& /*catalog*/) {
  // No families yet: they arrive with the models that use them (see the open issues).
}

}  // namespace schedulers

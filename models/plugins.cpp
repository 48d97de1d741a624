#include "models/plugins.hpp"

namespace models {

void register_models_plugins(sim::PluginCatalog& /*catalog*/) {
  // No families yet: they arrive with the models that use them (see the open issues).
}

}  // namespace models

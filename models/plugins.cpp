#include "models/plugins.hpp"

#include "models/kernel_cost.hpp"
#include "models/memory/policies.hpp"

namespace models {

void register_models_plugins(sim::PluginCatalog& catalog) {
  register_roofline_cost(catalog);
  register_trace_cost(catalog);
  memory::register_memory_plugins(catalog);
}

}  // namespace models

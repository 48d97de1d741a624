#include "schedulers/plugins.hpp"

#include "schedulers/batching/batching_policy.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "schedulers/routing/routing_policy.hpp"
#include "schedulers/sharing/sharing_policy.hpp"

namespace schedulers {

void register_schedulers_plugins(sim::PluginCatalog& catalog) {
  launch::register_launch_policies(catalog);
  sharing::register_sharing_policies(catalog);
  batching::register_batching_policies(catalog);
  routing::register_routing_policies(catalog);
}

}  // namespace schedulers

#pragma once
// Family `routing`: which replica of an LLM serving deployment a new request goes to. The
// serving loop (drivers/serving/) owns the replicas; a policy sees each one's load as plain
// numbers.
//
//   round-robin        replicas in turn
//   least-outstanding  the replica with the fewest requests not yet finished (ties: lowest index)

#include <cstdint>
#include <vector>

#include "sim/config.hpp"
#include "sim/registry.hpp"

namespace schedulers::routing {

struct ReplicaLoad {
  std::int64_t outstanding = 0;     // requests routed to it and not finished
  std::int64_t queued_tokens = 0;   // prompt tokens waiting to be prefilled there
  std::int64_t free_blocks = 0;     // KV blocks no request holds there
  std::int64_t total_blocks = 0;    // its whole KV cache
};

class RoutingPolicy {
 public:
  virtual ~RoutingPolicy() = default;
  // The replica for the next request: an index into `replicas` (never empty).
  virtual std::size_t route(const std::vector<ReplicaLoad>& replicas) = 0;
};

using RoutingRegistry = sim::Registry<RoutingPolicy, const sim::Config&>;

inline RoutingRegistry& routing_policies(sim::PluginCatalog& c) {
  return c.family<RoutingRegistry>("routing", "which LLM serving replica a request goes to");
}

void register_routing_policies(sim::PluginCatalog& c);

}  // namespace schedulers::routing

// The built-in routing policies: round-robin, least-outstanding.
#include "schedulers/routing/routing_policy.hpp"

#include <algorithm>

namespace schedulers::routing {
namespace {

class RoundRobin final : public RoutingPolicy {
 public:
  std::size_t route(const std::vector<ReplicaLoad>& replicas) override {
    return next_++ % replicas.size();
  }

 private:
  std::size_t next_ = 0;
};

class LeastOutstanding final : public RoutingPolicy {
 public:
  std::size_t route(const std::vector<ReplicaLoad>& replicas) override {
    return static_cast<std::size_t>(
        std::min_element(replicas.begin(), replicas.end(),
                         [](const ReplicaLoad& a, const ReplicaLoad& b) {
                           return a.outstanding < b.outstanding;
                         }) -
        replicas.begin());
  }
};

}  // namespace

void register_routing_policies(sim::PluginCatalog& c) {
  auto& r = routing_policies(c);
  r.add("round-robin", "replicas in turn", sim::ParamSchema{},
        [](const sim::Config&) { return std::make_unique<RoundRobin>(); });
  r.add("least-outstanding", "the replica with the fewest unfinished requests",
        sim::ParamSchema{}, [](const sim::Config&) { return std::make_unique<LeastOutstanding>(); });
}

}  // namespace schedulers::routing

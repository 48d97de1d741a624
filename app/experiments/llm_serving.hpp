#pragma once
// `experiment: serving` -- one LLM serving point: replicas of a decoder on a system, a batching
// policy, a router and a request stream, run to completion by drivers/serving's engine. Writes
// the latency and throughput metrics (docs/serving.md) and requests.csv. `warpsim serve` builds
// the same point from its flags; configs/experiments/orca.yaml sweeps it.

#include <memory>
#include <string>
#include <vector>

#include "app/experiment.hpp"
#include "drivers/serving/serving_engine.hpp"
#include "sim/config.hpp"
#include "sim/params.hpp"
#include "sim/registry.hpp"

namespace app {

const sim::ParamSchema& serving_schema();

class ServingPoint final : public Experiment {
 public:
  ServingPoint(const sim::Params& cfg, sim::PluginCatalog& catalog);
  void run(RunContext& ctx) override;

 private:
  drivers::serving::ServingSetup setup_;
  std::unique_ptr<models::KernelCost> cost_;
  std::unique_ptr<interconnect::Collective> all_reduce_;
  std::unique_ptr<schedulers::batching::BatchingPolicy> policy_;
  std::unique_ptr<schedulers::routing::RoutingPolicy> router_;
  sim::Config requests_config_;
  std::string model_name_, policy_name_;
  bool write_requests_ = true;
};

void register_llm_serving_experiment(sim::PluginCatalog& catalog);

}  // namespace app

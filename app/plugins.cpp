#include "app/plugins.hpp"

#include "app/experiments/autotune.hpp"
#include "app/experiments/barm.hpp"
#include "app/experiments/innetwork_allreduce.hpp"
#include "app/experiments/llm_serving.hpp"
#include "app/experiments/model_serving.hpp"
#include "app/experiments/nimble.hpp"
#include "app/experiments/pretzel.hpp"
#include "app/experiments/transfers.hpp"
#include "app/experiments/trace_validation.hpp"
#include "app/experiments/windtunnel.hpp"
#include "interconnect/plugins.hpp"
#include "models/plugins.hpp"
#include "schedulers/plugins.hpp"
#include "workloads/plugins.hpp"

namespace app {

void register_all_plugins(sim::PluginCatalog& catalog) {
  workloads::register_workloads_plugins(catalog);
  models::register_models_plugins(catalog);
  interconnect::register_interconnect_plugins(catalog);
  schedulers::register_schedulers_plugins(catalog);
  register_transfers_experiment(catalog);
  register_nimble_experiment(catalog);
  register_innetwork_allreduce_experiment(catalog);
  register_barm_experiment(catalog);
  register_trace_validation_experiment(catalog);
  register_llm_serving_experiment(catalog);
  register_model_serving_experiment(catalog);
  register_autotune_experiment(catalog);
  register_windtunnel_experiment(catalog);
  register_pretzel_experiment(catalog);
}

}  // namespace app

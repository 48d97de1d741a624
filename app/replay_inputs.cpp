#include "app/replay_inputs.hpp"

#include <CLI/CLI.hpp>

#include "app/paths.hpp"
#include "drivers/replay/trace_replay.hpp"
#include "interconnect/system_spec.hpp"

namespace app {

void add_replay_inputs(CLI::App& sub, ReplayInputs& in) {
  sub.add_option("trace", in.trace, "a Kineto trace: .json or .json.gz")->required();
  sub.add_option("--gpu", in.gpu, "the GPU to simulate: a name in configs/gpus, or a yaml")
      ->required();
  sub.add_option("--system", in.system,
                 "a system in configs/systems (or a yaml) whose network prices the trace's NCCL "
                 "kernels from their args; without one they keep their measurement");
  sub.add_option("--cost", in.cost,
                 "trace: measured kernel durations | roofline: predicted where the trace gives "
                 "the work")
      ->capture_default_str();
  sub.add_option("--set", in.overrides, "override a GPU key: gpu.sm_count=100");
  sub.add_option("--cost-param", in.cost_params,
                 "a kernel-cost 'trace' parameter: cta_fixed=\"2 us\" (warpsim list kernel-cost)");
}

workloads::ReplayWorkload replay_workload(const workloads::kineto::Trace& trace,
                                          const std::string& system, sim::PluginCatalog& catalog) {
  workloads::ReplayWorkload w = workloads::build_replay(trace);
  if (!system.empty())
    drivers::price_nccl_kernels(w, trace, interconnect::SystemSpec::load(config_loader(), system),
                                catalog);
  return w;
}

}  // namespace app

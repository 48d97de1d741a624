#include "drivers/pipeline/gpu_operators.hpp"

#include <fmt/format.h>

#include "drivers/dnn/dnn_run.hpp"
#include "models/kernel_pricer.hpp"
#include "workloads/lowering.hpp"
#include "workloads/tree_ensemble.hpp"

namespace drivers {

std::string gpu_operator_key(const workloads::PipelineOp& op) {
  return fmt::format("trees{}.depth{}.features{}", op.trees, op.depth, op.entries);
}

std::map<std::string, double> price_gpu_operators(const std::vector<workloads::Pipeline>& zoo,
                                                  const models::GpuSpec& gpu,
                                                  const models::KernelCost& cost,
                                                  const models::HostCosts& host,
                                                  const schedulers::launch::LaunchPolicy& launch) {
  std::map<std::string, double> seconds;
  for (const workloads::Pipeline& p : zoo)
    for (const workloads::PipelineOp& op : p.ops) {
      if (!op.on_gpu) continue;
      const std::string key = gpu_operator_key(op);
      if (seconds.count(key)) continue;
      workloads::TreeEnsemble e;
      e.name = p.name + "." + op.name;
      e.trees = op.trees;
      e.depth = op.depth;
      e.features = static_cast<int>(op.entries);
      e.classes = 1;
      workloads::TreeGraphOptions o;
      o.batch = 1;
      o.strategy = workloads::heuristic_tree_strategy(op.depth);
      const workloads::TaskGraph tg = workloads::lower_graph(
          workloads::make_tree_graph(e, o), models::autotuned_lowering(gpu, cost, o.dtype));
      seconds[key] = run_dnn(gpu, cost, launch, host, tg).latency.seconds();
    }
  return seconds;
}

}  // namespace drivers

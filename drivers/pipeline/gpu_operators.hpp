#pragma once
// Pipeline operators placed on the GPU: a tree ensemble (workloads/ml_pipeline.hpp, `trees`
// with on_gpu) compiled by Hummingbird's depth heuristic into a tensor program
// (workloads/tree_ensemble.hpp) and timed once per shape on the GPU model for one prediction,
// the host's launches included. The pipeline server then runs them on one GPU, FIFO.

#include <map>
#include <string>
#include <vector>

#include "models/gpu_spec.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "workloads/ml_pipeline.hpp"

namespace drivers {

// The key an on-GPU operator is priced under: its ensemble's shape.
std::string gpu_operator_key(const workloads::PipelineOp& op);

// Seconds per prediction of every distinct on-GPU operator of `zoo`, by gpu_operator_key.
std::map<std::string, double> price_gpu_operators(const std::vector<workloads::Pipeline>& zoo,
                                                  const models::GpuSpec& gpu,
                                                  const models::KernelCost& cost,
                                                  const models::HostCosts& host,
                                                  const schedulers::launch::LaunchPolicy& launch);

}  // namespace drivers

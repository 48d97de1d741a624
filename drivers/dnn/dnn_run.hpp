#pragma once
// Runs one lowered DNN workload (an inference pass or a training step) on one simulated GPU
// under one launch policy, and reports what the experiments measure. Shared by the experiments
// that time whole networks (nimble, quickstart) and the training-step benchmark.

#include <cstdint>

#include "drivers/system.hpp"
#include "models/gpu_spec.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "sim/timeline.hpp"
#include "workloads/kernel.hpp"

namespace drivers {

struct DnnRun {
  sim::Time latency;          // first host command to device idle
  sim::Time host_busy;        // host thread busy time
  double sm_busy = 0;         // time-averaged fraction of SMs holding a CTA
  double gpu_idle = 0;        // fraction of the latency with no CTA on any SM
  std::uint64_t kernels = 0;
  std::int32_t streams = 1;
  RunSummary run;
};

// `sms` > 0: the process's kernels run on the GPU's first `sms` SMs only (an MPS client capped
// at that share of the GPU); 0: every SM.
DnnRun run_dnn(const models::GpuSpec& gpu, const models::KernelCost& cost,
               const schedulers::launch::LaunchPolicy& policy, const models::HostCosts& costs,
               const workloads::TaskGraph& graph, sim::TimelineWriter* timeline = nullptr,
               int sms = 0);

}  // namespace drivers

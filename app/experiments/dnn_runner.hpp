#pragma once
// Runs one lowered DNN workload (an inference pass or a training step) on one simulated GPU
// under one launch policy, and reports what the experiments measure. Shared by the experiments
// that time whole networks (nimble, quickstart).

#include <cstdint>
#include <string>

#include "models/gpu_spec.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "sim/config.hpp"
#include "sim/timeline.hpp"
#include "workloads/kernel.hpp"

namespace app {

struct DnnRun {
  sim::Time latency;          // first host command to device idle
  sim::Time host_busy;        // host thread busy time
  double sm_busy = 0;         // time-averaged fraction of SMs holding a CTA
  double gpu_idle = 0;        // fraction of the latency with no CTA on any SM
  std::uint64_t kernels = 0;
  std::int32_t streams = 1;
  std::uint64_t events = 0;   // simulator events executed
  std::uint64_t fingerprint = 0;
};

DnnRun run_dnn(const models::GpuSpec& gpu, const models::KernelCost& cost,
               const schedulers::launch::LaunchPolicy& policy, const models::HostCosts& costs,
               const workloads::TaskGraph& graph, sim::TimelineWriter* timeline = nullptr);

}  // namespace app

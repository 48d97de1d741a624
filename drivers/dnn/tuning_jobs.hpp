#pragma once
// Autotuning jobs on one GPU: a job times every candidate kernel an autotuner tries for a model
// (models::KernelPricer::priced), each `repeats` times, one after another on one stream, its
// host thread waiting for each run to finish before the next (the timer is read on the host,
// paying the host's launch and synchronization costs). Jobs
// run one after another on the whole GPU, or all at once, each an MPS client capped to an equal
// share of the SMs (the resource-aware tuning of Dhakal et al.): the makespan of each.

#include <vector>

#include "models/gpu_spec.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "workloads/kernel.hpp"

namespace drivers {

struct TuningMakespan {
  double seconds = 0;
  std::uint64_t kernels = 0;
};

// `spatial`: every job at once on its 1/jobs share of the SMs; otherwise back to back on all.
TuningMakespan run_tuning_jobs(const models::GpuSpec& gpu, const models::KernelCost& cost,
                               const std::vector<std::vector<workloads::KernelDesc>>& jobs,
                               int repeats, bool spatial, const models::HostCosts& host);

}  // namespace drivers

#pragma once
// One data-parallel training iteration (PyTorch DDP) on a built system. The host issues the
// forward and backward kernels through the launch policy (eager: op by op on one stream, at
// the host's costs; graph or nimble: captured and replayed), so a host-bound step and a Nimble
// schedule compose with the collectives. As backward produces the gradients of a bucket, the
// bucket's all-reduce is queued on the communication side (one collective at a time, as
// NCCL's stream) -- or, without overlap, all buckets are reduced after backward; the host
// issues the optimizer once backward is done and the optimizer kernels start when the last
// bucket is reduced.
//
// Ranks are symmetric, so one GPU model runs rank 0's kernels (compute and the collectives'
// reduce/copy kernels) while the links of every rank carry their flows; the cost of a run
// grows with the links, not with a GPU model per rank.

#include <cstdint>
#include <vector>

#include "drivers/system.hpp"
#include "interconnect/collective.hpp"
#include "interconnect/system_spec.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "sim/time.hpp"
#include "sim/timeline.hpp"
#include "workloads/gradient_buckets.hpp"
#include "workloads/kernel.hpp"

namespace drivers {

struct DdpOptions {
  bool communicate = true;  // false: the GPU alone (no all-reduce), the reference backward
  bool overlap = true;      // all-reduce buckets during backward, or after it
  // How the step reaches the GPU (required). Eager under the ideal host (the default) starts
  // each kernel a kernel gap after the one before.
  const schedulers::launch::LaunchPolicy* launch = nullptr;
  models::HostCosts host = models::HostCosts::ideal();
  sim::TimelineWriter* timeline = nullptr;  // rank 0's kernels and the collectives' pieces
};

struct DdpRun {
  sim::Time forward, backward;  // each phase from its first kernel's start to its last's end
  sim::Time iteration;          // first kernel start to the last optimizer kernel's end
  sim::Time communication;      // sum of the all-reduce times
  sim::Time host_busy;          // the host thread's busy time
  double allreduce_bytes = 0;
  std::uint64_t kernels = 0;
  RunSummary run;
};

// `graph` is the lowered training step and `phase_of_op` the phase of each op of its OpGraph.
DdpRun run_ddp(const interconnect::SystemSpec& system, const models::KernelCost& cost,
               const interconnect::Collective& algorithm, const workloads::TaskGraph& graph,
               const std::vector<workloads::Phase>& phase_of_op,
               const std::vector<workloads::GradientBucket>& buckets, const DdpOptions& options);

}  // namespace drivers

#pragma once
// One data-parallel training iteration (PyTorch DDP) on a simulated system: the forward and
// backward kernels run back to back on one compute stream of the GPU model; as backward
// produces the gradients of a bucket, the bucket's all-reduce is queued on the communication
// stream (one collective at a time, as NCCL's stream) -- or, without overlap, all buckets are
// reduced after backward; the optimizer kernels run once the last bucket is reduced.
//
// Ranks are symmetric, so one GPU model runs rank 0's kernels (compute and the collectives'
// reduce/copy kernels) while the links of every rank carry their flows; the cost of a run
// grows with the links, not with a GPU model per rank.

#include <cstdint>
#include <vector>

#include "interconnect/collective.hpp"
#include "interconnect/system_spec.hpp"
#include "models/kernel_cost.hpp"
#include "sim/time.hpp"
#include "sim/timeline.hpp"
#include "workloads/gradient_buckets.hpp"
#include "workloads/kernel.hpp"

namespace interconnect {

struct DdpOptions {
  bool communicate = true;  // false: the GPU alone (no all-reduce), the reference backward
  bool overlap = true;      // all-reduce buckets during backward, or after it
  sim::TimelineWriter* timeline = nullptr;  // rank 0's kernels and the collectives' pieces
};

struct DdpRun {
  sim::Time forward, backward;  // each phase from its first kernel's start to its last's end
  sim::Time iteration;          // first kernel start to the last optimizer kernel's end
  sim::Time communication;      // sum of the all-reduce times
  double allreduce_bytes = 0;
  std::uint64_t kernels = 0, events = 0, fingerprint = 0;
};

// `graph` is the lowered training step and `phase_of_op` the phase of each op of its OpGraph.
DdpRun run_ddp(const SystemSpec& system, const models::KernelCost& cost,
               const Collective& algorithm, const workloads::TaskGraph& graph,
               const std::vector<workloads::Phase>& phase_of_op,
               const std::vector<workloads::GradientBucket>& buckets, const DdpOptions& options);

}  // namespace interconnect

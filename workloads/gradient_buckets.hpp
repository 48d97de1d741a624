#pragma once
// Data-parallel training (PyTorch DDP) as a description: which gradients are reduced together.
// DDP packs parameters, in reverse registration order (roughly the order backward produces
// their gradients), into buckets of at most `cap` bytes; the first bucket is capped at
// `first_cap` (DDP's 1 MiB) so communication starts early; a parameter larger than the cap has a
// bucket of its own. A bucket's all-reduce fires once every op producing one of its gradients
// has run. Timing lives with the hardware (interconnect/ddp_iteration.hpp).

#include <cstdint>
#include <vector>

#include "workloads/op_graph.hpp"

namespace workloads {

struct GradientBucket {
  std::int64_t bytes = 0;
  std::vector<TensorId> gradients;
  std::vector<OpId> producers;  // sorted, unique
};

// `training` is a graph with a training step (training_step.hpp): gradients are the tensors its
// optimizer updates read next to each parameter. Throws sim::InputError for a graph without an
// optimizer or a cap <= 0.
std::vector<GradientBucket> gradient_buckets(const OpGraph& training, std::int64_t cap,
                                             std::int64_t first_cap = 1 << 20);

}  // namespace workloads

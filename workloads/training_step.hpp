#pragma once
// Turns a forward (inference) graph into one training step, the way a framework's autograd
// would launch it:
//   forward   the existing ops, then softmax + cross-entropy against a `labels` input;
//   backward  for each forward op in reverse topological order, its gradient ops: a conv gives
//             a data-gradient conv (skipped where no input needs a gradient, e.g. the first
//             layer) and a weight-gradient conv, batch norm one fused backward op, a branch
//             point an elementwise sum of its gradients, and so on (op_graph.hpp, Pass);
//   optimizer one optimizer_update per parameter tensor, or a single fused (multi-tensor) one.
// Gradient tensors have the dtype of the tensor they belong to. Dropout and stochastic depth
// are not modelled (random masks: the same kernels as the elementwise ops around them).

#include <string>

#include "workloads/op_graph.hpp"

namespace workloads {

struct TrainingOptions {
  std::string optimizer = "sgd_momentum";  // sgd | sgd_momentum | adam
  bool fused_optimizer = false;            // one multi-tensor update instead of one per tensor
};

// `logits` [N, classes] is the forward graph's output. Throws sim::InputError when an op on
// the path to a parameter has no gradient rule (e.g. elementwise div).
void append_training_step(OpGraph& g, TensorId logits, const TrainingOptions& options = {});

}  // namespace workloads

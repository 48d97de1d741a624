#pragma once
// What each op kind means: the shapes its inputs and outputs must have given its attributes
// and pass, and how much arithmetic it does. Used by OpGraph::check() and OpGraph::flops();
// kept apart so the rules for all kinds can be read side by side.

#include <cstdint>
#include <optional>
#include <string>

#include "workloads/op_graph.hpp"

namespace workloads {

// Why `op`'s tensors do not fit its kind, attributes and pass; nothing when they do.
std::optional<std::string> check_op_shapes(const OpGraph& g, const Op& op);

// FLOPs of `op` (multiply-add = 2). Assumes check_op_shapes passed.
std::int64_t op_flops(const OpGraph& g, const Op& op);

// Optimizer state tensors per parameter: sgd 0, sgd_momentum 1, adam 2.
int optimizer_state_count(const std::string& function);

}  // namespace workloads

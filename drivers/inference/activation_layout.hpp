#pragma once
// Where one job's activations live in its application's managed allocation: a buffer per
// tensor (Caffe: a buffer per blob), or a framework's arena that lets tensors whose lifetimes
// do not overlap share bytes (TensorRT-style). Parameters are not laid out here.

#include <cstdint>
#include <vector>

#include "workloads/op_graph.hpp"

namespace drivers {

// `per_job[t]`: the bytes of activation tensor t for one job (0 for parameters). Each writes
// the offset of every activation tensor into `offset` and returns one job's bytes (the stride
// from one job's buffers to the next's).
std::uint64_t layout_one_per_tensor(const workloads::OpGraph& g,
                                    const std::vector<std::uint64_t>& per_job,
                                    std::vector<std::uint64_t>& offset);
// A tensor lives from the op producing it (graph inputs: from the start) to its last reader;
// largest first, each takes the lowest offset not overlapping a placed tensor whose lifetime
// overlaps its own.
std::uint64_t layout_by_liveness(const workloads::OpGraph& g,
                                 const std::vector<std::uint64_t>& per_job,
                                 std::vector<std::uint64_t>& offset);

// Each tensor's bytes for one job of `g` as the layouts take them: 0 for parameters.
std::vector<std::uint64_t> activation_sizes(const workloads::OpGraph& g);
// One job's activations in an arena laid out by liveness (layout_by_liveness).
std::uint64_t arena_bytes(const workloads::OpGraph& g);

}  // namespace drivers

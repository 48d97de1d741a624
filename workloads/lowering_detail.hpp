#pragma once
// Internals shared by the lowering files (lowering*.cpp), one per op family:
//   lowering_gemm.cpp       conv and gemm: implicit-GEMM tiles, split-K (cuDNN / cuBLAS)
//   lowering_window.cpp     depthwise conv, pools, global pools: direct kernels
//   lowering_pointwise.cpp  activation, elementwise, batch norm, concat, gather
//   lowering_reduce.cpp     softmax, reduction, optimizer update (multi-tensor apply)
// Not part of the public interface: include lowering.hpp.

#include <cstdint>
#include <string>
#include <vector>

#include "workloads/kernel.hpp"
#include "workloads/lowering.hpp"
#include "workloads/op_graph.hpp"

namespace workloads::lowering {

using Shape = std::vector<std::int64_t>;
using Kernels = std::vector<KernelDesc>;

// What every family needs besides the op: the graph, the options, and facts about the graph
// computed once per lowering rather than once per op.
struct Context {
  const OpGraph& g;
  const LoweringOptions& o;
  int arch = 70;  // 70, 80 or 90
  int sms = 80;   // SMs of the typical GPU of that architecture (80 V100, 108 A100, 132 H100)
  bool training = false;  // the graph has a backward phase: batch norm uses batch statistics

  const Tensor& in(const Op& op, std::size_t i) const { return g.tensor(op.inputs.at(i)); }
  const Tensor& out(const Op& op, std::size_t i) const { return g.tensor(op.outputs.at(i)); }
};

Context make_context(const OpGraph& g, const LoweringOptions& o);

// ---------------------------------------------------------------------------------------------
// Small helpers.

constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}
std::int64_t product(const Shape& s);
std::int64_t round_up(std::int64_t v, std::int64_t multiple);

// The largest grid.y / grid.z a launch may have; a grid that needs more folds the excess into x.
inline constexpr std::int64_t kMaxGridYZ = 65535;
Dim3 make_grid(std::int64_t x, std::int64_t y = 1, std::int64_t z = 1);

// C++ element type in PyTorch/cuDNN template names: "float", "c10::Half", ...
std::string ctype(DType t);

// A kernel of `op` with its dtype set (to the first input's) and launch fields left default.
KernelDesc kernel_for(const Context& c, OpId op, std::string name);

// Compulsory traffic of an op: every input read once, every output written once.
double compulsory_bytes(const Context& c, OpId op);

// PyTorch's TensorIterator launches (Loops.cuh): contiguous operands of one shape use
// vectorized_elementwise_kernel<4> (128 threads x 4 elements per thread); broadcasting or
// strided operands the generic elementwise_kernel<128, 2> (128 threads x 2 elements).
KernelDesc elementwise_kernel(const Context& c, OpId op, const std::string& functor,
                              std::int64_t elements, bool vectorized);

// ---------------------------------------------------------------------------------------------
// Fusion (LoweringOptions::fuse_bias_activation, fold_batch_norm).

// The inference batch norm folded into conv `op` (LoweringOptions::fold_batch_norm), or -1.
OpId folded_norm(const Context& c, OpId op);
// The activation op whose work conv `op` absorbs (after its folded norm, if any), or -1.
OpId fused_activation(const Context& c, OpId op);
// The conv a batch norm or an activation `op` is folded or fused into, or -1.
OpId fusing_conv(const Context& c, OpId op);
// Whether `op` (a batch norm or an activation) is absorbed into the conv before it.
bool fused_into_producer(const Context& c, OpId op);

// ---------------------------------------------------------------------------------------------
// Families.

Kernels lower_conv(const Context& c, OpId op);            // conv (groups allowed), any pass
Kernels lower_gemm(const Context& c, OpId op);            // gemm, any pass
Kernels lower_depthwise_conv(const Context& c, OpId op);  // direct kernel, any pass
Kernels lower_pool(const Context& c, OpId op);            // pool_max, pool_avg
Kernels lower_global_pool(const Context& c, OpId op);
Kernels lower_activation(const Context& c, OpId op);
Kernels lower_elementwise(const Context& c, OpId op);
Kernels lower_batch_norm(const Context& c, OpId op);
Kernels lower_concat(const Context& c, OpId op);
Kernels lower_gather(const Context& c, OpId op);          // index_select / gather
Kernels lower_softmax(const Context& c, OpId op);
Kernels lower_reduction(const Context& c, OpId op);
Kernels lower_optimizer_update(const Context& c, OpId op);

}  // namespace workloads::lowering

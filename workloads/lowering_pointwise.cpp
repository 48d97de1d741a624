// Element-by-element kinds as PyTorch eager launches them: activations, elementwise
// arithmetic, batch norm (cuDNN at inference, PyTorch's native kernels in training), concat.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "workloads/lowering_detail.hpp"

namespace workloads::lowering {

namespace {

std::string activation_functor(const std::string& f, bool backward) {
  if (f == "relu") return backward ? "threshold_kernel_impl" : "launch_clamp_scalar";
  if (f == "relu6") return backward ? "hardtanh_backward_kernel" : "hardtanh_kernel";
  if (f == "silu") return backward ? "silu_backward_kernel" : "silu_kernel";
  if (f == "sigmoid") return backward ? "sigmoid_backward_kernel_cuda" : "sigmoid_kernel_cuda";
  if (f == "tanh") return backward ? "tanh_backward_kernel_cuda" : "tanh_kernel_cuda";
  return backward ? "GeluBackwardCUDAKernelImpl" : "GeluCUDAKernelImpl";
}

std::string binary_functor(const std::string& f) {
  if (f == "sub") return "CUDAFunctor_sub";
  if (f == "mul") return "MulFunctor";
  if (f == "div") return "DivFunctor";
  if (f == "max") return "MaximumFunctor";
  if (f == "min") return "MinimumFunctor";
  if (f == "lt") return "CompareLTFunctor";
  if (f == "le") return "CompareLEFunctor";
  if (f == "eq") return "CompareEqFunctor";
  return "CUDAFunctor_add";
}

// PyTorch's getNumThreads (Normalization.cuh): the smallest of 32..512 covering n.
std::int64_t bn_threads(std::int64_t n) {
  for (std::int64_t t : {32, 64, 128, 256}) {
    if (n <= t) return t;
  }
  return 512;
}

}  // namespace

Kernels lower_activation(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  // nn.Identity returns its input (and its gradient passes through): no kernel.
  if (op.function == "identity") return {};
  if (op.pass == Pass::fprop && fused_into_producer(c, id)) return {};
  const bool backward = op.pass == Pass::dgrad;
  KernelDesc k = elementwise_kernel(c, id, activation_functor(op.function, backward),
                                    c.out(op, 0).elements(), true);
  k.flops = static_cast<double>(c.g.flops(id));
  k.dram_bytes = compulsory_bytes(c, id);
  return {k};
}

Kernels lower_elementwise(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  const Tensor& y = c.out(op, 0);
  const double out_bytes = static_cast<double>(y.bytes());
  if (op.function == "neg" || op.function == "where") {
    // Unary neg and ternary where(cond, a, b) are one kernel over all their operands.
    bool same = true;
    for (std::size_t i = 0; i < op.inputs.size(); ++i) same = same && c.in(op, i).shape == y.shape;
    KernelDesc k = elementwise_kernel(
        c, id, op.function == "neg" ? "neg_kernel_cuda" : "where_kernel_impl", y.elements(), same);
    k.flops = static_cast<double>(c.g.flops(id));
    k.dram_bytes = compulsory_bytes(c, id);
    return {k};
  }
  // a + b + c + ... runs as binary kernels, each adding one more operand to the running result
  // (as autograd accumulates a tensor's gradients).
  Kernels ks;
  for (std::size_t i = 1; i < op.inputs.size(); ++i) {
    const Tensor& lhs = c.in(op, i - 1);
    const Tensor& rhs = c.in(op, i);
    const bool same = (i == 1 ? lhs.shape == y.shape : true) && rhs.shape == y.shape;
    KernelDesc k = elementwise_kernel(c, id, binary_functor(op.function), y.elements(), same);
    k.flops = static_cast<double>(y.elements());
    k.dram_bytes = (i == 1 ? static_cast<double>(lhs.bytes()) : out_bytes) +
                   static_cast<double>(rhs.bytes()) + out_bytes;
    ks.push_back(k);
  }
  return ks;
}

Kernels lower_batch_norm(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  if (op.pass == Pass::fprop && fused_into_producer(c, id)) return {};  // folded into its conv
  const Tensor& x = c.in(op, op.pass == Pass::fprop ? 0 : 1);
  const std::string t = ctype(x.dtype);
  const std::int64_t n = x.shape[0], ch = x.shape[1];
  const std::int64_t hw = x.elements() / std::max<std::int64_t>(1, n * ch);
  const double flops = static_cast<double>(c.g.flops(id));
  const double stats = 4.0 * 2.0 * static_cast<double>(ch);  // fp32 mean and inverse std
  const std::int64_t tf = bn_threads(hw);
  const Dim3 per_channel_block{tf, std::max<std::int64_t>(1, 512 / tf), 1};

  if (op.pass == Pass::dgrad) {
    // One CTA per channel: reduce dy and dy*(x - mean), then write dx.
    KernelDesc k = kernel_for(
        c, id, fmt::format("at::native::batch_norm_backward_kernel<{}, float, float, int>", t));
    k.grid = make_grid(ch);
    k.block = per_channel_block;
    k.registers_per_thread = 40;
    k.shared_mem_per_cta = 2 * 32 * 4;
    k.flops = flops;
    k.dram_bytes = compulsory_bytes(c, id) + stats;
    return {k};
  }
  if (!c.training) {
    // Inference: running statistics; one streaming kernel, 128 threads x 4 elements, a CTA
    // row per channel and image.
    KernelDesc k =
        kernel_for(c, id, fmt::format("cudnn::bn_fw_inf_1C11_kernel_NCHW<{}, float, true, 1>", t));
    k.grid = make_grid(ceil_div(hw, 512), ch, n);
    k.block = {128, 1, 1};
    k.registers_per_thread = 32;
    k.flops = flops;
    k.dram_bytes = compulsory_bytes(c, id);
    return {k};
  }
  // Training: batch statistics (a CTA per channel), then the normalisation (Normalization.cuh).
  const bool running = op.inputs.size() == 5;
  const double per_channel_params = 4.0 * 2.0 * static_cast<double>(ch);  // gamma, beta (fp32)
  KernelDesc s = kernel_for(
      c, id,
      fmt::format("at::native::batch_norm_collect_statistics_kernel<InvStd, {}, float, float, int>",
                  t));
  s.grid = make_grid(ch);
  s.block = per_channel_block;
  s.registers_per_thread = 40;
  s.shared_mem_per_cta = 2 * 32 * 4 + 8;
  s.flops = flops / 2;  // sum and sum of squares
  s.dram_bytes = static_cast<double>(x.bytes()) + stats + (running ? 2.0 * stats : 0.0);

  const std::int64_t tf2 = std::max(bn_threads(hw / 4), std::min<std::int64_t>(bn_threads(hw), 64));
  const std::int64_t tb = std::max<std::int64_t>(64 / tf2, 1);
  KernelDesc k = kernel_for(
      c, id,
      fmt::format("at::native::batch_norm_transform_input_kernel<{}, float, float, int, true>", t));
  k.grid = make_grid(ch, std::max<std::int64_t>(1, std::min(256 * 1024 / ch, ceil_div(n, tb))));
  k.block = {tf2, tb, 1};
  k.registers_per_thread = 32;
  k.flops = flops - s.flops;  // scale and shift
  k.dram_bytes = static_cast<double>(x.bytes() + c.out(op, 0).bytes()) + stats + per_channel_params;
  return {s, k};
}

Kernels lower_concat(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  // The gradient of a concat is a set of views (narrow) of dy: nothing is launched.
  if (op.pass == Pass::dgrad) return {};
  // CatArrayBatchedCopy: up to 128 inputs per launch, grid (2 x SMs, inputs), 512 threads.
  constexpr std::size_t kBatch = 128;
  const Tensor& y = c.out(op, 0);
  const std::string name =
      fmt::format("at::native::CatArrayBatchedCopy<{}, unsigned int, {}, 128, 1>", ctype(y.dtype),
                  y.shape.size());
  Kernels ks;
  for (std::size_t first = 0; first < op.inputs.size(); first += kBatch) {
    const std::size_t last = std::min(op.inputs.size(), first + kBatch);
    double bytes = 0;
    for (std::size_t i = first; i < last; ++i) bytes += static_cast<double>(c.in(op, i).bytes());
    KernelDesc k = kernel_for(c, id, name);
    k.grid = make_grid(2 * c.sms, static_cast<std::int64_t>(last - first));
    k.block = {512, 1, 1};
    k.registers_per_thread = 30;
    k.dram_bytes = 2.0 * bytes;  // each part read once and written once
    ks.push_back(k);
  }
  return ks;
}

// torch.index_select (rank-1 table) launches indexSelectLargeIndex, torch.gather the scatter/
// gather elementwise kernel: 128 threads, 4 elements each. Every picked element is a random
// access, so it moves a whole 32-byte sector; the distinct sectors of the table come from DRAM
// (at most the table), the rest of the sectors from L2.
Kernels lower_gather(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  const Tensor& table = c.in(op, 0);
  const Tensor& y = c.out(op, 0);
  const bool select = op.function == "take";
  KernelDesc k = kernel_for(
      c, id,
      select ? fmt::format("at::native::indexSelectLargeIndex<{}, long, unsigned int, 1, 1, -2, "
                           "true>",
                           ctype(table.dtype))
             : fmt::format("at::native::_scatter_gather_elementwise_kernel<128, 4, "
                           "gather_kernel<{}>>",
                           ctype(table.dtype)));
  k.dtype = table.dtype;
  k.block = {128, 1, 1};
  k.grid = make_grid(ceil_div(y.elements(), 128 * 4));
  k.registers_per_thread = 32;
  constexpr double kSector = 32;
  // A picked row of `row` bytes touches ceil(row / 32) sectors. The distinct sectors -- at most
  // the whole table -- come from DRAM once; every other touch is an L2 hit. (A table far larger
  // than the L2 would miss more: the lowering does not know the L2's size.)
  const double row = static_cast<double>(
      dtype_size(table.dtype) * (select ? product(Shape(table.shape.begin() + 1, table.shape.end())) : 1));
  const double rows = static_cast<double>(y.elements()) * dtype_size(table.dtype) / row;
  const double picked = rows * kSector * std::ceil(row / kSector);
  const double from_table = std::min(static_cast<double>(table.bytes()), picked);
  k.dram_bytes = static_cast<double>(c.in(op, 1).bytes() + y.bytes()) + from_table;
  k.l2_bytes = std::max(0.0, picked - from_table);
  return {k};
}

}  // namespace workloads::lowering

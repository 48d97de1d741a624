// Kinds that reduce: softmax (PyTorch's persistent warp softmax or a block per row),
// reductions (Reduce.cuh's reduce_kernel, with a grid-level split for few long rows), the loss,
// and the optimizer update (multi_tensor_apply over 64Ki-element chunks).

#include <fmt/format.h>

#include <algorithm>

#include "workloads/lowering_detail.hpp"
#include "workloads/op_semantics.hpp"

namespace workloads::lowering {

namespace {

int log2_ceil(std::int64_t v) {
  int l = 0;
  while ((std::int64_t{1} << l) < v) ++l;
  return l;
}

}  // namespace

Kernels lower_softmax(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  const bool fwd = op.pass == Pass::fprop;
  const Tensor& y = fwd ? c.out(op, 0) : c.in(op, 0);
  const std::string t = ctype(y.dtype);
  const auto axis = static_cast<std::size_t>(op.axis);
  const std::int64_t dim = y.shape[axis];
  const std::int64_t inner =
      product(Shape(y.shape.begin() + static_cast<std::ptrdiff_t>(axis) + 1, y.shape.end()));
  const std::int64_t rows = y.elements() / std::max<std::int64_t>(1, dim * inner);
  KernelDesc k = kernel_for(c, id, "");
  k.flops = static_cast<double>(c.g.flops(id));
  k.dram_bytes = compulsory_bytes(c, id);
  if (inner > 1) {
    // Softmax over a non-innermost axis (e.g. channels of NCHW): a thread per (row, position)
    // walking the axis.
    k.name = fmt::format("at::native::cunn_SpatialSoftMax{}<{}, float, {}>",
                         fwd ? "Forward" : "Backward", t, t);
    k.block = {256, 1, 1};
    k.grid = make_grid(ceil_div(rows * inner, 256));
    k.registers_per_thread = 40;
    return {k};
  }
  if (dim <= 1024) {
    // Persistent softmax: a warp (or part of one) per row, 128 threads per CTA; short rows
    // pack two per warp (SoftMax.cuh dispatch_softmax_forward).
    const int log2 = log2_ceil(dim);
    const std::int64_t pow2 = std::int64_t{1} << log2;
    const std::int64_t warp = std::min<std::int64_t>(pow2, 32);
    const std::int64_t rows_per_warp = pow2 <= 128 ? 2 : 1;
    const std::int64_t warps_per_block = 128 / warp;
    k.name = fmt::format("softmax_warp_{}<{}, {}, float, {}, false, false>",
                         fwd ? "forward" : "backward", t, t, log2);
    k.block = {warp, warps_per_block, 1};
    k.grid = make_grid(ceil_div(rows, warps_per_block * rows_per_warp));
    k.registers_per_thread = fwd ? 80 : 106;  // measured (log2 = 10)
    return {k};
  }
  // Long rows: a CTA per row, block size the power of two covering dim / 4 (ILP 4), <= 1024.
  std::int64_t block = 32;
  while (block < std::min<std::int64_t>(dim / 4, 1024)) block *= 2;
  k.name = fmt::format("cunn_SoftMax{}<4, {}, float, {}>", fwd ? "Forward" : "Backward", t, t);
  k.block = {block, 1, 1};
  k.grid = make_grid(rows);
  k.registers_per_thread = 40;
  k.shared_mem_per_cta = block / 32 * 4;
  return {k};
}

Kernels lower_reduction(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  const std::string& f = op.function;
  const double flops = static_cast<double>(c.g.flops(id));
  if (op.pass == Pass::dgrad) {
    // dy broadcast back to the input shape (expand + copy / divide / mask): one broadcasting
    // elementwise kernel.
    const Tensor& dx = c.out(op, 0);
    KernelDesc k = elementwise_kernel(c, id,
                                      f == "mean"  ? "DivFunctor"
                                      : f == "max" ? "where_kernel_impl"
                                                   : "copy_kernel",
                                      dx.elements(), false);
    k.flops = flops;
    k.dram_bytes = compulsory_bytes(c, id);
    return {k};
  }
  const Tensor& x = c.in(op, 0);
  const std::string t = ctype(x.dtype);
  if (f == "cross_entropy") {
    // The loss of a batch: PyTorch's nll_loss reduction, one CTA of 32 threads.
    KernelDesc k = kernel_for(
        c, id, fmt::format("nll_loss_forward_reduce_cuda_kernel_2d<{}, float, long>", t));
    k.grid = {1, 1, 1};
    k.block = {32, 1, 1};
    k.registers_per_thread = 32;
    k.shared_mem_per_cta = 2 * 32 * 4;
    // It gathers one log-probability per row (the label's) and reads the label, an int64 class
    // index: not the whole [rows, classes] input (nor a one-hot label), which would make a large
    // vocabulary cost a tenth of a second in this one CTA.
    const std::int64_t rows = x.shape.empty() ? 1 : x.shape.front();
    k.flops = flops;
    k.dram_bytes = static_cast<double>(rows * (dtype_size(x.dtype) + 8) + 4);
    return {k};
  }
  // Which axes are reduced, and do they include the innermost (contiguous) one?
  std::vector<bool> reduced(x.shape.size(), op.axes.empty());
  for (int a : op.axes) reduced[static_cast<std::size_t>(a)] = true;
  const bool contiguous = reduced.empty() || reduced.back();
  const std::int64_t outputs = std::max<std::int64_t>(1, c.out(op, 0).elements());
  const std::int64_t length = x.elements() / outputs;  // elements folded into each output
  // A 32 x 16 CTA: along a contiguous reduction a warp row per output (16 outputs per CTA),
  // otherwise a thread column per output (32 per CTA) with the 16 rows splitting the length.
  // Few outputs over long rows: the length is split across CTAs too (partials meet in a global
  // buffer, the last CTA finishes: Reduce.cuh's two passes in one launch).
  const std::int64_t per_cta = contiguous ? 16 : 32;
  const std::int64_t ctas = ceil_div(outputs, per_cta);
  std::int64_t split = 1;
  if (ctas < 2 * c.sms && length >= 4096)
    split = std::clamp<std::int64_t>(std::min(ceil_div(length, 4096), ceil_div(4 * c.sms, ctas)), 1,
                                     kMaxGridYZ);
  const std::string ops = f == "mean"  ? "MeanOps<float>"
                          : f == "max" ? "MaxOps<float>"
                                       : "sum_functor<float>";
  KernelDesc k =
      kernel_for(c, id, fmt::format("at::native::reduce_kernel<512, 1, ReduceOp<{}, {}>>", t, ops));
  k.block = {32, 16, 1};
  k.grid = make_grid(ctas, split);
  k.registers_per_thread = 32;
  k.shared_mem_per_cta = 16 + (split > 1 ? 2048 : 0);
  k.flops = flops;
  k.dram_bytes = compulsory_bytes(c, id);
  if (split > 1) k.l2_bytes = 2.0 * 4.0 * static_cast<double>(split) * static_cast<double>(outputs);
  return {k};
}

Kernels lower_optimizer_update(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  // multi_tensor_apply (MultiTensorApply.cuh): 512 threads per CTA, a CTA per 64Ki-element
  // chunk; a launch takes at most 320 chunks and a depth-dependent number of tensors, and the
  // tensor cut by a full launch continues in the next.
  constexpr std::int64_t kChunk = 65536;
  constexpr std::int64_t kMaxBlocks = 320;
  const std::size_t states = static_cast<std::size_t>(optimizer_state_count(op.function));
  const std::size_t per_in = 2 + states, per_out = 1 + states;
  const int depth = static_cast<int>(per_in);
  static constexpr int kMaxTensors[] = {110, 64, 48, 36, 30};
  const int max_tensors = kMaxTensors[std::clamp(depth, 1, 5) - 1];
  const std::size_t groups = op.inputs.size() / per_in;
  std::int64_t total = 0;
  for (std::size_t gi = 0; gi < groups; ++gi) total += c.in(op, gi * per_in).elements();
  const double flops_per_element =
      total > 0 ? static_cast<double>(c.g.flops(id)) / static_cast<double>(total) : 0.0;

  const std::string t = ctype(c.in(op, 0).dtype);
  const std::string name = fmt::format(
      "at::native::multi_tensor_apply_kernel<TensorListMetadata<{}>, {}<{}, {}>>", depth,
      op.function == "adam" ? "FusedAdamMathFunctor" : "FusedSgdMathFunctor", t, depth);
  Kernels ks;
  std::int64_t blocks = 0, elements = 0;
  double bytes = 0;
  int tensors = 0;
  auto launch = [&] {
    KernelDesc k = kernel_for(c, id, name);
    k.grid = make_grid(blocks);
    k.block = {512, 1, 1};
    k.registers_per_thread = 32;
    k.flops = flops_per_element * static_cast<double>(elements);
    k.dram_bytes = bytes;
    ks.push_back(k);
    blocks = elements = 0;
    bytes = 0;
  };
  for (std::size_t gi = 0; gi < groups; ++gi) {
    double group_bytes = 0;
    for (std::size_t i = 0; i < per_in; ++i)
      group_bytes += static_cast<double>(c.in(op, gi * per_in + i).bytes());
    for (std::size_t i = 0; i < per_out; ++i)
      group_bytes += static_cast<double>(c.out(op, gi * per_out + i).bytes());
    const std::int64_t n = c.in(op, gi * per_in).elements();
    const double bytes_per_element =
        group_bytes / static_cast<double>(std::max<std::int64_t>(1, n));
    const std::int64_t chunks = ceil_div(n, kChunk);
    ++tensors;
    for (std::int64_t ci = 0; ci < chunks; ++ci) {
      const std::int64_t e = std::min(kChunk, n - ci * kChunk);
      ++blocks;
      elements += e;
      bytes += bytes_per_element * static_cast<double>(e);
      const bool last_chunk = ci + 1 == chunks;
      const bool tensors_full = tensors == max_tensors && last_chunk;
      const bool blocks_full = blocks == kMaxBlocks;
      const bool last = gi + 1 == groups && last_chunk;
      if (tensors_full || blocks_full || last) {
        launch();
        tensors = last_chunk ? 0 : 1;
      }
    }
  }
  return ks;
}

}  // namespace workloads::lowering

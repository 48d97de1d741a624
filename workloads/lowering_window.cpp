// Windowed ops that libraries run as direct (non-GEMM) kernels: depthwise convolutions and
// pools, a thread per output element; global pools as reductions. Launch shapes follow
// PyTorch's native CUDA kernels (DepthwiseConv2d.cu, DilatedMaxPool2d.cu, AveragePool2d.cu,
// AdaptiveMaxPooling2d.cu, Reduce.cuh).

#include <fmt/format.h>

#include <algorithm>

#include "workloads/lowering_detail.hpp"

namespace workloads::lowering {

namespace {

// Window re-reads: each input element is read by about R*S/(stride_h*stride_w) outputs; the
// reads beyond the first are served by the caches (counted as L2).
double window_rereads(const Op& op, double input_bytes) {
  const double reuse = static_cast<double>(op.kernel.h) * op.kernel.w /
                       (static_cast<double>(op.stride.h) * op.stride.w);
  return std::max(0.0, (reuse - 1.0) * input_bytes);
}

// A thread per element of `elements`, `block` threads per CTA.
KernelDesc per_element(const Context& c, OpId id, std::string name, std::int64_t elements,
                       std::int64_t block, int regs) {
  KernelDesc k = kernel_for(c, id, std::move(name));
  k.block = {block, 1, 1};
  k.grid = make_grid(ceil_div(elements, block));
  k.registers_per_thread = regs;
  k.flops = static_cast<double>(c.g.flops(id));
  k.dram_bytes = compulsory_bytes(c, id);
  return k;
}

}  // namespace

Kernels lower_depthwise_conv(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  const std::string t = ctype(c.in(op, 0).dtype);
  const int kw =
      op.kernel.h == op.kernel.w && (op.kernel.w == 3 || op.kernel.w == 5) ? op.kernel.w : 0;
  switch (op.pass) {
    case Pass::fprop: {  // a thread per output element
      KernelDesc k = per_element(
          c, id, fmt::format("at::native::conv_depthwise2d_forward_kernel<{}, {}, int>", kw, t),
          c.out(op, 0).elements(), 512, 40);
      k.l2_bytes = window_rereads(op, static_cast<double>(c.in(op, 0).bytes()));
      return {k};
    }
    case Pass::dgrad: {  // a thread per input-gradient element, gathering over its window
      KernelDesc k = per_element(
          c, id, fmt::format("at::native::conv_depthwise2d_backward_kernel<{}, {}, int>", kw, t),
          c.out(op, 0).elements(), 512, 40);
      k.l2_bytes = window_rereads(op, static_cast<double>(c.in(op, 0).bytes()));
      return {k};
    }
    case Pass::wgrad: {  // a CTA per weight element, reducing over N*P*Q
      const Tensor& dw = c.out(op, 0);
      KernelDesc k = kernel_for(
          c, id, fmt::format("at::native::conv_depthwise2d_grad_weight_kernel<{}, float, int>", t));
      k.block = {256, 1, 1};
      k.grid = make_grid(dw.elements());
      k.registers_per_thread = 40;
      k.shared_mem_per_cta = 256 / 32 * 4;  // one partial sum per warp
      k.flops = static_cast<double>(c.g.flops(id));
      k.dram_bytes = compulsory_bytes(c, id);
      // Each CTA reads its channel of x and dy: R*S-fold re-reads across the channel's CTAs.
      k.l2_bytes =
          std::max(0.0, (static_cast<double>(op.kernel.h) * op.kernel.w - 1.0) *
                            static_cast<double>(c.in(op, 0).bytes() + c.in(op, 1).bytes()));
      return {k};
    }
  }
  return {};
}

Kernels lower_pool(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  const bool max = op.kind == OpKind::pool_max;
  const std::string t = ctype(c.in(op, 0).dtype);
  if (op.pass == Pass::fprop) {
    const Tensor& y = c.out(op, 0);
    if (max) {
      // max_pool2d_with_indices: also writes the argmax of every window (int64) for backward.
      KernelDesc k =
          per_element(c, id, fmt::format("at::native::max_pool_forward_nchw<{}, float>", t),
                      y.elements(), 256, 26);
      k.dram_bytes += 8.0 * static_cast<double>(y.elements());
      k.l2_bytes = window_rereads(op, static_cast<double>(c.in(op, 0).bytes()));
      return {k};
    }
    KernelDesc k =
        per_element(c, id, fmt::format("at::native::avg_pool2d_out_cuda_frame<{}, float>", t),
                    y.elements(), 1024, 32);
    k.l2_bytes = window_rereads(op, static_cast<double>(c.in(op, 0).bytes()));
    return {k};
  }
  // dgrad: (dy [, x]) -> dx; a thread per input-gradient element gathers over the windows
  // that cover it.
  const Tensor& dx = c.out(op, 0);
  const Tensor& dy = c.in(op, 0);
  if (max) {
    KernelDesc k =
        kernel_for(c, id, fmt::format("at::native::max_pool_backward_nchw<{}, float>", t));
    const Shape& s = dx.shape;
    k.block = {256, 1, 1};
    k.grid = make_grid(ceil_div(s[2] * s[3], 256), s[0], s[1]);
    k.registers_per_thread = 32;
    k.flops = static_cast<double>(c.g.flops(id));
    // Reads dy and the saved argmax indices (not x), writes dx.
    k.dram_bytes =
        static_cast<double>(dy.bytes() + dx.bytes()) + 8.0 * static_cast<double>(dy.elements());
    return {k};
  }
  KernelDesc k = per_element(
      c, id, fmt::format("at::native::avg_pool2d_backward_out_cuda_frame<{}, float>", t),
      dx.elements(), 1024, 32);
  return {k};
}

Kernels lower_global_pool(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  const bool avg = op.function != "max";
  const std::string t = ctype(c.in(op, 0).dtype);
  if (op.pass == Pass::fprop) {
    const Shape& x = c.in(op, 0).shape;
    const std::int64_t planes = x[0] * x[1];
    if (avg) {
      // adaptive_avg_pool2d to 1x1 is a mean over H*W: a warp row per output, 16 per CTA.
      KernelDesc k = kernel_for(
          c, id, fmt::format("at::native::reduce_kernel<512, 1, ReduceOp<{}, MeanOps<float>>>", t));
      k.block = {32, 16, 1};
      k.grid = make_grid(ceil_div(planes, 16));
      k.registers_per_thread = 32;
      k.shared_mem_per_cta = 16;
      k.flops = static_cast<double>(c.g.flops(id));
      k.dram_bytes = compulsory_bytes(c, id);
      return {k};
    }
    KernelDesc k = kernel_for(c, id, fmt::format("at::native::adaptivemaxpool<{}>", t));
    k.block = {32, 8, 1};
    k.grid = make_grid(planes);
    k.registers_per_thread = 38;
    k.flops = static_cast<double>(c.g.flops(id));
    k.dram_bytes = compulsory_bytes(c, id) + 8.0 * static_cast<double>(planes);  // + indices
    return {k};
  }
  const Tensor& dx = c.out(op, 0);
  if (avg) {
    // mean backward: dy expanded over H*W and divided, a broadcasting elementwise kernel.
    KernelDesc k = elementwise_kernel(c, id, "DivFunctor", dx.elements(), false);
    k.flops = static_cast<double>(c.g.flops(id));
    k.dram_bytes = compulsory_bytes(c, id);
    return {k};
  }
  // adaptive_max_pool2d_backward: zero dx, then scatter dy to the saved argmax positions.
  KernelDesc fill = elementwise_kernel(c, id, "FillFunctor", dx.elements(), true);
  fill.dram_bytes = static_cast<double>(dx.bytes());
  const Shape& s = dx.shape;
  KernelDesc k = kernel_for(c, id, fmt::format("at::native::adaptivemaxgradinput<{}>", t));
  k.block = {32, 8, 1};
  k.grid = make_grid(s[0] * s[1]);
  k.registers_per_thread = 32;
  k.flops = static_cast<double>(c.g.flops(id));
  // Reads dy and the saved int64 argmax of each plane, writes one dx element per plane.
  k.dram_bytes = 2.0 * static_cast<double>(c.in(op, 0).bytes()) +
                 8.0 * static_cast<double>(c.in(op, 0).elements());
  return {fill, k};
}

}  // namespace workloads::lowering

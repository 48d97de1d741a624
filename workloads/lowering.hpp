#pragma once
// Lowering: each op of an OpGraph becomes the kernels a real library would launch for it —
// cuDNN / cuBLAS implicit-GEMM tiles for convolutions and GEMMs, PyTorch's native kernels for
// the memory-bound kinds — and the whole graph becomes a kernel-level TaskGraph that a launch
// policy schedules and the GPU model executes. docs/op-graph-format.md ("Lowering") lists the
// rules: the tile menus and how one is chosen, launch shapes, names, FLOPs and traffic.
//
// Conventions every kernel keeps:
// - the kernels of one op together carry exactly the op's FLOPs (OpGraph::flops): a conv's or
//   GEMM's main kernel 2*M*N*K (plus the bias adds, unless a separate bias kernel does them),
//   helper kernels such as split-K reductions none. A fused kernel also carries the FLOPs of
//   the op it absorbed (that op then lowers to no kernel). The one op whose FLOPs no kernel
//   carries is an identity activation: nn.Identity launches nothing;
// - dram_bytes is compulsory traffic (each tensor read or written once, plus split-K
//   workspace); l2_bytes the re-reads a tiled kernel serves from L2, never negative;
// - launch shapes stay within the target architecture's limits: <= 1024 threads and <= 64Ki
//   registers per CTA, <= 255 registers per thread, grid.y/z <= 65535, shared memory per CTA
//   <= 96 KiB (sm70), 163 KiB (sm80), 227 KiB (sm90).

#include <functional>
#include <vector>

#include "workloads/kernel.hpp"
#include "workloads/op_graph.hpp"

namespace workloads {

struct LoweringOptions {
  // fp16/bf16/tf32/int8 GEMM-like ops (conv, gemm) use MathUnit::tensor_core where the
  // architecture has tensor cores for the dtype (sm70: fp16 only); fp32 always uses fp32_core.
  bool tensor_cores = true;
  // cuDNN's fused conv + bias + activation (cudnnConvolutionBiasActivationForward): a conv's
  // bias and an activation that is the only reader of its output go into the conv kernel.
  // Off = PyTorch eager: the bias add and the activation are kernels of their own.
  bool fuse_bias_activation = false;
  // An inference engine's build (TensorRT): an inference batch norm right after a conv is
  // folded into the conv's weights and bias, and the activation after it fused into the conv's
  // epilogue, so the three are one kernel. Training graphs are never folded.
  bool fold_batch_norm = false;
  // 70 V100, 80 A100, 90 H100 (values in between round down): picks the tile families and
  // kernel names (volta_/sm80_/sm90_).
  int arch_sm = 70;
  // The SM count the tile and split-K heuristics aim to fill; 0: the flagship GPU of arch_sm
  // (80 / 108 / 132). GpuSpec::lowering sets the GPU's own.
  int sms = 0;
  // Seconds one kernel takes alone on the target GPU. Given, GEMMs and convolutions take the
  // fastest of their candidate algorithms (tile x split-K), as cuBLAS's and cuDNN's autotuned
  // selection does on the real GPU; empty, the tile rule below picks one without pricing.
  std::function<double(const KernelDesc&)> price = nullptr;
};

// The kernels `op` launches, in launch order (they run one after the other). Empty for an op
// that launches nothing: a view (the split that is a concat's gradient) or an activation fused
// into its producer. Throws sim::InputError for an op id out of range or an arch_sm < 70.
std::vector<KernelDesc> lower_op(const OpGraph& g, OpId op, const LoweringOptions& o = {});

// All ops, in the graph's topological order. The kernels of an op form a chain; the first
// depends on the last kernel of each op in op.deps (through ops without kernels, on what those
// depended on). Kernel order is a topological order of the result.
TaskGraph lower_graph(const OpGraph& g, const LoweringOptions& o = {});

}  // namespace workloads

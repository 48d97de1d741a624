#pragma once
// The work of a traced kernel (FLOPs, DRAM bytes, math unit) from what the trace says about it:
// the input shapes of the CPU op that launched it, when the profiler recorded them
// (record_shapes=True); the launch geometry of PyTorch's elementwise kernels (their grid covers
// a fixed number of elements per block, their name the operand count and type); the byte count
// of a memset or a copy (device-to-device through DRAM, pinned host copies over the host link).
// Each derivation names its rule (TracedWork::source). What cannot be derived honestly stays
// unknown and a cost model must not pretend to predict it.

#include <optional>

#include "workloads/kernel.hpp"
#include "workloads/kineto_trace.hpp"

namespace workloads {

struct TracedWork {
  double flops = 0;
  double dram_bytes = 0;
  double l2_bytes = 0;
  double host_bytes = 0;  // over the host link (a host <-> device copy)
  MathUnit unit = MathUnit::fp32_core;
  DType dtype = DType::fp32;
  std::string source;  // "aten::addmm shapes", "memset bytes", ...
};

// `op` is the innermost CPU op around the launch (nullptr if none); `kernels_of_op` how many
// device ops of d's family (op_family) that CPU op launched: its shapes give the work of a kernel
// of its kind only when it launched one (a convolution's backward: its dgrad and its wgrad).
std::optional<TracedWork> traced_work(const kineto::DeviceOp& d, const kineto::CpuOp* op,
                                      int kernels_of_op);

// What kind of work a device op is, from its kind and kernel name: gemm, conv, norm,
// elementwise, reduction, embedding, copy-kernel, nccl, memcpy, memset or other (the report's
// coverage is by family).
std::string_view op_family(const kineto::DeviceOp& d);

}  // namespace workloads

#pragma once
// A GPU kernel as the hardware model sees it: a launch shape plus the work it does. Lowering
// (lowering.hpp) turns each op of an OpGraph into the kernels a real library would launch
// (cuDNN / cuBLAS tile shapes); trace readers build them from measured launches. The model
// (models/) decides how long they take on a given GPU; nothing here is hardware state.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/op_graph.hpp"

namespace workloads {

struct Dim3 {
  std::int64_t x = 1, y = 1, z = 1;
  std::int64_t count() const { return x * y * z; }
  friend bool operator==(const Dim3&, const Dim3&) = default;
};

// Which execution units do the arithmetic.
enum class MathUnit {
  fp32_core,    // CUDA cores (FP32 FMA pipes); also used for fp16/bf16 without tensor cores
  tensor_core,  // MMA units, at the dtype's tensor throughput (fp16, bf16, tf32, int8)
};
// The name a timeline gives it (a kernel's args."math unit").
constexpr std::string_view math_unit_name(MathUnit u) {
  return u == MathUnit::tensor_core ? "tensor_core" : "fp32_core";
}

// Where a device op runs: a grid of CTAs on the SMs, or a copy engine (cudaMemcpy, cudaMemset),
// which takes no SM and only draws memory bandwidth.
enum class Engine { sm, copy };

struct KernelDesc {
  std::string name;  // library-style name: "sm80_xmma_gemm_f16f16_128x128", "elementwise_add"
  OpId op = -1;      // the op it implements (-1: none, e.g. a memcpy or a sync helper)
  Engine engine = Engine::sm;
  Dim3 grid, block;
  int registers_per_thread = 32;
  std::int64_t shared_mem_per_cta = 0;  // bytes, static + dynamic
  // Work of the whole kernel; a cost model divides it among CTAs.
  double flops = 0;         // multiply-add = 2
  MathUnit unit = MathUnit::fp32_core;
  DType dtype = DType::fp32;
  double dram_bytes = 0;    // compulsory DRAM traffic: reads + writes
  double l2_bytes = 0;      // traffic served by L2 (re-reads of tiles), >= 0
  double host_bytes = 0;    // a copy engine's bytes over the host link (host <-> device copies)
  double measured_seconds = 0;  // duration measured on a real GPU (trace readers); 0: unknown
  // Its duration as another model predicts it (a traced NCCL kernel on the network model);
  // kernel costs that price from work use it in place of a measurement. 0: none.
  double modelled_seconds = 0;

  std::int64_t ctas() const { return grid.count(); }
  std::int64_t threads_per_cta() const { return block.count(); }
};

// A kernel-level DAG: what a launch policy schedules and the GPU model executes.
struct TaskGraph {
  std::string name;
  std::vector<KernelDesc> kernels;
  std::vector<std::vector<std::int32_t>> deps;  // deps[k]: kernels that must finish before k
  std::vector<std::int32_t> first_kernel_of_op; // op -> its first kernel (-1 if it has none)
  std::size_t ops = 0;                          // ops in the source graph (host work items)
};

}  // namespace workloads

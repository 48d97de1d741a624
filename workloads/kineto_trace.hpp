#pragma once
// A PyTorch-profiler (Kineto) Chrome trace, typed: what ran on the device (kernels, memcpy,
// memset, NCCL collectives), the CUDA runtime calls that put it there (linked by `correlation`),
// the framework's CPU ops (with input shapes when record_shapes was on), ProfilerStep
// iterations and the device properties. Times are microseconds as in the file.
//
// Bad input is an InputError naming the file and where: JSON syntax errors at line:column,
// semantic errors (a kernel without ts, a negative duration) at the event's index in
// traceEvents. What a reader can skip without changing the replay -- unknown event categories,
// device work whose launch is outside the trace, flow arrows -- is counted in `warnings`.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "workloads/kernel.hpp"

namespace workloads::kineto {

struct Collective {  // an NCCL kernel's arguments
  std::string name;  // "allreduce", "broadcast", ... ("" when the trace has no args for it)
  std::int64_t in_elements = 0, out_elements = 0;
  std::string dtype;  // "Float", "Half", ...
  int group_size = 0;
  std::int64_t bytes = 0;  // in_elements x dtype size
};

struct DeviceOp {
  enum class Kind { kernel, memcpy, memset };
  Kind kind = Kind::kernel;
  std::string name;
  int device = 0;
  std::int64_t stream = 0;
  double ts = 0, dur = 0;  // us
  std::int64_t correlation = -1;
  Dim3 grid, block;
  int registers_per_thread = 0;
  std::int64_t shared_memory = 0;
  std::int64_t bytes = 0;     // memcpy/memset; kernels: DRAM bytes when the trace gives them
  double flops = 0;           // kernels: when the trace gives them (warpsim-probe traces do)
  std::int64_t l2_bytes = 0;  // kernels: re-reads served by L2, when the trace gives them
  std::string dtype;          // kernels: "fp16", "bf16", "tf32", "fp32" when the trace gives it
  std::string math_unit;      // kernels: "tensor_core" / "fp32_core" (warpsim timelines), or 
  bool nccl = false;
  Collective collective;
  std::int32_t launch = -1;  // index into Trace::runtime, -1 when the launch is not in the trace
};

enum class RuntimeKind {
  launch,        // cudaLaunchKernel(ExC), cuLaunchKernel, cooperative launches
  graph_launch,  // cudaGraphLaunch: many device ops share its correlation
  memcpy,        // cudaMemcpy(Async), cudaMemcpy2D...
  memset,
  event_record,
  stream_wait_event,
  synchronize,  // cudaStream/Device/EventSynchronize, blocking cudaMemcpy
  other,        // queries, attribute calls, allocation: host time only
};

struct RuntimeCall {
  std::string name;
  RuntimeKind kind = RuntimeKind::other;
  std::int64_t tid = 0;
  double ts = 0, dur = 0;
  std::int64_t correlation = -1;
  std::vector<std::int32_t> device_ops;  // what it put on the device, in device start order
};

struct CpuOp {
  std::string name;
  std::int64_t tid = 0;
  double ts = 0, dur = 0;
  std::vector<std::vector<std::int64_t>> input_dims;  // empty when shapes were not recorded
  std::vector<std::string> input_types;
  // Scalar arguments' values as text ("[2, 2]", "1", "False"; "" for tensors) where the
  // profiler recorded them (PyTorch >= 2.1, record_shapes): a convolution's stride, padding.
  std::vector<std::string> concrete_inputs;
};

struct Iteration {  // a ProfilerStep#N annotation on the host
  std::string name;
  double ts = 0, dur = 0;
};

struct DeviceProperties {
  int id = 0;
  std::string name;
  int sm_count = 0;
  int compute_major = 0, compute_minor = 0;
  std::int64_t total_memory = 0;
};

struct Trace {
  std::string source;
  std::vector<DeviceOp> device_ops;  // in file order
  std::vector<RuntimeCall> runtime;  // in file order
  std::vector<CpuOp> cpu_ops;
  std::vector<Iteration> iterations;  // by start time
  std::vector<DeviceProperties> devices;
  std::map<std::string, std::int64_t> warnings;  // what was skipped, and how often

  std::size_t kernels() const;
  std::size_t nccl_kernels() const;
  std::vector<std::int64_t> streams() const;  // distinct stream ids with device work, sorted
};

// Parses a trace's JSON text; `source` names it in errors.
Trace parse_trace(std::string_view json_text, const std::string& source);
// Reads a .json or .json.gz file.
Trace read_trace(const std::filesystem::path& path);

// Bytes of one element of an NCCL dtype name ("Float" -> 4); 0 when unknown.
int nccl_dtype_size(std::string_view dtype);

}  // namespace workloads::kineto

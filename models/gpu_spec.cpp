#include "models/gpu_spec.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/params.hpp"

namespace models {

const sim::ParamSchema& GpuSpec::schema() {
  static const sim::ParamSchema s = sim::schema(R"(
name                        | string    |        | the preset's name
description                 | string    |        | what the preset is (for people)
architecture                | string    | ""     | architecture name (Volta, Ampere, Hopper...)
compute_capability          | double    |        | as "9.0"; picks the kernels lowering emits
sm_count                    | int       |        | streaming multiprocessors
clocks                      | map       |        | boost, base
clocks.boost                | frequency |        | the clock the peaks are quoted at
clocks.base                 | frequency |        | base clock (for people)
sm                          | map       |        | per-SM limits
sm.max_threads              | int       |        | resident threads per SM
sm.max_warps                | int       |        | resident warps per SM
sm.max_ctas                 | int       |        | resident CTAs per SM
sm.registers                | int       |        | 32-bit registers per SM
sm.max_registers_per_thread | int       | 255    | registers one thread may hold
sm.shared_memory            | size      |        | shared memory per SM
sm.max_shared_per_cta       | size      |        | shared memory one CTA may take
sm.fp32_lanes               | int       |        | FP32 lanes per SM
sm.tensor_cores             | int       | 0      | tensor cores per SM
sm.bytes_in_flight_per_warp | size      | 1 KiB  | DRAM bytes one warp keeps in flight (Little's law caps a small grid's bandwidth)
throughput                  | map       |        | dense peaks of the whole GPU
throughput.fp32             | flops     |        | FP32 on the CUDA cores
throughput.fp64             | flops     |        | FP64 (absent: the GPU has none)
throughput.fp16_tensor      | flops     |        | FP16 on tensor cores (absent: the GPU has none)
throughput.bf16_tensor      | flops     |        | BF16 on tensor cores (absent: the GPU has none)
throughput.tf32_tensor      | flops     |        | TF32 on tensor cores (absent: the GPU has none)
throughput.int8_tensor      | flops     |        | INT8 on tensor cores (absent: the GPU has none)
memory                      | map       |        | DRAM and L2
memory.kind                 | string    | ""     | HBM2, HBM3, LPDDR4x ... (for people)
memory.capacity             | size      |        | device memory
memory.bandwidth            | bandwidth |        | DRAM peak
memory.l2_size              | size      |        | L2 cache
memory.l2_bandwidth         | bandwidth |        | L2 peak
memory.latency              | duration  | 500 ns | load-to-use latency of a DRAM access
host_link                   | map       |        | the link to the host
host_link.kind              | string    |        | pcie | shared-memory (an integrated GPU's one DRAM pool)
host_link.generation        | int       |        | PCIe generation (for people)
host_link.lanes             | int       |        | PCIe lanes (for people)
host_link.bandwidth         | bandwidth |        | per direction
launch                      | map       |        | launch path
launch.concurrent_kernels   | int       |        | kernels resident at once (work distributor)
launch.launch_latency       | duration  |        | host API call until the kernel can start
launch.kernel_gap           | duration  |        | device gap between back-to-back kernels of a stream
launch.kernel_overhead      | duration  | 0 ns   | device time a kernel spends beyond its CTAs' work (inside its measured duration)
launch.cta_launch           | duration  | 100 ns | per-CTA dispatch cost on an SM
efficiency                  | map       | {}     | fractions of the peaks tuned kernels reach
efficiency.fp32             | double    | 0.85   | of the FP32 peak (cuBLAS SGEMM)
efficiency.tensor           | double    | 0.7    | of the tensor-core peaks
efficiency.dram             | double    | 0.85   | of the DRAM peak (STREAM-like copies)
efficiency.l2               | double    | 0.8    | of the L2 peak
sharing                     | map       | {}     | how processes share the GPU: time slicing, MIG (models/gpu_sharing.hpp)
)");
  return s;
}

GpuSpec GpuSpec::from_config(const sim::Config& c) {
  const sim::Params p(c, schema());
  GpuSpec g;
  g.name = p.string("name");
  p.note("description");
  g.architecture = p.string("architecture");
  if (auto cc = p.find("compute_capability")) {
    const double v = cc->as_double();
    if (!(v >= 1 && v < 100)) cc->fail("expected a compute capability such as \"9.0\"");
    g.sm_version = static_cast<int>(std::lround(v * 10));
  }
  g.sm_count = static_cast<int>(p.integer("sm_count", 1, 1024));
  const sim::Params clocks = p.section("clocks");
  g.clock = clocks.frequency("boost");
  clocks.note("base");

  const sim::Params sm = p.section("sm");
  g.sm.max_threads = static_cast<int>(sm.integer("max_threads", 32, 4096));
  g.sm.max_warps = static_cast<int>(sm.integer("max_warps", 1, 128));
  g.sm.max_ctas = static_cast<int>(sm.integer("max_ctas", 1, 128));
  g.sm.registers = static_cast<int>(sm.integer("registers", 1024, 1 << 20));
  g.sm.max_registers_per_thread = static_cast<int>(sm.integer("max_registers_per_thread", 16, 1024));
  g.sm.shared_memory = static_cast<std::int64_t>(sm.size("shared_memory"));
  g.sm.max_shared_per_cta = static_cast<std::int64_t>(sm.size("max_shared_per_cta"));
  g.sm.fp32_lanes = static_cast<int>(sm.integer("fp32_lanes", 1, 1024));
  g.sm.tensor_cores = static_cast<int>(sm.integer("tensor_cores", 0, 64));
  g.sm.bytes_in_flight_per_warp = static_cast<std::int64_t>(sm.size("bytes_in_flight_per_warp"));
  if (g.sm.max_shared_per_cta > g.sm.shared_memory)
    sm.value("max_shared_per_cta").fail("exceeds the SM's shared memory");

  const sim::Params t = p.section("throughput");
  auto rate = [&](const char* key) {  // a mode the GPU lacks is absent, not zero
    const auto v = t.find(key);
    return v ? v->as_flops() : 0.0;
  };
  g.fp64 = rate("fp64");
  g.fp32 = t.flops("fp32");
  g.fp16_tensor = rate("fp16_tensor");
  g.bf16_tensor = rate("bf16_tensor");
  g.tf32_tensor = rate("tf32_tensor");
  g.int8_tensor = rate("int8_tensor");

  const sim::Params m = p.section("memory");
  m.note("kind");
  g.dram_capacity = m.size("capacity");
  g.dram_bandwidth = m.bandwidth("bandwidth");
  g.l2_size = m.size("l2_size");
  g.l2_bandwidth = m.bandwidth("l2_bandwidth");
  g.dram_latency = m.duration("latency");

  const sim::Params h = p.section("host_link");
  g.host_link_kind = h.string("kind");
  if (g.host_link_kind != "pcie" && g.host_link_kind != "shared-memory")
    h.value("kind").fail(fmt::format("unknown host link kind '{}' (pcie or shared-memory)",
                                     g.host_link_kind));
  if (g.host_link_kind == "pcie") {
    h.integer("generation", 1, 7);
    h.integer("lanes", 1, 32);
  }
  g.host_link_bandwidth = h.bandwidth("bandwidth");

  const sim::Params l = p.section("launch");
  g.concurrent_kernels = static_cast<int>(l.integer("concurrent_kernels", 1, 1024));
  g.launch_latency = l.duration("launch_latency");
  g.kernel_gap = l.duration("kernel_gap");
  g.kernel_overhead = l.duration("kernel_overhead");
  g.cta_launch = l.duration("cta_launch");

  const sim::Params e = p.section("efficiency");
  auto frac = [&](const char* key) {
    const double v = e.real(key);
    if (!(v > 0 && v <= 1)) e.value(key).fail(fmt::format("must be in (0, 1], got {}", v));
    return v;
  };
  g.efficiency.fp32 = frac("fp32");
  g.efficiency.tensor = frac("tensor");
  g.efficiency.dram = frac("dram");
  g.efficiency.l2 = frac("l2");
  g.sharing = SharingSpec::from_config(p.value("sharing"));
  return g;
}

double GpuSpec::tensor_peak(workloads::DType dtype) const {
  using workloads::DType;
  switch (dtype) {
    case DType::fp16: return fp16_tensor;
    case DType::bf16: return bf16_tensor;
    case DType::tf32: return tf32_tensor;
    case DType::int8: return int8_tensor;
    case DType::fp32:
    case DType::int64: return 0;
  }
  return 0;
}

double GpuSpec::peak(workloads::MathUnit unit, workloads::DType dtype) const {
  using workloads::DType;
  if (unit == workloads::MathUnit::tensor_core && tensor_peak(dtype) > 0) return tensor_peak(dtype);
  // CUDA cores: packed half math runs at twice the FP32 rate from Volta on.
  if (dtype == DType::fp16 || dtype == DType::bf16) return 2 * fp32;
  return fp32;
}

double GpuSpec::achievable(workloads::MathUnit unit, workloads::DType dtype) const {
  const bool tensor = unit == workloads::MathUnit::tensor_core && tensor_peak(dtype) > 0;
  return peak(unit, dtype) * (tensor ? efficiency.tensor : efficiency.fp32);
}

GpuSpec::RooflineBound GpuSpec::roofline(const workloads::KernelDesc& k, double sm_share) const {
  RooflineBound b;
  const double flops = achievable(k.unit, k.dtype) * sm_share;
  if (flops > 0) b.compute_seconds = k.flops / flops;
  if (achievable_dram() > 0) b.memory_seconds = k.dram_bytes / achievable_dram();
  return b;
}

workloads::LoweringOptions GpuSpec::lowering(workloads::DType dtype) const {
  workloads::LoweringOptions o;
  o.arch_sm = sm_version;
  o.sms = sm_count;
  o.tensor_cores = dtype != workloads::DType::fp32;
  return o;
}

}  // namespace models

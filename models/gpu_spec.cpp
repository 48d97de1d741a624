#include "models/gpu_spec.hpp"

#include <fmt/format.h>

#include <cmath>

namespace models {

GpuSpec GpuSpec::from_config(const sim::Config& c) {
  GpuSpec g;
  g.name = c.get_string("name");
  g.architecture = c.get_string("architecture", "");
  if (c.has("compute_capability")) {
    const sim::Config cc = c.at("compute_capability");
    const double v = cc.as_double();
    if (!(v >= 1 && v < 100)) cc.fail("expected a compute capability such as \"9.0\"");
    g.sm_version = static_cast<int>(std::lround(v * 10));
  }
  g.sm_count = static_cast<int>(c.get_int_in("sm_count", 1, 1024));
  const sim::Config clocks = c.at("clocks");
  g.clock = clocks.get_frequency("boost");
  if (clocks.has("base")) clocks.get_frequency("base");

  const sim::Config sm = c.at("sm");
  g.sm.max_threads = static_cast<int>(sm.get_int_in("max_threads", 32, 4096));
  g.sm.max_warps = static_cast<int>(sm.get_int_in("max_warps", 1, 128));
  g.sm.max_ctas = static_cast<int>(sm.get_int_in("max_ctas", 1, 128));
  g.sm.registers = static_cast<int>(sm.get_int_in("registers", 1024, 1 << 20));
  g.sm.max_registers_per_thread =
      static_cast<int>(sm.get_int_in("max_registers_per_thread", 16, 1024, 255));
  g.sm.shared_memory = static_cast<std::int64_t>(sm.get_size("shared_memory"));
  g.sm.max_shared_per_cta = static_cast<std::int64_t>(sm.get_size("max_shared_per_cta"));
  g.sm.fp32_lanes = static_cast<int>(sm.get_int_in("fp32_lanes", 1, 1024));
  g.sm.tensor_cores = static_cast<int>(sm.get_int_in("tensor_cores", 0, 64, 0));
  g.sm.bytes_in_flight_per_warp =
      static_cast<std::int64_t>(sm.get_size("bytes_in_flight_per_warp", "1 KiB"));
  if (g.sm.max_shared_per_cta > g.sm.shared_memory)
    sm.at("max_shared_per_cta").fail("exceeds the SM's shared memory");

  const sim::Config t = c.at("throughput");
  auto rate = [&](const char* key) { return t.has(key) ? t.get_flops(key) : 0.0; };
  g.fp64 = rate("fp64");
  g.fp32 = t.get_flops("fp32");
  g.fp16_tensor = rate("fp16_tensor");
  g.bf16_tensor = rate("bf16_tensor");
  g.tf32_tensor = rate("tf32_tensor");
  g.int8_tensor = rate("int8_tensor");

  const sim::Config m = c.at("memory");
  m.get_string("kind", "");
  g.dram_capacity = m.get_size("capacity");
  g.dram_bandwidth = m.get_bandwidth("bandwidth");
  g.l2_size = m.get_size("l2_size");
  g.l2_bandwidth = m.get_bandwidth("l2_bandwidth");
  g.dram_latency = m.get_duration("latency", "500 ns");

  const sim::Config h = c.at("host_link");
  g.host_link_kind = h.get_string("kind");
  if (g.host_link_kind != "pcie" && g.host_link_kind != "shared-memory")
    h.at("kind").fail(fmt::format("unknown host link kind '{}' (pcie or shared-memory)",
                                  g.host_link_kind));
  if (g.host_link_kind == "pcie") {
    h.get_int_in("generation", 1, 7);
    h.get_int_in("lanes", 1, 32);
  }
  g.host_link_bandwidth = h.get_bandwidth("bandwidth");

  const sim::Config l = c.at("launch");
  g.concurrent_kernels = static_cast<int>(l.get_int_in("concurrent_kernels", 1, 1024));
  g.launch_latency = l.get_duration("launch_latency");
  g.kernel_gap = l.get_duration("kernel_gap");
  g.kernel_overhead = l.get_duration("kernel_overhead", "0 ns");
  g.cta_launch = l.get_duration("cta_launch", "100 ns");

  if (auto e = c.find("efficiency")) {
    auto frac = [&](const char* key, double dflt) {
      const double v = e->get_double(key, dflt);
      if (!(v > 0 && v <= 1)) e->at(key).fail(fmt::format("must be in (0, 1], got {}", v));
      return v;
    };
    g.efficiency.fp32 = frac("fp32", g.efficiency.fp32);
    g.efficiency.tensor = frac("tensor", g.efficiency.tensor);
    g.efficiency.dram = frac("dram", g.efficiency.dram);
    g.efficiency.l2 = frac("l2", g.efficiency.l2);
  }
  return g;
}

double GpuSpec::tensor_peak(workloads::DType dtype) const {
  using workloads::DType;
  switch (dtype) {
    case DType::fp16: return fp16_tensor;
    case DType::bf16: return bf16_tensor;
    case DType::tf32: return tf32_tensor;
    case DType::int8: return int8_tensor;
    case DType::fp32: return 0;
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

#pragma once
// A small GPU with round numbers for model tests: `sms` SMs, 1 TFLOP/s FP32 in all, 100 GB/s
// DRAM, V100-like per-SM limits, every efficiency 1 and no per-CTA launch cost, so expected
// times can be worked out by hand.

#include "models/gpu_spec.hpp"

namespace testing {

inline models::GpuSpec toy_gpu(int sms = 4, sim::Time launch_latency = sim::Time::us(5)) {
  models::GpuSpec g;
  g.name = "toy";
  g.sm_count = sms;
  g.clock = sim::Frequency::ghz(1);
  g.sm.max_threads = 2048;
  g.sm.max_warps = 64;
  g.sm.max_ctas = 16;
  g.sm.registers = 65536;
  g.sm.shared_memory = 96 << 10;
  g.sm.max_shared_per_cta = 96 << 10;
  g.fp32 = 1e12;
  g.dram_bandwidth = 100e9;
  g.l2_bandwidth = 1e15;
  g.concurrent_kernels = 128;
  g.launch_latency = launch_latency;
  g.kernel_gap = sim::Time::us(1);
  g.cta_launch = sim::Time::zero();
  g.efficiency = {1.0, 1.0, 1.0, 1.0};
  return g;
}

}  // namespace testing

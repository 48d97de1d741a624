#pragma once
// Family `kernel-cost`: how much work one CTA of a kernel is, in the terms the GPU model shares
// out at run time. The model (gpu.hpp) turns this into a duration from the SM's compute share
// (co-resident CTAs split the SM) and the kernel's share of DRAM bandwidth (co-running kernels
// split DRAM through the FairShare solver), so wave quantization and contention emerge from
// dispatch rather than from a formula.

#include <memory>

#include "models/gpu_spec.hpp"
#include "sim/registry.hpp"
#include "workloads/kernel.hpp"

namespace models {

struct CtaWork {
  double compute_seconds = 0;  // alone on an SM, at the achievable rate of its math unit
  double sm_fraction = 1;      // largest share of an SM one CTA can use (few warps: less)
  double dram_bytes = 0;
  double max_dram_rate = 0;    // bytes/s one CTA can draw at most (0: no limit)
  double l2_bytes = 0;
  sim::Time fixed;             // latency not covered by throughput (pipeline fill, sync)
};

class KernelCost {
 public:
  virtual ~KernelCost() = default;
  virtual CtaWork cta_work(const GpuSpec& gpu, const workloads::KernelDesc& k) const = 0;
};

using KernelCostRegistry = sim::Registry<KernelCost, const sim::Config&>;

inline KernelCostRegistry& kernel_costs(sim::PluginCatalog& c) {
  return c.family<KernelCostRegistry>("kernel-cost", "how long a CTA of a kernel takes");
}

void register_roofline_cost(sim::PluginCatalog& c);
void register_trace_cost(sim::PluginCatalog& c);
// The roofline model itself and its parameters, for costs that fall back on it (trace_cost.cpp).
std::unique_ptr<KernelCost> make_roofline_cost(const sim::Config& c);
const sim::ParamSchema& roofline_params();

}  // namespace models

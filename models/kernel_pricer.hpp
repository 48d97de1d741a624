#pragma once
// A kernel's duration alone on an idle GPU, measured by running it on the GPU model (wave
// quantization, occupancy, DRAM limits and the per-kernel overhead all as the model has them)
// and remembered by the kernel's shape, so a loop that launches the same shapes over and over
// (an LLM serving engine's iterations) prices each shape once. Exact for a repeated shape: the
// memo returns what the model returned the first time.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "models/gpu.hpp"
#include "models/gpu_spec.hpp"
#include "models/kernel_cost.hpp"
#include "sim/simulator.hpp"
#include "sim/time.hpp"
#include "workloads/kernel.hpp"
#include "workloads/lowering.hpp"

namespace models {

class KernelPricer {
 public:
  // `sms` > 0: each kernel runs on the GPU's first `sms` SMs only (a process capped to that
  // share, as MPS caps it); 0: on every SM.
  KernelPricer(const GpuSpec& gpu, const KernelCost& cost, int sms = 0);

  // From its launch on an idle GPU to its end (the span a profiler shows).
  sim::Time price(const workloads::KernelDesc& k);
  // Every kernel priced, each shape once, in the order first priced: what an autotuner ran.
  const std::vector<workloads::KernelDesc>& priced() const { return priced_; }

  const GpuSpec& gpu() const { return gpu_->spec(); }
  std::size_t shapes_priced() const { return memo_.size(); }
  std::uint64_t lookups() const { return lookups_; }

 private:
  struct Key {
    workloads::Engine engine;
    workloads::Dim3 grid, block;
    int registers;
    std::int64_t shared;
    double flops, dram_bytes, l2_bytes;
    workloads::MathUnit unit;
    workloads::DType dtype;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };

  sim::Simulator sim_;
  std::unique_ptr<Gpu> gpu_;
  std::unordered_map<Key, sim::Time, KeyHash> memo_;
  SmMask mask_;
  std::vector<workloads::KernelDesc> priced_;
  std::uint64_t lookups_ = 0;
};

// The GPU's lowering options (GpuSpec::lowering) with each GEMM's and convolution's algorithm
// chosen as cuBLAS's and cuDNN's autotuning does: the candidate whose kernels run fastest on
// this GPU model under `cost`, each kernel after the first paying the stream's kernel gap.
// `sms` > 0: tuned for a process capped to the GPU's first `sms` SMs -- the heuristics aim their
// waves at that many SMs and every candidate is timed on them. The options own their pricer
// (`pricer`, when given, receives it: what it priced is the tuning run); `cost` must outlive them.
workloads::LoweringOptions autotuned_lowering(const GpuSpec& gpu, const KernelCost& cost,
                                              workloads::DType dtype, int sms = 0,
                                              std::shared_ptr<KernelPricer>* pricer = nullptr);

}  // namespace models

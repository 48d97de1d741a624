#include "models/kernel_pricer.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace models {

KernelPricer::KernelPricer(const GpuSpec& gpu, const KernelCost& cost, int sms)
    : gpu_(std::make_unique<Gpu>(sim_, gpu, cost, "pricer")), mask_(first_sms(sms, gpu.sm_count)) {}

std::size_t KernelPricer::KeyHash::operator()(const Key& k) const {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 0x100000001b3ULL; };
  mix(static_cast<std::uint64_t>(k.engine));
  for (std::int64_t v : {k.grid.x, k.grid.y, k.grid.z, k.block.x, k.block.y, k.block.z})
    mix(static_cast<std::uint64_t>(v));
  mix(static_cast<std::uint64_t>(k.registers));
  mix(static_cast<std::uint64_t>(k.shared));
  for (double v : {k.flops, k.dram_bytes, k.l2_bytes}) mix(std::bit_cast<std::uint64_t>(v));
  mix(static_cast<std::uint64_t>(k.unit) * 31 + static_cast<std::uint64_t>(k.dtype));
  return static_cast<std::size_t>(h);
}

sim::Time KernelPricer::price(const workloads::KernelDesc& k) {
  ++lookups_;
  const Key key{k.engine,  k.grid,       k.block,    k.registers_per_thread, k.shared_mem_per_cta,
                k.flops,   k.dram_bytes, k.l2_bytes, k.unit,                 k.dtype};
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  // The GPU is idle between prices (the last run drained it), so each kernel runs alone.
  const sim::Time start = sim_.now();
  bool done = false;
  gpu_->launch(k, [&done] { done = true; }, mask_.empty() ? nullptr : &mask_);
  sim_.run();
  if (!done) throw std::logic_error("kernel pricer: the kernel did not finish");
  const sim::Time t = sim_.now() - start;
  memo_.emplace(key, t);
  priced_.push_back(k);
  return t;
}

workloads::LoweringOptions autotuned_lowering(const GpuSpec& gpu, const KernelCost& cost,
                                              workloads::DType dtype, int sms,
                                              std::shared_ptr<KernelPricer>* out) {
  workloads::LoweringOptions o = gpu.lowering(dtype);
  if (sms > 0 && sms < gpu.sm_count) o.sms = sms;
  auto pricer = std::make_shared<KernelPricer>(gpu, cost, sms);
  if (out) *out = pricer;
  const double gap = gpu.kernel_gap.seconds();
  o.price = [pricer, gap](const workloads::KernelDesc& k) {
    return pricer->price(k).seconds() + gap;
  };
  return o;
}

}  // namespace models

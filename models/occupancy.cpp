#include "models/occupancy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>

namespace models {
namespace {
constexpr int kWarp = 32;
constexpr int kRegisterUnit = 256;
}  // namespace

CtaFootprint footprint(const workloads::KernelDesc& k) {
  CtaFootprint f;
  f.threads = static_cast<int>(k.threads_per_cta());
  f.warps = (f.threads + kWarp - 1) / kWarp;
  const int per_warp =
      (k.registers_per_thread * kWarp + kRegisterUnit - 1) / kRegisterUnit * kRegisterUnit;
  f.registers = per_warp * f.warps;
  f.shared = k.shared_mem_per_cta;
  return f;
}

Occupancy occupancy(const GpuSpec& g, const workloads::KernelDesc& k) {
  Occupancy o;
  const std::int64_t threads = k.threads_per_cta();
  if (threads <= 0 || threads > 1024 || threads > g.sm.max_threads) {
    o.cannot_run = fmt::format("{} threads per CTA", threads);
    return o;
  }
  if (k.registers_per_thread > g.sm.max_registers_per_thread) {
    o.cannot_run = fmt::format("{} registers per thread (at most {})", k.registers_per_thread,
                               g.sm.max_registers_per_thread);
    return o;
  }
  if (k.shared_mem_per_cta > g.sm.max_shared_per_cta) {
    o.cannot_run = fmt::format("{} B of shared memory per CTA (at most {} B)",
                               k.shared_mem_per_cta, g.sm.max_shared_per_cta);
    return o;
  }
  const CtaFootprint f = footprint(k);
  const std::pair<const char*, std::int64_t> limits[] = {
      {"threads", g.sm.max_threads / f.threads},
      {"warps", g.sm.max_warps / f.warps},
      {"registers", f.registers > 0 ? g.sm.registers / f.registers : INT_MAX},
      {"shared memory", f.shared > 0 ? g.sm.shared_memory / f.shared : INT_MAX},
      {"CTA slots", g.sm.max_ctas},
  };
  std::int64_t n = INT_MAX;
  for (const auto& [name, v] : limits) n = std::min(n, v);
  o.ctas_per_sm = static_cast<int>(std::max<std::int64_t>(n, 0));
  if (o.ctas_per_sm == 0) {
    o.cannot_run = fmt::format("{} registers per CTA (the SM has {})", f.registers,
                               g.sm.registers);
    return o;
  }
  for (const auto& [name, v] : limits)
    if (v == n) o.limits.emplace_back(name);
  return o;
}

int one_wave_sms(const GpuSpec& gpu, const workloads::KernelDesc& k) {
  const std::int64_t per_sm = std::max(1, ctas_per_sm(gpu, k));
  const std::int64_t ctas = std::max<std::int64_t>(1, k.ctas());
  return static_cast<int>(std::min<std::int64_t>((ctas + per_sm - 1) / per_sm, gpu.sm_count));
}

}  // namespace models

#include "models/gpu.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace models {
namespace {

constexpr int kWarp = 32;
constexpr int kRegisterUnit = 256;  // registers are allocated per warp in units of 256

int warps_of(const workloads::KernelDesc& k) {
  return static_cast<int>((k.threads_per_cta() + kWarp - 1) / kWarp);
}

int registers_of(const workloads::KernelDesc& k) {
  const int per_warp =
      (k.registers_per_thread * kWarp + kRegisterUnit - 1) / kRegisterUnit * kRegisterUnit;
  return per_warp * warps_of(k);
}

}  // namespace

int ctas_per_sm(const GpuSpec& gpu, const workloads::KernelDesc& k) {
  const auto threads = k.threads_per_cta();
  if (threads <= 0 || threads > 1024 || threads > gpu.sm.max_threads) return 0;
  if (k.registers_per_thread > gpu.sm.max_registers_per_thread) return 0;
  if (k.shared_mem_per_cta > gpu.sm.max_shared_per_cta) return 0;
  int n = gpu.sm.max_ctas;
  n = std::min<int>(n, gpu.sm.max_threads / static_cast<int>(threads));
  n = std::min(n, gpu.sm.max_warps / warps_of(k));
  const int regs = registers_of(k);
  if (regs > 0) n = std::min(n, gpu.sm.registers / regs);
  if (k.shared_mem_per_cta > 0)
    n = std::min<int>(n, static_cast<int>(gpu.sm.shared_memory / k.shared_mem_per_cta));
  return std::max(n, 0);
}

Gpu::Gpu(sim::Simulator& sim, GpuSpec spec, const KernelCost& cost, std::string name)
    : sim_(sim), spec_(std::move(spec)), cost_(cost), name_(std::move(name)) {
  sms_.resize(static_cast<std::size_t>(spec_.sm_count));
  for (int i = 0; i < spec_.sm_count; ++i) all_sms_.push_back(i);
  dram_res_ = dram_.add_resource(name_ + ".dram", spec_.dram_bandwidth * spec_.efficiency.dram);
}

void Gpu::attach(sim::Stats* stats, sim::TimelineWriter* timeline) {
  stats_ = stats;
  timeline_ = timeline;
  if (timeline_) pid_ = timeline_->process(name_);
}

void Gpu::launch(const workloads::KernelDesc& k, Done on_done, const SmMask* mask, int track) {
  if (ctas_per_sm(spec_, k) == 0)
    throw std::invalid_argument(fmt::format(
        "kernel '{}' cannot run on {}: a CTA of {} threads, {} registers/thread and {} B of "
        "shared memory does not fit on an SM",
        k.name, spec_.name, k.threads_per_cta(), k.registers_per_thread, k.shared_mem_per_cta));
  if (mask && !mask->empty() && mask->size() != sms_.size())
    throw std::invalid_argument("SM mask size differs from the SM count");
  waiting_.emplace_back(&k, std::make_tuple(std::move(on_done), mask ? *mask : SmMask{}, track));
  admit();
}

void Gpu::admit() {
  while (!waiting_.empty() && running_count_ < static_cast<std::size_t>(spec_.concurrent_kernels)) {
    auto [desc, rest] = std::move(waiting_.front());
    waiting_.pop_front();
    std::uint32_t slot;
    if (free_slots_.empty()) {
      slot = static_cast<std::uint32_t>(running_.size());
      running_.emplace_back();
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
    }
    Running& r = running_[slot];
    r = Running{};
    r.desc = desc;
    r.work = cost_.cta_work(spec_, *desc);
    r.on_done = std::move(std::get<0>(rest));
    r.mask = std::move(std::get<1>(rest));
    r.track = std::get<2>(rest);
    r.unplaced = desc->ctas();
    r.threads = static_cast<int>(desc->threads_per_cta());
    r.warps = warps_of(*desc);
    r.registers = registers_of(*desc);
    r.shared = desc->shared_mem_per_cta;
    r.active = true;
    r.start = sim_.now();
    r.seq = seq_++;
    order_.push_back(slot);
    ++running_count_;
    start(slot);
  }
}

void Gpu::start(std::uint32_t slot) {
  if (running_[slot].unplaced == 0) {  // an empty grid completes at once
    finish(slot);
    return;
  }
  dispatch(all_sms_);
}

int Gpu::fit(const Sm& sm, const Running& r) const {
  int n = spec_.sm.max_ctas - sm.ctas;
  n = std::min(n, (spec_.sm.max_threads - sm.threads) / r.threads);
  n = std::min(n, (spec_.sm.max_warps - sm.warps) / r.warps);
  if (r.registers > 0) n = std::min(n, (spec_.sm.registers - sm.registers) / r.registers);
  if (r.shared > 0)
    n = std::min<int>(n, static_cast<int>((spec_.sm.shared_memory - sm.shared) / r.shared));
  return std::max(n, 0);
}

void Gpu::place(int s, std::uint32_t slot, std::int64_t n) {
  Sm& sm = sms_[static_cast<std::size_t>(s)];
  Running& r = running_[slot];
  if (sm.ctas == 0) ++busy_sms_;
  sm.ctas += static_cast<int>(n);
  sm.threads += static_cast<int>(n) * r.threads;
  sm.warps += static_cast<int>(n) * r.warps;
  sm.registers += static_cast<int>(n) * r.registers;
  sm.shared += n * r.shared;
  r.unplaced -= n;
  r.resident += n;
}

void Gpu::dispatch(const std::vector<int>& sms) {
  struct Batch {
    int sm;
    std::uint32_t slot;
    std::int64_t n;
  };
  std::vector<Batch> batches;
  std::vector<int> eligible;
  for (std::uint32_t slot : order_) {
    Running& r = running_[slot];
    if (!r.active || r.unplaced == 0) continue;
    eligible.clear();
    for (int s : sms)
      if ((r.mask.empty() || r.mask[static_cast<std::size_t>(s)]) &&
          fit(sms_[static_cast<std::size_t>(s)], r) > 0)
        eligible.push_back(s);
    // Breadth-first: spread the remaining CTAs evenly over the SMs that can take them.
    while (r.unplaced > 0 && !eligible.empty()) {
      const std::int64_t share =
          (r.unplaced + static_cast<std::int64_t>(eligible.size()) - 1) /
          static_cast<std::int64_t>(eligible.size());
      std::size_t keep = 0;
      for (int s : eligible) {
        const std::int64_t n =
            std::min({static_cast<std::int64_t>(fit(sms_[static_cast<std::size_t>(s)], r)), share,
                      r.unplaced});
        if (n > 0) {
          place(s, slot, n);
          if (!batches.empty() && batches.back().sm == s && batches.back().slot == slot)
            batches.back().n += n;
          else
            batches.push_back({s, slot, n});
        }
        if (fit(sms_[static_cast<std::size_t>(s)], r) > 0) eligible[keep++] = s;
        if (r.unplaced == 0) break;
      }
      eligible.resize(keep);
    }
  }
  if (batches.empty()) return;
  // Shares first (every placement of this pass counts), then the batches' durations.
  for (const Batch& b : batches) update_dram(b.slot);
  dram_.solve();
  for (const Batch& b : batches) {
    const sim::Time t = batch_time(b.sm, running_[b.slot]);
    const int sm = b.sm;
    const std::uint32_t slot = b.slot;
    const std::int64_t n = b.n;
    sim_.schedule_in(t, [this, sm, slot, n] { batch_done(sm, slot, n); });
  }
  sample(sim_.now());
}

sim::Time Gpu::batch_time(int s, const Running& r) {
  const CtaWork& w = r.work;
  const int resident_on_sm = sms_[static_cast<std::size_t>(s)].ctas;
  const double share = std::min(w.sm_fraction, 1.0 / resident_on_sm);
  double t = w.compute_seconds / share;
  if (w.l2_bytes > 0) {
    const double l2_per_sm = spec_.l2_bandwidth * spec_.efficiency.l2 / spec_.sm_count;
    t = std::max(t, w.l2_bytes * resident_on_sm / l2_per_sm);
  }
  if (w.dram_bytes > 0 && r.has_flow) {
    const double per_cta = dram_.rate(r.dram_flow) / static_cast<double>(r.resident);
    t = std::max(t, w.dram_bytes / per_cta);
  }
  return spec_.cta_launch + w.fixed + sim::Time::ceil_seconds(t);
}

void Gpu::update_dram(std::uint32_t slot) {
  Running& r = running_[slot];
  if (r.work.dram_bytes <= 0) return;
  if (r.resident == 0) {
    if (r.has_flow) {
      dram_.remove_flow(r.dram_flow);
      r.has_flow = false;
    }
    return;
  }
  // Demand: the rate this kernel's resident CTAs would pull at full compute speed.
  const double fastest = std::max(r.work.compute_seconds / r.work.sm_fraction, 1e-15);
  const double cap = static_cast<double>(r.resident) * r.work.dram_bytes / fastest;
  const double weight = static_cast<double>(r.resident);
  if (!r.has_flow) {
    const sim::FairShare::ResourceId res[1] = {dram_res_};
    r.dram_flow = dram_.add_flow(res, cap, weight);
    r.has_flow = true;
  } else {
    dram_.set_cap(r.dram_flow, cap);
    dram_.set_weight(r.dram_flow, weight);
  }
}

void Gpu::batch_done(int s, std::uint32_t slot, std::int64_t n) {
  Sm& sm = sms_[static_cast<std::size_t>(s)];
  {
    Running& r = running_[slot];
    sm.ctas -= static_cast<int>(n);
    sm.threads -= static_cast<int>(n) * r.threads;
    sm.warps -= static_cast<int>(n) * r.warps;
    sm.registers -= static_cast<int>(n) * r.registers;
    sm.shared -= n * r.shared;
    if (sm.ctas == 0) --busy_sms_;
    r.resident -= n;
    ctas_done_ += static_cast<std::uint64_t>(n);
    update_dram(slot);
  }
  if (running_[slot].unplaced == 0 && running_[slot].resident == 0) finish(slot);
  dispatch(std::vector<int>{s});
  sample(sim_.now());
}

void Gpu::finish(std::uint32_t slot) {
  Running& r = running_[slot];
  r.active = false;
  order_.erase(std::find(order_.begin(), order_.end(), slot));
  --running_count_;
  ++kernels_done_;
  if (timeline_ && r.track >= 0)
    timeline_->complete(pid_, r.track, r.desc->name, "kernel", r.start, sim_.now() - r.start,
                        {{"grid", fmt::format("[{},{},{}]", r.desc->grid.x, r.desc->grid.y,
                                              r.desc->grid.z)},
                         {"block", fmt::format("[{},{},{}]", r.desc->block.x, r.desc->block.y,
                                               r.desc->block.z)}});
  Done done = std::move(r.on_done);
  free_slots_.push_back(slot);
  admit();  // a queued launch takes the freed concurrent-kernel slot
  if (done) done();
}

void Gpu::sample(sim::Time now) {
  const double busy = static_cast<double>(busy_sms_) / spec_.sm_count;
  if (busy != sm_busy_.current()) sm_busy_.set(now, busy);
  const double any = busy_sms_ > 0 ? 1.0 : 0.0;
  if (any != any_busy_.current()) any_busy_.set(now, any);
  const double dram = dram_.load(dram_res_) / dram_.capacity(dram_res_);
  if (dram != dram_util_.current()) dram_util_.set(now, dram);
  if (timeline_ && busy != last_busy_sample_) {
    timeline_->counter(pid_, "SMs busy", now, busy);
    last_busy_sample_ = busy;
  }
}

}  // namespace models

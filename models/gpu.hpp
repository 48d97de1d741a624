#pragma once
// One GPU: SMs with their resources, the CTA dispatcher, and DRAM shared among running kernels.
//
// A kernel is a grid of CTAs. CTAs go to SMs as registers, shared memory, warp and CTA slots
// allow (occupancy follows from the launch shape), breadth-first across the SMs a kernel may
// use, earliest-launched kernel first (the hardware's left-over policy for concurrent kernels).
// CTAs placed on one SM together form a batch that finishes together: one event per batch, so
// homogeneous waves cost one event per SM rather than one per CTA, and the answer is the
// CTA-by-CTA one. A batch's duration is fixed when it starts, from the cost model's CTA work,
// the SM's compute share (CTAs resident on the SM split it) and the kernel's DRAM share (kernels
// resident on the GPU split DRAM bandwidth, max-min fair, through sim::FairShare).

#include <cstdint>
#include <deque>
#include <tuple>
#include <functional>
#include <string>
#include <vector>

#include "models/gpu_spec.hpp"
#include "models/kernel_cost.hpp"
#include "sim/fair_share.hpp"
#include "sim/simulator.hpp"
#include "sim/stats.hpp"
#include "sim/timeline.hpp"
#include "workloads/kernel.hpp"

namespace models {

// The SMs a kernel's context may use (MPS / partitioning). Empty: all SMs.
using SmMask = std::vector<bool>;

// CTAs of a launch shape that fit on one empty SM (0: the kernel cannot run on this GPU).
int ctas_per_sm(const GpuSpec& gpu, const workloads::KernelDesc& k);

class Gpu {
 public:
  using Done = std::function<void()>;

  Gpu(sim::Simulator& sim, GpuSpec spec, const KernelCost& cost, std::string name = "gpu[0]");
  Gpu(const Gpu&) = delete;
  Gpu& operator=(const Gpu&) = delete;

  // Optional outputs. `track` in launch() is a thread id of `timeline_pid()`.
  void attach(sim::Stats* stats, sim::TimelineWriter* timeline);
  int timeline_pid() const { return pid_; }

  // Runs `k` from now, or when one of the concurrent-kernel slots frees up. `on_done` runs when
  // its last CTA finishes. The kernel descriptor must outlive the run.
  void launch(const workloads::KernelDesc& k, Done on_done, const SmMask* mask = nullptr,
              int track = -1);

  const GpuSpec& spec() const { return spec_; }
  const std::string& name() const { return name_; }
  std::uint64_t kernels_completed() const { return kernels_done_; }
  std::uint64_t ctas_executed() const { return ctas_done_; }
  std::size_t running_kernels() const { return running_count_; }
  // Time-averaged fraction of SMs holding at least one CTA, and of DRAM bandwidth in use.
  double sm_busy(sim::Time now) const { return sm_busy_.average(now); }
  double dram_utilization(sim::Time now) const { return dram_util_.average(now); }
  // Time-averaged fraction of time with at least one CTA on some SM.
  double active(sim::Time now) const { return any_busy_.average(now); }

 private:
  struct Sm {
    int threads = 0, warps = 0, ctas = 0, registers = 0;
    std::int64_t shared = 0;
  };
  struct Running {
    const workloads::KernelDesc* desc = nullptr;
    CtaWork work;
    Done on_done;
    SmMask mask;
    std::int64_t unplaced = 0;  // CTAs not yet on an SM
    std::int64_t resident = 0;  // CTAs on SMs now
    int threads = 0, warps = 0, registers = 0;  // per CTA (registers as allocated)
    std::int64_t shared = 0;
    sim::FairShare::FlowId dram_flow = 0;
    bool has_flow = false;
    bool active = false;
    sim::Time start;
    int track = -1;
    std::uint64_t seq = 0;  // launch order
  };

  void admit();  // starts queued launches while concurrent-kernel slots are free
  void start(std::uint32_t slot);
  // Places CTAs of running kernels on the SMs in `sms` (in order) while they fit.
  void dispatch(const std::vector<int>& sms);
  int fit(const Sm& sm, const Running& r) const;
  void place(int sm, std::uint32_t slot, std::int64_t n);
  void batch_done(int sm, std::uint32_t slot, std::int64_t n);
  void finish(std::uint32_t slot);
  void update_dram(std::uint32_t slot);
  void sample(sim::Time now);
  sim::Time batch_time(int sm, const Running& r);

  sim::Simulator& sim_;
  GpuSpec spec_;
  const KernelCost& cost_;
  std::string name_;
  std::vector<Sm> sms_;
  std::vector<int> all_sms_;
  std::vector<Running> running_;          // slots, reused
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::uint32_t> order_;      // active slots in launch order
  std::deque<std::pair<const workloads::KernelDesc*, std::tuple<Done, SmMask, int>>> waiting_;
  std::size_t running_count_ = 0;
  std::uint64_t seq_ = 0;
  sim::FairShare dram_;
  sim::FairShare::ResourceId dram_res_ = 0;
  int busy_sms_ = 0;
  sim::TimeWeighted sm_busy_, dram_util_, any_busy_;
  std::uint64_t kernels_done_ = 0, ctas_done_ = 0;
  sim::Stats* stats_ = nullptr;
  sim::TimelineWriter* timeline_ = nullptr;
  int pid_ = -1;
  double last_busy_sample_ = -1;
};

}  // namespace models

#pragma once
// One GPU: SMs with their resources, the CTA dispatcher, and DRAM shared among running kernels.
//
// A kernel is a grid of CTAs. CTAs go to SMs as registers, shared memory, warp and CTA slots
// allow (occupancy follows from the launch shape: occupancy.hpp), breadth-first across the SMs a
// kernel may use, least-loaded SMs first, earliest-launched kernel first (the hardware's
// left-over policy for concurrent kernels). CTAs placed on one SM together form a batch that
// finishes together: one event per batch, so homogeneous waves cost one event per SM rather than
// one per CTA, and the answer is the CTA-by-CTA one. A kernel that fills an SM and has many
// waves still to place reserves several back-to-back waves there in one batch (closed-form
// homogeneous waves): alone on the GPU the answer is the CTA-by-CTA one to the picosecond; with
// co-running kernels it differs by up to ~3% (docs/performance.md), because a kernel holding its
// waves no longer grows into room that another kernel frees mid-wave. A batch's speed comes from the cost model's
// CTA work, the SM's compute share (CTAs resident on the SM split it) and the kernel's DRAM share
// (kernels resident on the GPU split DRAM bandwidth, max-min fair, through sim::FairShare, each
// CTA capped by the bytes its warps keep in flight); it is re-timed whenever a share changes.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "models/copy_engines.hpp"
#include "models/gpu_spec.hpp"
#include "models/kernel_cost.hpp"
#include "models/occupancy.hpp"
#include "sim/calendar.hpp"
#include "sim/fair_share.hpp"
#include "sim/progress.hpp"
#include "sim/rate_group.hpp"
#include "sim/simulator.hpp"
#include "sim/slots.hpp"
#include "sim/stats.hpp"
#include "sim/timeline.hpp"
#include "workloads/kernel.hpp"

namespace models {

// Demand paging (models/memory): asked as CTAs are placed on an SM whether the pages they touch
// are resident. `first`..`first + ctas` are CTA indices of the kernel's grid. Returns true when
// they are (the CTAs run at once); otherwise the CTAs hold their SM resources without
// progressing until the gate calls `resume`, never from inside touch().
class PagingGate {
 public:
  virtual ~PagingGate() = default;
  virtual bool touch(const workloads::KernelDesc& k, std::int64_t first, std::int64_t ctas,
                     std::function<void()> resume) = 0;
};


// Where a launch shows in the timeline, in the Kineto profiler's terms, so that warpsim's own
// timeline reads back as a trace: the track (a thread of Gpu::timeline_pid(); -1: not shown),
// the CUDA stream, and the correlation id that links the kernel to its host launch call.
struct TraceTag {
  int track = -1;
  std::int64_t stream = 0;
  std::int64_t correlation = -1;
};

class Gpu {
 public:
  using Done = std::function<void()>;

  // `device` is the CUDA device index the timeline gives its work.
  Gpu(sim::Simulator& sim, GpuSpec spec, const KernelCost& cost, std::string name = "gpu[0]",
      int device = 0);
  Gpu(const Gpu&) = delete;
  Gpu& operator=(const Gpu&) = delete;

  // Optional timeline; a launch's TraceTag places it there.
  void attach_timeline(sim::TimelineWriter* timeline);
  int timeline_pid() const { return pid_; }
  // Optional observer, called as each kernel or copy completes (before its on_done) with the
  // time it started (its first CTA reached an SM, as a profiler's start; a copy: its launch)
  // and now. For tests and tools; one at a time.
  using KernelObserver =
      std::function<void(const workloads::KernelDesc&, sim::Time start, sim::Time end)>;
  void on_kernel(KernelObserver observer) { observer_ = std::move(observer); }

  // Runs `k` from now, or when one of the concurrent-kernel slots frees up. `on_done` runs when
  // its last CTA finishes. The kernel descriptor must outlive the run.
  // `context`: the GPU context (process) it belongs to, which matters under time_slice().
  void launch(const workloads::KernelDesc& k, Done on_done, const SmMask* mask = nullptr,
              TraceTag tag = {}, int context = 0);
  // A temporary would dangle before the kernel runs: refused at compile time.
  void launch(workloads::KernelDesc&&, Done, const SmMask* = nullptr, TraceTag = {},
              int = 0) = delete;

  // Time slicing between contexts, as processes share a GPU without MPS (gpu_sharing.hpp):
  // from now on only one context's kernels run at a time. A context keeps the GPU while it has
  // work -- kernels running, waiting here, or queued on its process's streams (context_work) --
  // until its slice ends with another context waiting. Then no more of its kernels start, the
  // running ones finish (the switch is at kernel boundaries: the hardware preempts mid-kernel,
  // which for kernels shorter than the slice differs little), the GPU idles for the context
  // switch, and the next context with work takes its turn (round robin by context id).
  void time_slice(const TimeSlicing& slicing);
  // MPS's active-thread percentage as the hardware applies it: the context's CTAs occupy at
  // most `max_sms` SMs at a time, whichever SMs they are (an SmMask instead fixes which).
  void cap_context_sms(int context, int max_sms);
  // Kernel-sized SM ownership, the mechanism of the sharing literature's ideal per-kernel
  // scheduler (no hardware offers it): from now on each kernel, as it starts, is given SMs no
  // other kernel holds -- `size(kernel, this GPU's spec)` of them (the caller's policy), or those
  // free, within its mask -- and keeps them until its last CTA is done. One that finds none free
  // waits.
  using KernelSms = std::function<int(const workloads::KernelDesc&, const GpuSpec&)>;
  void own_sms_per_kernel(KernelSms size);
  // Whether `context` has work queued or running on its process's streams; HostRuntime says so
  // as that changes. Ignored unless time sliced.
  void context_work(int context, bool busy);
  std::uint64_t context_switches() const { return slicing_.switches; }

  // Optional demand paging; null: all memory is resident (the default).
  void attach_paging(PagingGate* gate) { paging_ = gate; }

  const GpuSpec& spec() const { return spec_; }
  const std::string& name() const { return name_; }
  std::uint64_t kernels_completed() const { return kernels_done_; }
  std::uint64_t ctas_executed() const { return ctas_done_; }
  // Time-averaged fraction of SMs holding at least one CTA, and of DRAM bandwidth in use.
  double sm_busy(sim::Time now) const { return sm_busy_.average(now); }
  double dram_utilization(sim::Time now) const { return dram_util_.average(now); }
  // Time-averaged fraction of time with at least one CTA on some SM.
  double active(sim::Time now) const { return any_busy_.average(now); }
  // Share of [0, now] that SM `sm` held at least one CTA (gpu[i].sm[j].busy in stats.csv).
  double sm_busy_of(int sm, sim::Time now) const;

 private:
  struct Sm {
    int threads = 0, warps = 0, ctas = 0, registers = 0;
    int stalled = 0;  // of `ctas`, those waiting for pages: they hold resources, issue nothing
    std::int64_t shared = 0;
    std::vector<std::uint32_t> live;  // ids of the batches on it
    bool changed = false;             // listed in changed_sms_
    sim::Time busy_since{};           // when it last went from no CTA to some
    sim::Time busy_before{};          // busy time up to busy_since
  };
  // A kernel's batches of `waves` waves whose DRAM share sets their speed. Its earliest member,
  // `head`, is the group's one entry in Gpu::due_.
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  struct DramGroup {
    std::int64_t waves = 1;
    int members = 0;
    sim::RateGroup clock;
    std::uint32_t head = kNone;
    sim::Time head_due;
  };
  struct Running {
    // What a dispatch pass reads for every waiting kernel first, together in one cache line.
    std::int64_t unplaced = 0;  // CTAs not yet on an SM
    std::int64_t resident = 0;  // CTAs on SMs now
    std::int64_t stalled = 0;   // of those, waiting for pages (no compute, no DRAM traffic)
    int threads = 0, warps = 0, registers = 0;  // per CTA (registers as allocated)
    std::int64_t shared = 0;
    SmMask mask;
    const workloads::KernelDesc* desc = nullptr;
    CtaWork work;
    Done on_done;
    sim::FairShare::FlowId dram_flow = 0;
    bool has_flow = false;
    bool active = false;
    sim::Time start;
    TraceTag tag;
    int context = 0;
    double cta_rate = 0;    // DRAM bytes/s per resident CTA that its batches run at
    int usable_sms = 0;     // SMs its mask allows
    std::vector<std::uint32_t> live;  // ids of its batches on SMs now
    // Its started DRAM-bound batches, by waves: they all run at the kernel's DRAM share, so a
    // change of share moves one completion per group, not one per batch.
    std::vector<DramGroup> groups;
  };
  // CTAs of one kernel that started on one SM together and finish together. Their speed follows
  // their shares as these change (sim::Pace): the SM's compute split among its resident CTAs,
  // and the kernel's DRAM share.
  struct BatchState {
    int sm = 0;
    std::uint32_t slot = 0;
    std::int64_t n = 0;
    std::int64_t waves = 1;  // back-to-back waves of n CTAs this batch stands for
    sim::Pace run;  // starts after the CTA launch and fixed cost; due in Gpu::due_
    bool awaiting_pages = false;  // holds its SM resources, makes no progress, is not timed
    // When last timed: floor_seconds, and whether its DRAM share, not that, set its speed.
    double floor = 0;
    bool dram_bound = false;
    // A started DRAM-bound batch is a member of its kernel's group (`run` then unused).
    int group = -1;
    std::uint64_t stamp = 0;  // its entry in the group (0: none)
    double target = 0;        // the group clock at which it is through
  };
  struct Batch {  // CTAs of one kernel placed on one SM together
    int sm;
    std::uint32_t slot;
    std::int64_t n;
    std::int64_t waves;
    std::int64_t first_cta;  // grid index of its first CTA (a kernel's CTAs go out in order)
  };
  struct Eligible {  // an SM with room for `room` more CTAs of the kernel being dispatched
    int sm;
    int room;
  };

  void admit();  // starts queued launches while concurrent-kernel slots are free
  void admit_sliced();  // admit() under time slicing: the active context's launches only

  struct Launch;
  void start_launch(Launch&& launch);
  // Under own_sms_per_kernel(): gives `launch` its SMs; false when none is free for it.
  bool claim_sms(Launch& launch);
  void release_sms(std::uint32_t slot);
  bool has_work(int context) const;
  int next_context(int after) const;  // the next context with work, round robin; -1: none
  void begin_turn(int context);
  void arm_slice();  // starts the active turn's slice, if not yet
  void start(std::uint32_t slot);
  // Places CTAs of running kernels on the SMs in `sms` (in order) while they fit; whether it
  // placed any (it then sampled the utilization stats). With `fresh`, only that kernel scans
  // `sms`; the others scan `others` (see start()).
  static constexpr std::uint32_t kAll = ~std::uint32_t{0};
  bool dispatch(std::span<const int> sms, std::uint32_t fresh = kAll,
                std::span<const int> others = {});
  int fit(const Sm& sm, const Running& r) const;
  void place(int sm, std::uint32_t slot, std::int64_t n, std::int64_t waves);
  std::int64_t waves_to_reserve(const Running& r, std::int64_t unplaced_at_pass, int room,
                                std::int64_t pass_room) const;
  void due(std::uint32_t batch);  // a batch on its own, or a group's head, is through
  void batch_done(std::uint32_t batch);
  void time_batch(std::uint32_t batch);   // (re)schedules its completion at its current speed
  void join_group(std::uint32_t batch, double left);  // with `left` of its work to do
  double leave_group(std::uint32_t batch);            // the work it has left
  // A batch of `waves` waves of `wave` seconds each: the fraction of it done per second.
  double batch_speed(const Running& r, double wave, std::int64_t waves) const;
  double group_speed(const Running& r, std::int64_t waves) const;  // at the kernel's DRAM share
  void retime_group(Running& r, std::size_t g);  // after the kernel's DRAM share changed
  void reschedule(Running& r, std::size_t g);    // the group's earliest member is due in due_
  void retime_sm(int sm);                 // after residency on the SM changed
  void retime_memory();                   // after DRAM shares changed
  // Shares change many times at one instant (every SM that turns over); they are solved and the
  // batches timed once, after all of them, in settle(), an event at the same instant.
  void sm_changed(int sm);  // its residency changed
  void shares_changed();
  void settle();
  void drain(std::uint32_t slot);  // the last CTA is done: finish after the kernel overhead
  void finish(std::uint32_t slot);
  void launch_copy(const workloads::KernelDesc& k, Done on_done, TraceTag tag);
  // A kernel or copy is complete: the timeline, the observer, the kernel count.
  void report(const workloads::KernelDesc& k, sim::Time start, const TraceTag& tag);
  void update_dram(std::uint32_t slot);
  void sample(sim::Time now);
  // One wave's time on SM `sm` but for its DRAM share: its compute share, its L2 share, and
  // (if it reads DRAM) one load's latency.
  double floor_seconds(int sm, const Running& r) const;
  // Demand paging: batch `id` asks the gate for the pages of its CTAs; one that must wait is
  // awaiting_pages until pages_resident() starts it.
  void await_pages(std::uint32_t id, const Batch& b);
  void pages_resident(std::uint32_t id);
  void stall(std::uint32_t id, int sign);  // +1: batch `id` waits for pages; -1: it resumes

  sim::Simulator& sim_;
  GpuSpec spec_;
  const KernelCost& cost_;
  std::string name_;
  int device_ = 0;
  std::vector<Sm> sms_;
  std::vector<int> all_sms_;
  sim::Slots<Running> running_;           // by slot
  // Running kernels with CTAs not yet on an SM, in launch order: the only ones a dispatch pass
  // can place (kernels whose CTAs are all placed just wait for them).
  std::vector<std::uint32_t> unplaced_;
  std::vector<Batch> batches_;            // dispatch scratch
  std::vector<Eligible> eligible_;        // dispatch scratch
  sim::Slots<BatchState> states_;         // batches on SMs, by id
  // Batch completions, moved in place as shares change, with one engine event at the earliest
  // (a cancel and a new engine event per re-timing dominated co-running workloads).
  sim::ScheduledCalendar due_{sim_, [this](std::uint32_t id) { due(id); }};
  std::uint64_t stamps_ = 0;  // the last group entry's stamp
  struct Launch {  // a launch waiting for a concurrent-kernel slot
    const workloads::KernelDesc* desc;
    Done on_done;
    SmMask mask;
    TraceTag tag;
    int context = 0;
  };
  struct Slicing {
    bool on = false;
    TimeSlicing params;
    int active = -1;         // the context whose turn it is (-1: none yet)
    bool switching = false;  // between two turns
    bool over = false;       // the active turn's slice has ended with another context waiting
    bool armed = false;      // its slice is running (another context waits)
    std::uint64_t turn = 0;  // turns begun (a slice-end event of an old turn is ignored)
    std::uint64_t switches = 0;
    struct Context {
      bool busy = false;  // work on its process's streams (context_work)
      int running = 0;    // its kernels holding a slot
      int waiting = 0;    // its launches in waiting_
    };
    std::vector<Context> contexts;  // by context id
    Context& of(int context);       // grows `contexts` to hold it
  } slicing_;
  std::deque<Launch> waiting_;
  std::size_t running_count_ = 0;
  sim::FairShare dram_;
  sim::FairShare::ResourceId dram_res_ = 0;
  CopyEngines copies_;  // memcpy / memset: off the SMs, on the DRAM shares above
  bool settle_pending_ = false;    // settle() is scheduled for this instant
  std::vector<int> changed_sms_;  // SMs whose residency changed since the last settle()
  int busy_sms_ = 0;
  int released_sm_ = -1;  // an SM whose CTAs finished and that no dispatch has looked at yet
  sim::TimeWeighted sm_busy_, dram_util_, any_busy_;
  std::uint64_t kernels_done_ = 0, ctas_done_ = 0;
  sim::TimelineWriter* timeline_ = nullptr;
  KernelObserver observer_;
  int pid_ = -1;
  double last_busy_sample_ = -1;
  PagingGate* paging_ = nullptr;
  KernelSms kernel_sms_;               // own_sms_per_kernel(); empty: off
  struct ContextCap {  // cap_context_sms()
    int max_sms = 0;        // 0: none
    int sms = 0;            // SMs holding its CTAs now
    std::vector<int> ctas;  // its CTAs per SM
  };
  std::vector<ContextCap> caps_;  // by context
  ContextCap* cap_of(int context);
  // Drops from `eligible` the SMs the kernel's context may not take (its cap), recounting room.
  void cap_eligible(const Running& r, std::vector<Eligible>& eligible, std::int64_t& pass_room);
  std::vector<std::uint32_t> owner_;  // per SM, under own_sms_per_kernel(): a slot, or kNone
};

}  // namespace models

#include "models/gpu.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/invariant.hpp"

namespace models {

Gpu::Gpu(sim::Simulator& sim, GpuSpec spec, const KernelCost& cost, std::string name,
         int device)
    : sim_(sim),
      spec_(std::move(spec)),
      cost_(cost),
      name_(std::move(name)),
      device_(device),
      dram_res_(dram_.add_resource(name_ + ".dram", spec_.achievable_dram())),
      copies_(sim_, spec_, dram_, dram_res_, [this] { shares_changed(); }) {
  sms_.resize(static_cast<std::size_t>(spec_.sm_count));
  for (int i = 0; i < spec_.sm_count; ++i) all_sms_.push_back(i);
}

void Gpu::attach_timeline(sim::TimelineWriter* timeline) {
  timeline_ = timeline;
  if (!timeline_) return;
  pid_ = timeline_->process(name_);
  timeline_->device(device_, spec_.name, spec_.sm_count, spec_.dram_capacity);
}

void Gpu::launch(const workloads::KernelDesc& k, Done on_done, const SmMask* mask, TraceTag tag,
                 int context) {
  if (k.engine == workloads::Engine::copy) {
    launch_copy(k, std::move(on_done), tag);
    return;
  }
  if (const Occupancy o = occupancy(spec_, k); o.ctas_per_sm == 0)
    throw std::invalid_argument(fmt::format("kernel '{}' cannot run on {}: a CTA does not fit on "
                                            "an SM ({})",
                                            k.name, spec_.name, o.cannot_run));
  if (mask && !mask->empty() && mask->size() != sms_.size())
    throw std::invalid_argument("SM mask size differs from the SM count");
  if (context < 0) throw std::invalid_argument("a GPU context id is non-negative");
  waiting_.push_back({&k, std::move(on_done), mask ? *mask : SmMask{}, tag, context});
  if (slicing_.on) ++slicing_.of(context).waiting;
  admit();
}

void Gpu::launch_copy(const workloads::KernelDesc& k, Done on_done, TraceTag tag) {
  const sim::Time start = sim_.now();
  copies_.start(cost_.cta_work(spec_, k), [this, &k, start, tag, done = std::move(on_done)] {
    report(k, start, tag);
    if (done) done();
  });
}

void Gpu::admit() {
  if (slicing_.on) {
    admit_sliced();
    return;
  }
  while (!waiting_.empty() && running_count_ < static_cast<std::size_t>(spec_.concurrent_kernels)) {
    if (kernel_sms_ && !claim_sms(waiting_.front())) return;
    Launch launch = std::move(waiting_.front());
    waiting_.pop_front();
    start_launch(std::move(launch));
  }
}

void Gpu::start_launch(Launch&& launch) {
  const workloads::KernelDesc* desc = launch.desc;
  const std::uint32_t slot = running_.acquire();
  Running& r = running_[slot];
  r.desc = desc;
  r.work = cost_.cta_work(spec_, *desc);
  r.on_done = std::move(launch.on_done);
  r.mask = std::move(launch.mask);
  r.tag = launch.tag;
  r.context = launch.context;
  r.unplaced = desc->ctas();
  r.usable_sms = sms_in(r.mask, spec_.sm_count);
  if (const ContextCap* c = cap_of(r.context)) r.usable_sms = std::min(r.usable_sms, c->max_sms);
  if (kernel_sms_)
    for (std::size_t i = 0; i < owner_.size(); ++i)
      if (r.mask[i]) owner_[i] = slot;
  const CtaFootprint f = footprint(*desc);
  r.threads = f.threads;
  r.warps = f.warps;
  r.registers = f.registers;
  r.shared = f.shared;
  r.active = true;
  r.start = sim_.now();
  if (r.unplaced > 0) unplaced_.push_back(slot);
  ++running_count_;
  if (slicing_.on) {
    Slicing::Context& c = slicing_.of(launch.context);
    --c.waiting;
    ++c.running;
  }
  start(slot);
}

Gpu::Slicing::Context& Gpu::Slicing::of(int context) {
  const auto c = static_cast<std::size_t>(context);
  if (contexts.size() <= c) contexts.resize(c + 1);
  return contexts[c];
}

void Gpu::cap_context_sms(int context, int max_sms) {
  if (context < 0 || max_sms < 1 || max_sms > spec_.sm_count)
    throw std::invalid_argument(fmt::format("an MPS cap of {} SMs for context {} on a GPU of {}",
                                            max_sms, context, spec_.sm_count));
  const auto c = static_cast<std::size_t>(context);
  if (caps_.size() <= c) caps_.resize(c + 1);
  ContextCap& cap = caps_[c];
  if (cap.ctas.empty()) cap.ctas.assign(static_cast<std::size_t>(spec_.sm_count), 0);
  cap.max_sms = max_sms;  // a lowered cap holds back new SMs; CTAs already placed stay
}

Gpu::ContextCap* Gpu::cap_of(int context) {
  const auto c = static_cast<std::size_t>(context);
  return c < caps_.size() && caps_[c].max_sms > 0 ? &caps_[c] : nullptr;
}

void Gpu::cap_eligible(const Running& r, std::vector<Eligible>& eligible,
                       std::int64_t& pass_room) {
  ContextCap* c = cap_of(r.context);
  if (!c || c->max_sms >= spec_.sm_count) return;
  // SMs already holding the context's CTAs, and (least loaded first) as many more as its cap
  // leaves room for: which SMs is the hardware's choice, how many is the client's limit.
  int more = std::max(0, c->max_sms - c->sms);
  std::size_t keep = 0;
  pass_room = 0;
  for (const Eligible& e : eligible) {
    const bool holds = c->ctas[static_cast<std::size_t>(e.sm)] > 0;
    if (!holds && more == 0) continue;
    if (!holds) --more;
    eligible[keep++] = e;
    pass_room += e.room;
  }
  eligible.resize(keep);
}

void Gpu::own_sms_per_kernel(KernelSms size) {
  kernel_sms_ = std::move(size);
  owner_.assign(static_cast<std::size_t>(spec_.sm_count), kNone);
}

bool Gpu::claim_sms(Launch& launch) {
  const int wanted = std::clamp(kernel_sms_(*launch.desc, spec_), 1, spec_.sm_count);
  SmMask mask(static_cast<std::size_t>(spec_.sm_count), false);
  int given = 0;
  for (int s = 0; s < spec_.sm_count && given < wanted; ++s) {
    const auto i = static_cast<std::size_t>(s);
    if (owner_[i] != kNone || (!launch.mask.empty() && !launch.mask[i])) continue;
    mask[i] = true;
    ++given;
  }
  if (given == 0) return false;
  launch.mask = std::move(mask);
  return true;
}

void Gpu::release_sms(std::uint32_t slot) {
  for (std::size_t i = 0; i < owner_.size(); ++i)
    if (owner_[i] == slot) owner_[i] = kNone;
}

void Gpu::time_slice(const TimeSlicing& slicing) {
  slicing_.on = true;
  slicing_.params = slicing;
  for (const Launch& l : waiting_) ++slicing_.of(l.context).waiting;
  admit();
}

void Gpu::context_work(int context, bool busy) {
  if (!slicing_.on) return;
  slicing_.of(context).busy = busy;
  admit();
}

bool Gpu::has_work(int context) const {
  const auto c = static_cast<std::size_t>(context);
  if (c >= slicing_.contexts.size()) return false;
  const Slicing::Context& x = slicing_.contexts[c];
  return x.busy || x.running > 0 || x.waiting > 0;
}

int Gpu::next_context(int after) const {
  const int n = static_cast<int>(slicing_.contexts.size());
  for (int i = 1; i <= n; ++i) {
    const int c = ((after < 0 ? -1 : after) + i) % n;
    if (has_work(c)) return c;
  }
  return -1;
}

void Gpu::begin_turn(int context) {
  slicing_.active = context;
  slicing_.over = false;
  slicing_.armed = false;
  ++slicing_.turn;
}

void Gpu::arm_slice() {
  // The slice runs while another context waits; with none waiting the turn goes on untimed, so
  // an idle time-sliced GPU schedules nothing.
  if (slicing_.armed) return;
  slicing_.armed = true;
  const std::uint64_t turn = slicing_.turn;
  sim_.schedule_in(slicing_.params.slice, [this, turn] {
    if (slicing_.turn != turn) return;  // that turn has ended
    slicing_.armed = false;
    const int next = next_context(slicing_.active);
    if (next < 0 || next == slicing_.active) return;
    slicing_.over = true;
    admit();
  });
}

void Gpu::admit_sliced() {
  Slicing& sl = slicing_;
  if (sl.switching) return;
  if (sl.active < 0) {  // the GPU has had no context yet: the first with work takes it
    const int first = next_context(-1);
    if (first < 0) return;
    begin_turn(first);
  }
  const int active = sl.active;
  if (!sl.over)
    while (running_count_ < static_cast<std::size_t>(spec_.concurrent_kernels)) {
      auto it = std::find_if(waiting_.begin(), waiting_.end(),
                             [active](const Launch& l) { return l.context == active; });
      if (it == waiting_.end()) break;
      Launch launch = std::move(*it);
      waiting_.erase(it);
      start_launch(std::move(launch));
      if (sl.active != active || sl.switching) return;  // a nested admit moved on
    }
  const int next = next_context(active);
  if (next < 0 || next == active) return;  // nobody else waits: the turn goes on
  if (!sl.over) arm_slice();
  const bool idle = !has_work(active);
  if (!(idle || sl.over) || sl.of(active).running > 0) return;
  // The active context has yielded (idle) or its slice is over and its kernels have drained.
  sl.switching = true;
  ++sl.switches;
  sim_.schedule_in(sl.params.context_switch, [this, active] {
    slicing_.switching = false;
    const int to = next_context(active);
    if (to < 0) {
      slicing_.active = -1;
      return;
    }
    begin_turn(to);
    admit();
  });
}

void Gpu::start(std::uint32_t slot) {
  if (running_[slot].unplaced == 0) {  // an empty grid completes at once
    finish(slot);
    return;
  }
  // Kernels started earlier and still waiting for room fit on no SM but one whose CTAs have
  // just finished (released_sm_): every dispatch pass leaves each kernel it could not place
  // fully with no room on any SM it scanned, and SMs only gain room in batch_done, which
  // dispatches that SM right away. So only the new kernel needs a scan of every SM; the
  // earlier ones need the released SM at most (scanning the rest would find no room).
  const int released[1] = {released_sm_};
  dispatch(all_sms_, slot,
           released_sm_ >= 0 ? std::span<const int>(released) : std::span<const int>());
}

int Gpu::fit(const Sm& sm, const Running& r) const {
  // Most calls find no room for even one CTA (a dispatch pass offers a freed SM to every kernel
  // still waiting): comparisons answer that, the divisions run only when at least one fits.
  const int free_threads = spec_.sm.max_threads - sm.threads;
  const int free_warps = spec_.sm.max_warps - sm.warps;
  const int free_registers = spec_.sm.registers - sm.registers;
  const std::int64_t free_shared = spec_.sm.shared_memory - sm.shared;
  if (sm.ctas >= spec_.sm.max_ctas || free_threads < r.threads || free_warps < r.warps ||
      (r.registers > 0 && free_registers < r.registers) || (r.shared > 0 && free_shared < r.shared))
    return 0;
  int n = spec_.sm.max_ctas - sm.ctas;
  n = std::min(n, free_threads / r.threads);
  n = std::min(n, free_warps / r.warps);
  if (r.registers > 0) n = std::min(n, free_registers / r.registers);
  if (r.shared > 0) n = std::min<int>(n, static_cast<int>(free_shared / r.shared));
  return std::max(n, 0);
}

std::int64_t Gpu::waves_to_reserve(const Running& r, std::int64_t unplaced_at_pass, int room,
                                   std::int64_t pass_room) const {
  // The waves every SM would get if the CTAs left at the start of the pass were spread evenly
  // over the room the kernel has (at least `room` on every SM it may use), less one: the last
  // full wave and the remainder are dispatched wave by wave, so the tail (its imbalance and
  // partial wave) emerges as before. An SM with little room beside another kernel (one slot
  // next to an NCCL CTA) reserves as many waves as the others, not the whole kernel's worth of
  // one-CTA waves: the hardware hands CTAs to whichever SM frees a slot.
  // Under demand paging each wave faults its own pages when it starts: dispatched wave by wave.
  if (paging_) return 1;
  const std::int64_t even =
      unplaced_at_pass /
      std::max(static_cast<std::int64_t>(room) * r.usable_sms, pass_room);
  const std::int64_t waves = std::min(even - 1, r.unplaced / room);
  return waves >= 2 ? waves : 1;
}

void Gpu::place(int s, std::uint32_t slot, std::int64_t n, std::int64_t waves) {
  Sm& sm = sms_[static_cast<std::size_t>(s)];
  Running& r = running_[slot];
  if (sm.ctas == 0) {
    ++busy_sms_;
    sm.busy_since = sim_.now();
  }
  sm.ctas += static_cast<int>(n);
  sm.threads += static_cast<int>(n) * r.threads;
  sm.warps += static_cast<int>(n) * r.warps;
  sm.registers += static_cast<int>(n) * r.registers;
  sm.shared += n * r.shared;
  WARPSIM_INVARIANT(sm.ctas <= spec_.sm.max_ctas && sm.threads <= spec_.sm.max_threads &&
                        sm.warps <= spec_.sm.max_warps && sm.registers <= spec_.sm.registers &&
                        sm.shared <= spec_.sm.shared_memory,
                    "an SM holds more CTAs, threads, warps, registers or shared memory than it has");
  // A kernel starts, as a profiler sees it, when its first CTA reaches an SM.
  if (r.unplaced == r.desc->ctas()) r.start = sim_.now();
  if (ContextCap* c = cap_of(r.context)) {
    int& here = c->ctas[static_cast<std::size_t>(s)];
    if (here == 0) ++c->sms;
    here += static_cast<int>(n);
  }
  r.unplaced -= n * waves;
  r.resident += n;
  WARPSIM_INVARIANT(r.unplaced >= 0, "a kernel placed more CTAs than its grid has");
}

bool Gpu::dispatch(std::span<const int> sms, std::uint32_t fresh, std::span<const int> others) {
  // Scratch vectors are members (dispatch never re-enters itself): no allocation per event.
  std::vector<Batch>& batches = batches_;
  std::vector<Eligible>& eligible = eligible_;
  batches.clear();
  std::size_t still_unplaced = 0;
  for (std::size_t k = 0; k < unplaced_.size(); ++k) {
    const std::uint32_t slot = unplaced_[k];
    Running& r = running_[slot];
    eligible.clear();
    const std::span<const int> scan = fresh == kAll || slot == fresh ? sms : others;
    // A kernel that fills an SM reserves its next waves there (waves_to_reserve): at each wave
    // boundary it would refill the room it frees, as every kernel offered that SM before it in
    // this pass found no room for one CTA.
    const std::int64_t unplaced_at_pass = r.unplaced;
    const std::int64_t first_of_pass = r.desc->ctas() - r.unplaced;
    bool first_round = true;
    std::int64_t pass_room = 0;  // CTAs the eligible SMs can take at once
    for (int s : scan) {
      if (!r.mask.empty() && !r.mask[static_cast<std::size_t>(s)]) continue;
      const int room = fit(sms_[static_cast<std::size_t>(s)], r);
      if (room > 0) eligible.push_back({s, room});
      pass_room += room;
    }
    // Least-loaded SMs first (fewest resident warps, then index): a kernel arriving while others
    // run spreads onto idle SMs before doubling up on busy ones.
    if (eligible.size() > 1)
      std::stable_sort(eligible.begin(), eligible.end(), [&](const Eligible& a, const Eligible& b) {
        return sms_[static_cast<std::size_t>(a.sm)].warps <
               sms_[static_cast<std::size_t>(b.sm)].warps;
      });
    if (!caps_.empty()) cap_eligible(r, eligible, pass_room);
    // Breadth-first: spread the remaining CTAs evenly over the SMs that can take them. Only
    // this kernel places CTAs on these SMs in this loop, and placing n of its CTAs lowers every
    // limit in fit() by exactly n, so the room counted above stays exact as room - n.
    while (r.unplaced > 0 && !eligible.empty()) {
      const std::int64_t share =
          (r.unplaced + static_cast<std::int64_t>(eligible.size()) - 1) /
          static_cast<std::int64_t>(eligible.size());
      std::size_t keep = 0;
      for (Eligible e : eligible) {
        const std::int64_t n = std::min({static_cast<std::int64_t>(e.room), share, r.unplaced});
        const int s = e.sm;
        if (n > 0) {
          const std::int64_t waves = first_round && n == e.room
                                         ? waves_to_reserve(r, unplaced_at_pass, e.room, pass_room)
                                         : 1;
          const std::int64_t first_cta = first_of_pass + (unplaced_at_pass - r.unplaced);
          place(s, slot, n, waves);
          e.room -= static_cast<int>(n);
          if (waves == 1 && !batches.empty() && batches.back().sm == s &&
              batches.back().slot == slot && batches.back().waves == 1)
            batches.back().n += n;
          else
            batches.push_back({s, slot, n, waves, first_cta});
        }
        if (e.room > 0) eligible[keep++] = e;
        if (r.unplaced == 0) break;
      }
      eligible.resize(keep);
      first_round = false;
    }
    if (r.unplaced > 0) unplaced_[still_unplaced++] = slot;
  }
  unplaced_.resize(still_unplaced);
  if (batches.empty()) return false;
  // Shares first (every placement of this pass counts), then the batches' durations. A kernel's
  // batches are contiguous and its residency is final here, so one update per kernel does what
  // one per batch did (the repeats set the same cap and weight, which FairShare ignores).
  for (std::size_t i = 0; i < batches.size(); ++i)
    if (i == 0 || batches[i].slot != batches[i - 1].slot) update_dram(batches[i].slot);
  shares_changed();
  for (const Batch& b : batches) {
    const std::uint32_t id = states_.acquire();
    Running& r = running_[b.slot];
    BatchState& st = states_[id];
    st.sm = b.sm;
    st.slot = b.slot;
    st.n = b.n;
    st.waves = b.waves;
    st.run.since = sim_.now() + spec_.cta_launch + r.work.fixed;
    r.live.push_back(id);
    sms_[static_cast<std::size_t>(b.sm)].live.push_back(id);
    if (paging_) await_pages(id, b);
  }
  // Residency changed on these SMs: every batch there runs at its new compute share.
  for (const Batch& b : batches) sm_changed(b.sm);
  return true;
}

double Gpu::floor_seconds(int s, const Running& r) const {
  const CtaWork& w = r.work;
  const Sm& sm = sms_[static_cast<std::size_t>(s)];
  const int resident_on_sm = std::max(1, sm.ctas - sm.stalled);  // CTAs stalled on faults issue nothing
  const double share = std::min(w.sm_fraction, 1.0 / resident_on_sm);
  double t = w.compute_seconds / share;
  if (w.l2_bytes > 0) {
    const double l2_per_sm = spec_.l2_bandwidth * spec_.efficiency.l2 / spec_.sm_count;
    t = std::max(t, w.l2_bytes * resident_on_sm / l2_per_sm);
  }
  // However few its bytes, a CTA that reads DRAM waits for at least one load to come back.
  if (w.dram_bytes > 0) t = std::max(t, spec_.dram_latency.seconds());
  return t;
}

void Gpu::time_batch(std::uint32_t id) {
  BatchState& b = states_[id];
  if (b.awaiting_pages) return;  // timed when its pages arrive
  Running& r = running_[b.slot];
  const sim::Time now = sim_.now();
  // One wave: its compute, L2 and latency floor, or its bytes at the kernel's DRAM share.
  b.floor = floor_seconds(b.sm, r);
  const double dram = r.work.dram_bytes > 0 && r.cta_rate > 0 ? r.work.dram_bytes / r.cta_rate : 0;
  b.dram_bound = dram > b.floor;
  if (b.dram_bound && now >= b.run.since) {  // at its kernel's DRAM share, with its group
    if (b.group >= 0) return;                // the group's speed follows the share
    b.run.rerate(now, b.run.speed);          // banks its progress so far
    due_.erase(id);
    join_group(id, 1.0 - b.run.done);
    return;
  }
  if (b.group >= 0) {  // held to its floor now: on its own again, with what it has left
    const double left = leave_group(id);
    b.run = sim::Pace{1.0 - left, 0.0, now};
  }
  const double speed = batch_speed(r, b.dram_bound ? dram : b.floor, b.waves);
  if (speed == b.run.speed && due_.contains(id)) return;  // unchanged: keeps its completion
  due_.set(id, b.run.rerate(now, speed));
}

double Gpu::batch_speed(const Running& r, double wave, std::int64_t waves) const {
  // Several waves: each after the first pays the CTA launch and fixed cost again.
  const double t = waves == 1 ? wave
                              : static_cast<double>(waves) * wave +
                                    static_cast<double>(waves - 1) *
                                        (spec_.cta_launch + r.work.fixed).seconds();
  return t > 0 ? 1.0 / t : 0.0;
}

double Gpu::group_speed(const Running& r, std::int64_t waves) const {
  return batch_speed(r, r.work.dram_bytes / r.cta_rate, waves);
}

void Gpu::join_group(std::uint32_t id, double left) {
  BatchState& b = states_[id];
  Running& r = running_[b.slot];
  std::size_t g = 0;
  while (g < r.groups.size() && r.groups[g].waves != b.waves) ++g;
  if (g == r.groups.size()) {
    r.groups.emplace_back();
    r.groups.back().waves = b.waves;
  }
  DramGroup& group = r.groups[g];
  if (group.members == 0) group.clock.reset(sim_.now());
  group.clock.set_speed(sim_.now(), group_speed(r, b.waves));
  group.clock.clock(sim_.now());
  b.group = static_cast<int>(g);
  b.stamp = ++stamps_;
  b.target = group.clock.add(id, b.stamp, left);
  ++group.members;
  reschedule(r, g);
}

double Gpu::leave_group(std::uint32_t id) {
  BatchState& b = states_[id];
  Running& r = running_[b.slot];
  const auto g = static_cast<std::size_t>(b.group);
  DramGroup& group = r.groups[g];
  group.clock.clock(sim_.now());
  const double left = std::min(1.0, group.clock.left(b.target));
  --group.members;
  b.group = -1;
  b.stamp = 0;  // its entry in the group is stale now
  if (group.head == id) {
    due_.erase(id);
    group.head = kNone;
    reschedule(r, g);
  }
  return left;
}

void Gpu::retime_group(Running& r, std::size_t g) {
  DramGroup& group = r.groups[g];
  const double speed = group_speed(r, group.waves);
  if (speed == group.clock.speed()) return;
  group.clock.set_speed(sim_.now(), speed);
  reschedule(r, g);
}

void Gpu::reschedule(Running& r, std::size_t g) {
  DramGroup& group = r.groups[g];
  std::uint32_t id = kNone;
  double target = 0;
  const auto standing = [this](std::uint32_t i, std::uint64_t stamp) {
    return states_[i].stamp == stamp;
  };
  if (!group.clock.front(standing, id, target)) {
    group.head = kNone;
    return;
  }
  const sim::Time at = group.clock.due(target);
  if (id == group.head && at == group.head_due) return;
  if (group.head != kNone && group.head != id) due_.erase(group.head);
  group.head = id;
  group.head_due = at;
  due_.set(id, at);
}

void Gpu::due(std::uint32_t id) {
  BatchState& b = states_[id];
  if (b.group >= 0) {  // its group's head: the next member becomes the head
    Running& r = running_[b.slot];
    const auto g = static_cast<std::size_t>(b.group);
    DramGroup& group = r.groups[g];
    WARPSIM_INVARIANT(group.head == id, "a DRAM group's member came due before its head");
    group.clock.pop();
    --group.members;
    group.head = kNone;
    b.group = -1;
    b.stamp = 0;
    reschedule(r, g);
  }
  batch_done(id);
}

void Gpu::retime_sm(int s) {
  for (std::uint32_t id : sms_[static_cast<std::size_t>(s)].live) time_batch(id);
}

void Gpu::sm_changed(int s) {
  Sm& sm = sms_[static_cast<std::size_t>(s)];
  if (sm.changed) return;
  sm.changed = true;
  changed_sms_.push_back(s);
  shares_changed();
}

void Gpu::shares_changed() {
  // Every batch completion and placement at one instant changes the shares; solving and timing
  // once after all of them gives the same speeds from this instant on (no time passes in
  // between) without re-timing every batch of a DRAM-bound kernel once per SM that turns over.
  if (settle_pending_) return;
  settle_pending_ = true;
  sim_.schedule(sim_.now(), [this] { settle(); }, sim::Priority::kBandwidth);
}

void Gpu::settle() {
  settle_pending_ = false;
  dram_.solve();
  retime_memory();
  copies_.retime();
  for (int s : changed_sms_) {
    sms_[static_cast<std::size_t>(s)].changed = false;
    retime_sm(s);  // new batches get their first completion here
  }
  changed_sms_.clear();
  sample(sim_.now());
}

void Gpu::retime_memory() {
  for (Running& r : running_) {
    if (!r.active || !r.has_flow || r.resident == r.stalled) continue;
    const double rate = dram_.rate(r.dram_flow) / static_cast<double>(r.resident - r.stalled);
    if (rate == r.cta_rate) continue;
    r.cta_rate = rate;
    for (std::size_t g = 0; g < r.groups.size(); ++g)
      if (r.groups[g].members > 0) retime_group(r, g);
    // Only a batch whose bound changes needs a look: a group member that the new share would
    // leave below its floor (compute, L2, latency), and one held to its floor that its bytes at
    // the new share would exceed. Those whose SM changed at this instant are retimed as well.
    const double dram = r.work.dram_bytes / rate;
    for (std::uint32_t id : r.live) {
      const BatchState& b = states_[id];
      const bool stays = b.group >= 0 ? dram > b.floor
                                      : !b.dram_bound && dram <= b.floor && due_.contains(id);
      if (stays && !sms_[static_cast<std::size_t>(b.sm)].changed) continue;
      time_batch(id);
    }
  }
}

void Gpu::update_dram(std::uint32_t slot) {
  Running& r = running_[slot];
  if (r.work.dram_bytes <= 0) return;
  // CTAs waiting for pages draw no bandwidth: only the others ask for a share.
  const std::int64_t drawing = r.resident - r.stalled;
  if (drawing == 0) {
    if (r.has_flow) {
      dram_.remove_flow(r.dram_flow);
      r.has_flow = false;
    }
    return;
  }
  // Demand: the rate this kernel's resident CTAs would pull at full compute speed, and no more
  // than their warps can keep in flight (Little's law, from the cost model).
  const double fastest = std::max(r.work.compute_seconds / r.work.sm_fraction, 1e-15);
  double per_cta = r.work.dram_bytes / fastest;
  if (r.work.max_dram_rate > 0) per_cta = std::min(per_cta, r.work.max_dram_rate);
  const double cap = static_cast<double>(drawing) * per_cta;
  const double weight = static_cast<double>(drawing);
  if (!r.has_flow) {
    const sim::FairShare::ResourceId res[1] = {dram_res_};
    r.dram_flow = dram_.add_flow(res, cap, weight);
    r.has_flow = true;
  } else {
    dram_.set_cap(r.dram_flow, cap);
    dram_.set_weight(r.dram_flow, weight);
  }
}

void Gpu::batch_done(std::uint32_t id) {
  const BatchState b = states_[id];
  states_.release(id);
  const int s = b.sm;
  const std::uint32_t slot = b.slot;
  const std::int64_t n = b.n;
  Sm& sm = sms_[static_cast<std::size_t>(s)];
  {
    Running& r = running_[slot];
    r.live.erase(std::find(r.live.begin(), r.live.end(), id));
    sm.live.erase(std::find(sm.live.begin(), sm.live.end(), id));
    sm.ctas -= static_cast<int>(n);
    sm.threads -= static_cast<int>(n) * r.threads;
    sm.warps -= static_cast<int>(n) * r.warps;
    sm.registers -= static_cast<int>(n) * r.registers;
    sm.shared -= n * r.shared;
    if (sm.ctas == 0) {
      --busy_sms_;
      sm.busy_before = sm.busy_before + (sim_.now() - sm.busy_since);
    }
    r.resident -= n;
    if (ContextCap* c = cap_of(r.context)) {
      int& here = c->ctas[static_cast<std::size_t>(s)];
      here -= static_cast<int>(n);
      if (here == 0) --c->sms;
    }
    WARPSIM_INVARIANT(sm.ctas >= 0 && sm.threads >= 0 && sm.warps >= 0 && sm.registers >= 0 &&
                          sm.shared >= 0 && r.resident >= 0 && busy_sms_ >= 0,
                      "more CTAs left an SM than were placed on it");
    ctas_done_ += static_cast<std::uint64_t>(n * b.waves);
    update_dram(slot);
  }
  released_sm_ = s;  // until the dispatch below, the one SM with room nobody has looked at
  if (running_[slot].unplaced == 0 && running_[slot].resident == 0) drain(slot);
  const int freed[1] = {s};
  const bool placed = dispatch(freed);
  released_sm_ = -1;
  if (!placed) sm_changed(s);  // the CTAs left behind get the SM's freed share
  shares_changed();             // and a kernel's tail leaving frees DRAM for the others
}

void Gpu::drain(std::uint32_t slot) {
  if (kernel_sms_) {  // its SMs go to the next kernel at once; its slot is held until finish
    release_sms(slot);
    admit();
  }
  // The grid's set-up and completion cost (GpuSpec::kernel_overhead) is charged after its last
  // CTA: its SMs are free for other kernels meanwhile, but its stream and slot are not.
  if (spec_.kernel_overhead > sim::Time::zero())
    sim_.schedule_in(spec_.kernel_overhead, [this, slot] { finish(slot); });
  else
    finish(slot);
}

void Gpu::finish(std::uint32_t slot) {
  Running& r = running_[slot];
  WARPSIM_INVARIANT(r.active && r.unplaced == 0 && r.resident == 0,
                    "a kernel finished with CTAs not run, or finished twice");
  r.active = false;
  --running_count_;
  if (slicing_.on) --slicing_.of(r.context).running;
  report(*r.desc, r.start, r.tag);
  Done done = std::move(r.on_done);
  running_.release(slot);
  admit();  // a queued launch takes the freed concurrent-kernel slot
  if (done) done();
}

void Gpu::report(const workloads::KernelDesc& k, sim::Time start, const TraceTag& tag) {
  ++kernels_done_;
  if (timeline_ && tag.track >= 0) {
    // Kineto's fields (kineto_trace.hpp), so `warpsim replay` and `validate` read the timeline
    // back: the kernel's place, its launch shape and the work the model priced it from.
    sim::TraceArgs args{{"device", std::int64_t{device_}},
                        {"stream", tag.stream},
                        {"correlation", tag.correlation}};
    if (k.engine == workloads::Engine::copy) {
      args.push_back({"bytes", static_cast<std::int64_t>(std::llround(k.dram_bytes))});
      timeline_->complete(pid_, tag.track, k.name, "gpu_memcpy", start, sim_.now() - start, args);
    } else {
      args.push_back({"grid", std::vector<std::int64_t>{k.grid.x, k.grid.y, k.grid.z}});
      args.push_back({"block", std::vector<std::int64_t>{k.block.x, k.block.y, k.block.z}});
      args.push_back({"registers per thread", std::int64_t{k.registers_per_thread}});
      args.push_back({"shared memory", k.shared_mem_per_cta});
      args.push_back({"flops", k.flops});
      args.push_back({"bytes", static_cast<std::int64_t>(std::llround(k.dram_bytes))});
      args.push_back({"l2 bytes", static_cast<std::int64_t>(std::llround(k.l2_bytes))});
      args.push_back({"dtype", std::string(workloads::dtype_name(k.dtype))});
      args.push_back({"math unit", std::string(workloads::math_unit_name(k.unit))});
      timeline_->complete(pid_, tag.track, k.name, "kernel", start, sim_.now() - start, args);
    }
  }
  if (observer_) observer_(k, start, sim_.now());
}

double Gpu::sm_busy_of(int s, sim::Time now) const {
  const Sm& sm = sms_.at(static_cast<std::size_t>(s));
  const sim::Time busy = sm.ctas > 0 ? sm.busy_before + (now - sm.busy_since) : sm.busy_before;
  return now > sim::Time::zero() ? busy.seconds() / now.seconds() : 0.0;
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

void Gpu::await_pages(std::uint32_t id, const Batch& b) {
  const Running& r = running_[b.slot];
  if (paging_->touch(*r.desc, b.first_cta, b.n, [this, id] { pages_resident(id); })) return;
  states_[id].awaiting_pages = true;
  stall(id, +1);
}

void Gpu::stall(std::uint32_t id, int sign) {
  const BatchState& b = states_[id];
  const int n = sign * static_cast<int>(b.n);
  running_[b.slot].stalled += n;
  sms_[static_cast<std::size_t>(b.sm)].stalled += n;
  update_dram(b.slot);
  sm_changed(b.sm);  // the SM's other CTAs get (or give back) its compute share
}

void Gpu::pages_resident(std::uint32_t id) {
  BatchState& b = states_[id];
  b.awaiting_pages = false;
  stall(id, -1);
  b.run.since = sim_.now() + spec_.cta_launch + running_[b.slot].work.fixed;
  time_batch(id);
}

}  // namespace models

#include "interconnect/collective_runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace interconnect {

struct CollectiveRunner::Instance {
  Plan plan;
  ProtocolSpec protocol;
  double bytes = 0;
  int pieces = 1;
  double piece_bytes = 0;
  Done done;
  CollectiveData* data = nullptr;
  std::vector<int> next, in_flight;     // per phase
  std::vector<int> stage;               // per piece: phases completed
  std::vector<int> outstanding;         // per piece: parts left in its current phase
  std::vector<char> waited;             // per piece: counted a slot wait already
  std::vector<sim::Time> entered;       // per piece: when it entered its current phase
  std::vector<std::vector<float>> sums; // functional: per piece, the reduced slice
  std::vector<double> seconds_per_byte;  // per phase: the piece's transfer time, uncontended
  int slots = 1;  // in-network: slot chunks a piece holds at each engine
  std::deque<workloads::KernelDesc> kernels;  // must outlive their runs
  int finished = 0;
  bool over = false;

  double size(int piece) const {
    return piece + 1 < pieces ? piece_bytes : bytes - piece_bytes * (pieces - 1);
  }
};

CollectiveRunner::CollectiveRunner(sim::Simulator& sim, Topology& topo, models::Gpu* gpu)
    : sim_(sim), topo_(topo), gpu_(gpu) {}

CollectiveRunner::~CollectiveRunner() = default;

void CollectiveRunner::attach_timeline(sim::TimelineWriter* timeline) {
  timeline_ = timeline;
  if (!timeline_) return;
  pid_ = timeline_->process("collectives");
  if (gpu_ && gpu_->timeline_pid() >= 0)
    kernel_track_ = timeline_->thread(gpu_->timeline_pid(), "collective kernels");
}

void CollectiveRunner::run(const Plan& plan, double bytes, Done done, CollectiveData* data) {
  if (!(bytes >= 0)) throw std::invalid_argument("collective: bytes must be >= 0");
  if (plan.phases.empty()) throw std::logic_error("collective plan without phases");
  // The kernel's set-up (the protocol's launch cost) comes before it looks at any link or slot.
  const sim::Time launch = protocol_for(plan, bytes).launch;
  if (launch > sim::Time::zero())
    sim_.schedule_in(launch, [this, plan, bytes, done = std::move(done), data]() mutable {
      begin(plan, bytes, std::move(done), data);
    });
  else
    begin(plan, bytes, std::move(done), data);
}

void CollectiveRunner::begin(const Plan& plan, double bytes, Done done, CollectiveData* data) {
  if (plan.fallback && !data) {
    const bool busy = std::any_of(plan.phases.begin(), plan.phases.end(), [](const Phase& ph) {
      return std::any_of(ph.hold.begin(), ph.hold.end(),
                         [](const ReductionEngine* e) { return e->free_slots() == 0; });
    });
    if (busy) {
      ++fallbacks_;
      begin(*plan.fallback, bytes, std::move(done), nullptr);  // launched already
      return;
    }
  }
  auto in = std::make_unique<Instance>();
  in->plan = plan;
  in->bytes = bytes;
  // Pieces of plan.chunk; a huge message uses larger pieces so the count stays bounded.
  constexpr double kMaxPieces = 4096;
  const double chunk = std::max(static_cast<double>(plan.chunk), bytes / kMaxPieces);
  in->pieces = std::max(1, static_cast<int>(std::ceil(bytes / chunk)));
  if (plan.in_network) {
    // Slot chunks travel in groups (a piece holds one slot per chunk at every engine on its
    // way), so the work per collective stays bounded while the slot pool still bounds what is
    // in flight. Groups stay small enough that the pieces the window lets into the phases that
    // hold slots never need more than the smallest pool.
    int pool = 1 << 30, span = 1;
    for (std::size_t i = 0; i < plan.phases.size(); ++i) {
      const Phase& ph = plan.phases[i];
      for (const ReductionEngine* e : ph.hold) pool = std::min(pool, e->spec().slots);
      if (!ph.hold.empty()) span = std::max(span, ph.hold_until - static_cast<int>(i) + 1);
    }
    constexpr int kMaxInNetworkPieces = 16;
    const int group = std::clamp((in->pieces + kMaxInNetworkPieces - 1) / kMaxInNetworkPieces, 1,
                                 std::max(1, pool / (std::max(1, plan.window) * span)));
    in->slots = group;
    in->pieces = (in->pieces + group - 1) / group;
  }
  in->piece_bytes = bytes / in->pieces;
  in->done = std::move(done);
  in->data = data;
  const std::size_t phases = plan.phases.size();
  in->next.assign(phases, 0);
  in->in_flight.assign(phases, 0);
  in->stage.assign(static_cast<std::size_t>(in->pieces), 0);
  in->outstanding.assign(static_cast<std::size_t>(in->pieces), 0);
  in->waited.assign(static_cast<std::size_t>(in->pieces), 0);
  in->entered.assign(static_cast<std::size_t>(in->pieces), sim::Time{});
  if (data) {
    const bool functional = std::any_of(plan.phases.begin(), plan.phases.end(),
                                        [](const Phase& p) { return p.reduce_point; });
    if (!functional || plan.op != CollectiveOp::all_reduce)
      throw std::invalid_argument("functional mode needs an in-network all_reduce plan");
    if (data->in.size() != static_cast<std::size_t>(topo_.gpus()))
      throw std::invalid_argument("functional mode: one input vector per GPU");
    const std::size_t len = data->in.front().size();
    if (static_cast<double>(len) * sizeof(float) != bytes)
      throw std::invalid_argument("functional mode: bytes must be 4 x the vector length");
    if (static_cast<std::size_t>(in->pieces) > len) {
      in->pieces = static_cast<int>(std::max<std::size_t>(len, 1));
      in->piece_bytes = bytes / in->pieces;
      in->stage.assign(static_cast<std::size_t>(in->pieces), 0);
      in->outstanding.assign(static_cast<std::size_t>(in->pieces), 0);
      in->waited.assign(static_cast<std::size_t>(in->pieces), 0);
      in->entered.assign(static_cast<std::size_t>(in->pieces), sim::Time{});
    }
    in->sums.resize(static_cast<std::size_t>(in->pieces));
    data->out.assign(data->in.size(), std::vector<float>(len, 0.0f));
  }
  in->protocol = protocol_for(plan, bytes);
  in->seconds_per_byte = seconds_per_byte(plan, in->protocol);
  Instance& ref = *in;
  active_.push_back(std::move(in));
  try_start(ref, 0);
}

std::vector<double> CollectiveRunner::seconds_per_byte(const Plan& plan,
                                                       const ProtocolSpec& protocol) {
  const auto channels = channel_resource(plan.ctas, protocol);
  std::vector<double> out;
  for (const Phase& ph : plan.phases) {
    double t = 0;
    for (const FlowSpec& f : ph.flows) {
      double cap = sim::FairShare::kUncapped;
      for (auto r : f.path) cap = std::min(cap, topo_.network().capacity(r));
      if (channels && f.sent_by_gpus) cap = std::min(cap, topo_.network().capacity(*channels));
      if (cap > 0 && cap < sim::FairShare::kUncapped)
        t = std::max(t, f.coef / protocol.efficiency / cap);
    }
    out.push_back(t);
  }
  return out;
}

double CollectiveRunner::estimate(const Plan& plan, const ProtocolSpec& protocol, double bytes) {
  double t = protocol.launch.seconds();
  const std::vector<double> spb = seconds_per_byte(plan, protocol);
  for (std::size_t i = 0; i < plan.phases.size(); ++i) {
    const Phase& ph = plan.phases[i];
    const double step = (ph.alpha + (ph.synchronised ? protocol.step_overhead : sim::Time{})).seconds();
    t += step * ph.steps + bytes * spb[i];
  }
  return t;
}

const ProtocolSpec& CollectiveRunner::protocol_for(const Plan& plan, double bytes) {
  const CollectiveKernelSpec& k = topo_.spec().kernels;
  if (plan.in_network) return k.simple();
  const ProtocolSpec* best = nullptr;
  double best_time = 0;
  for (const ProtocolSpec& p : k.protocols) {
    if (k.protocol != "auto") {
      if (p.name == k.protocol) return p;
      continue;
    }
    const double t = estimate(plan, p, bytes);
    if (!best || t < best_time) {  // ties: the earlier (lower-latency) protocol
      best = &p;
      best_time = t;
    }
  }
  return best ? *best : k.simple();
}

std::optional<Topology::Res> CollectiveRunner::channel_resource(int ctas,
                                                                const ProtocolSpec& protocol) {
  const double per_channel = protocol.channel_bandwidth;
  if (!(per_channel > 0) || ctas <= 0) return std::nullopt;
  const std::pair<int, double> key{ctas, per_channel};
  auto it = channels_.find(key);
  if (it == channels_.end())
    it = channels_
             .emplace(key, topo_.network().add_resource(
                               fmt::format("collective channels x{} ({})", ctas, protocol.name),
                               per_channel * ctas))
             .first;
  return it->second;
}

void CollectiveRunner::try_start(Instance& in, int p) {
  if (p >= static_cast<int>(in.plan.phases.size())) return;
  const Phase& ph = in.plan.phases[static_cast<std::size_t>(p)];
  while (in.next[p] < in.pieces && in.stage[in.next[p]] == p && in.in_flight[p] < in.plan.window) {
    const int piece = in.next[p];
    if (!ph.hold.empty()) {
      const int n = in.slots;
      const bool free = std::all_of(ph.hold.begin(), ph.hold.end(),
                                    [n](const ReductionEngine* e) { return e->free_slots() >= n; });
      if (!free) {
        if (!in.waited[piece]) {
          in.waited[piece] = 1;
          ++slot_waits_;
          for (ReductionEngine* e : ph.hold)
            if (e->free_slots() < n) e->count_wait();
        }
        return;  // FIFO: later pieces wait behind this one
      }
      for (ReductionEngine* e : ph.hold) e->try_acquire(n);
    }
    ++in.next[p];
    start(in, p, piece);
  }
}

void CollectiveRunner::start(Instance& in, int p, int piece) {
  const Phase& ph = in.plan.phases[static_cast<std::size_t>(p)];
  ++in.in_flight[p];
  ++pieces_;
  in.entered[piece] = sim_.now();
  const double c = in.size(piece);
  const bool kernel = gpu_ && in.plan.ctas > 0 && (ph.dram_coef > 0 || ph.flops_coef > 0 ||
                               (topo_.spec().kernels.persistent && !ph.flows.empty()));
  in.outstanding[piece] = static_cast<int>(ph.flows.size()) + (kernel ? 1 : 0);
  Instance* ip = &in;
  if (in.outstanding[piece] == 0) {  // nothing to move: latency only
    in.outstanding[piece] = 1;
    part_done(in, p, piece);
    return;
  }
  // Each GPU's channels send at most ctas x channel_bandwidth: every flow the GPUs send (a
  // lockstep group that leaves each GPU once) also goes through that one resource, so phases,
  // pieces in flight and concurrent collectives with as many channels share it.
  const auto channels = channel_resource(in.plan.ctas, in.protocol);
  const double wire = c / in.protocol.efficiency;  // the protocol's flags and padding travel too
  for (const FlowSpec& f : ph.flows) {
    topo_.carry(f.path, f.coef * wire);
    std::vector<Topology::Res> path = f.path;
    if (channels && f.sent_by_gpus) path.push_back(*channels);
    topo_.network().start(path, f.coef * wire, [this, ip, p, piece](sim::FlowNetwork::FlowId) {
      part_done(*ip, p, piece);
    });
  }
  if (kernel) {
    workloads::KernelDesc& k = in.kernels.emplace_back();
    k.name = fmt::format("nccl_{}_{}", in.plan.algorithm, op_name(in.plan.op));
    k.grid.x = in.plan.ctas;
    k.block.x = topo_.spec().kernels.threads;
    k.registers_per_thread = 64;
    k.dram_bytes = ph.dram_coef * c;
    k.flops = ph.flops_coef * c;
    if (topo_.spec().kernels.persistent) {
      // NCCL's CTAs stay resident while the piece is on the wire (they poll for its arrival):
      // work that keeps them on their SMs for the uncontended transfer time.
      const auto& g = gpu_->spec();
      const double per_sm = g.achievable(workloads::MathUnit::fp32_core, workloads::DType::fp32) /
                            g.sm_count;
      k.flops += in.seconds_per_byte[static_cast<std::size_t>(p)] * c * per_sm * in.plan.ctas;
    }
    dram_bytes_ += k.dram_bytes;
    ++kernels_;
    // NCCL runs on a communicator's own stream; the timeline gives it one apart from compute's.
    constexpr std::int64_t kNcclStream = 1000;
    gpu_->launch(k, [this, ip, p, piece] { part_done(*ip, p, piece); }, nullptr,
                 models::TraceTag{kernel_track_, kNcclStream, -1});
  }
}

// The piece's bytes have left: the next piece may use the links while this one's last bytes
// propagate (the step latency), so latency overlaps transfers as in a real pipeline.
void CollectiveRunner::part_done(Instance& in, int p, int piece) {
  if (--in.outstanding[piece] > 0) return;
  const Phase& ph = in.plan.phases[static_cast<std::size_t>(p)];
  --in.in_flight[p];
  try_start(in, p);
  const sim::Time step = ph.alpha + (ph.synchronised ? in.protocol.step_overhead : sim::Time{});
  const sim::Time delay = step * ph.steps;
  Instance* ip = &in;
  sim_.schedule_in(delay, [this, ip, p, piece] { arrive(*ip, p, piece); });
}

void CollectiveRunner::arrive(Instance& in, int p, int piece) {
  const Phase& ph = in.plan.phases[static_cast<std::size_t>(p)];
  ++in.stage[piece];
  if (timeline_) {
    auto [it, fresh] = tids_.try_emplace(ph.name, 0);
    if (fresh) it->second = timeline_->thread(pid_, ph.name);
    timeline_->complete(pid_, it->second, fmt::format("{} piece {}", in.plan.algorithm, piece),
                        "collective", in.entered[piece], sim_.now() - in.entered[piece],
                        {{"bytes", in.size(piece)}});
  }
  if (in.data && ph.reduce_point) {  // the engine sums the slice of every rank
    const std::size_t lo = static_cast<std::size_t>(std::llround(piece * in.piece_bytes / 4));
    const std::size_t hi = static_cast<std::size_t>(std::llround(
        (piece + 1 == in.pieces ? in.bytes : (piece + 1) * in.piece_bytes) / 4));
    std::vector<std::span<const float>> parts;
    for (const auto& v : in.data->in) parts.emplace_back(v.data() + lo, hi - lo);
    in.sums[piece].assign(hi - lo, 0.0f);
    ReductionEngine::reduce(parts, in.sums[piece]);
  }
  if (in.data && ph.deliver_point) {  // multicast: every rank receives the slice
    const std::size_t lo = static_cast<std::size_t>(std::llround(piece * in.piece_bytes / 4));
    for (auto& out : in.data->out)
      std::copy(in.sums[piece].begin(), in.sums[piece].end(), out.begin() + lo);
    in.sums[piece].clear();
  }
  bool freed = false;
  for (const Phase& q : in.plan.phases)
    if (q.hold_until == p && !q.hold.empty()) {
      for (ReductionEngine* e : q.hold) e->release(in.slots);
      freed = true;
    }
  const int last = static_cast<int>(in.plan.phases.size()) - 1;
  if (p == last && ++in.finished == in.pieces) {
    in.over = true;
    Done done = std::move(in.done);
    if (freed) pump();
    std::erase_if(active_, [](const auto& a) { return a->over; });
    if (done) done();
    return;
  }
  try_start(in, p + 1);
  if (freed) pump();
}

void CollectiveRunner::pump() {
  // Indices: try_start may not add or remove instances, only start pieces.
  for (std::size_t i = 0; i < active_.size(); ++i) {
    Instance& in = *active_[i];
    if (in.over) continue;
    for (int p = 0; p < static_cast<int>(in.plan.phases.size()); ++p)
      if (!in.plan.phases[static_cast<std::size_t>(p)].hold.empty()) try_start(in, p);
  }
}

}  // namespace interconnect

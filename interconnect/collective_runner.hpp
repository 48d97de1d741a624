#pragma once
// Runs collective Plans in simulated time: the message is cut into pieces of plan.chunk bytes
// that flow through the plan's phases as a pipeline. A piece enters a phase when it has left the
// previous one, when fewer than plan.window pieces are moving in that phase (the buffers NCCL
// cycles through) and, in-network, when every engine on its way has a free aggregation slot
// (else it waits, FIFO). Its flows move its bytes over the links (FlowNetwork: max-min fair with
// everything else on them) while the collective kernel does the piece's reduce/copy work on the
// GPU model; when both are done the next piece may move, and this one arrives after the
// latency of every step it travels through (Phase::steps x the route's latency and the
// protocol's step overhead): latency overlaps the next pieces' transfers, and the whole depth
// is paid once more by the last piece, as a real ring pipeline pays it. Slots are held until the piece has
// arrived through the phase that releases them: bandwidth x latency bounds what slots allow.
//
// Data-parallel ranks are symmetric, so one GPU model stands for all of them: the kernels run on
// `gpu` (rank 0's work), the links of every rank are simulated. Without a GPU, kernels are
// skipped (pure network timing).

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "interconnect/collective.hpp"
#include "models/gpu.hpp"
#include "sim/simulator.hpp"
#include "sim/timeline.hpp"

namespace interconnect {

// Functional mode: fp32 vectors per rank that an in-network all_reduce really sums through the
// switch engines; `out` is filled as results are multicast.
struct CollectiveData {
  std::vector<std::vector<float>> in, out;
};

class CollectiveRunner {
 public:
  using Done = std::function<void()>;
  CollectiveRunner(sim::Simulator& sim, Topology& topo, models::Gpu* gpu = nullptr);
  ~CollectiveRunner();
  CollectiveRunner(const CollectiveRunner&) = delete;
  CollectiveRunner& operator=(const CollectiveRunner&) = delete;

  // Starts `plan` on a message of `bytes` now; `done` runs when every rank has its result.
  // Several collectives may run at once (they share links, engines and the GPU).
  void run(const Plan& plan, double bytes, Done done, CollectiveData* data = nullptr);

  // The protocol `plan` uses for a message of `bytes`: the system's fixed one, simple for an
  // in-network plan, or (protocol: auto) the one whose estimate is lowest, as NCCL's tuner
  // picks: launch + every step's latency + the bytes at the uncontended bottleneck rate.
  const ProtocolSpec& protocol_for(const Plan& plan, double bytes);
  // That estimate, in seconds (links idle, no other collective).
  double estimate(const Plan& plan, const ProtocolSpec& protocol, double bytes);

  // Optional: one span per piece and phase, on a thread per phase of a "collectives" process,
  // and the collective kernels on a track of the GPU's process (attach the GPU's timeline first).
  void attach_timeline(sim::TimelineWriter* timeline);

  // The kernels' DRAM bytes on the modelled GPU, their count, and pieces that found no slot.
  double gpu_dram_bytes() const { return dram_bytes_; }
  std::uint64_t kernels() const { return kernels_; }
  std::uint64_t slot_waits() const { return slot_waits_; }
  // Pieces started over all phases (events grow with this, not with the GPU count).
  std::uint64_t pieces() const { return pieces_; }
  // In-network collectives that found an engine without a free slot and ran their fallback.
  std::uint64_t fallbacks() const { return fallbacks_; }

 private:
  struct Instance;
  // After the protocol's launch cost: the fallback decision, the pieces, the first of them.
  void begin(const Plan& plan, double bytes, Done done, CollectiveData* data);
  void try_start(Instance& in, int phase);
  // What a GPU's `ctas` channels can move per second under `protocol`, as a resource every
  // flow of a collective with that many channels crosses (none without a channel_bandwidth).
  std::optional<Topology::Res> channel_resource(int ctas, const ProtocolSpec& protocol);
  // Per phase: seconds per byte of the message at its uncontended bottleneck.
  std::vector<double> seconds_per_byte(const Plan& plan, const ProtocolSpec& protocol);
  void start(Instance& in, int phase, int piece);
  void part_done(Instance& in, int phase, int piece);  // a flow or the kernel finished
  void arrive(Instance& in, int phase, int piece);     // the piece is through the phase
  void pump();  // after slots were freed: pieces of any collective may proceed

  sim::Simulator& sim_;
  Topology& topo_;
  models::Gpu* gpu_;
  std::vector<std::unique_ptr<Instance>> active_;
  sim::TimelineWriter* timeline_ = nullptr;
  int pid_ = -1, kernel_track_ = -1;
  std::map<std::string, int> tids_;  // phase name -> timeline thread
  // (CTAs per collective, bytes/s per channel) -> their channel resource
  std::map<std::pair<int, double>, Topology::Res> channels_;
  double dram_bytes_ = 0;
  std::uint64_t kernels_ = 0, slot_waits_ = 0, pieces_ = 0, fallbacks_ = 0;
};

}  // namespace interconnect

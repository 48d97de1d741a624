#pragma once
// Family `collective`: how a collective operation moves data over a Topology.
//
// An algorithm turns (operation, topology) into a Plan: a sequence of phases, each a set of
// flows over the links, the latency of one step, and the reduce/copy work the collective kernel
// does in GPU memory. The protocol (system_spec.hpp: LL, LL128, Simple) is chosen when a
// message of a given size runs: it adds its launch and per-step costs and divides the bytes
// on the wire by its efficiency. The CollectiveRunner (collective_runner.hpp) cuts the message into pieces
// and pipelines them through the phases, running each piece's kernel on the GPU model, so the
// collective competes with compute for SMs and DRAM bandwidth and slows down when they are busy.
//
// Flows that move in lockstep (the pipelined hops of a ring, the pairwise exchanges of one
// halving-doubling step) are one fluid flow over the union of their links: its rate is set by
// the most contended of them, which is how a pipelined ring behaves, and the number of flows
// stays independent of the number of GPUs.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "interconnect/topology.hpp"
#include "sim/registry.hpp"

namespace interconnect {

enum class CollectiveOp { all_reduce, reduce_scatter, all_gather, broadcast, send_recv };

std::string_view op_name(CollectiveOp op);
CollectiveOp parse_op(std::string_view name);  // sim::InputError with a did-you-mean
std::vector<std::string> op_names();
// nccl-tests' bus-bandwidth factor: busbw = algbw x factor (all_reduce: 2(n-1)/n).
double bus_factor(CollectiveOp op, int ranks);

struct FlowSpec {
  std::vector<Topology::Res> path;  // each resource once
  double coef = 1;                  // bytes on each resource per byte of the piece
  // Sent by the GPUs' collective CTAs (their channels bound the rate); false: a switch's
  // multicast towards the GPUs, which their CTAs only receive.
  bool sent_by_gpus = true;
};

struct Phase {
  std::string name;
  std::vector<FlowSpec> flows;  // run together; the phase ends when all have arrived
  sim::Time alpha;              // per piece: the route's latency of one step
  bool synchronised = true;     // a step also pays the protocol's step_overhead (not multicast)
  // Steps each piece travels through in this phase (a ring all-reduce: 2(n-1)): each pays the
  // step's latency, so a piece arrives that many steps after its bytes have left; the next piece
  // moves meanwhile, so latency overlaps transfers, but every piece crosses the whole depth.
  int steps = 1;
  double dram_coef = 0;         // DRAM bytes the kernel moves on each GPU per piece byte
  double flops_coef = 0;        // reduction FLOPs per piece byte
  // In-network: slots taken at every engine when a piece starts this phase, given back when it
  // ends phase `hold_until` (an index >= this phase).
  std::vector<ReductionEngine*> hold;
  int hold_until = -1;
  bool reduce_point = false;   // functional mode: contributions summed when this phase ends
  bool deliver_point = false;  // functional mode: result written to every rank
};

struct Plan {
  std::string algorithm;
  CollectiveOp op = CollectiveOp::all_reduce;
  std::vector<Phase> phases;
  std::uint64_t chunk = 4ull << 20;  // piece size
  int window = 2;                    // pieces in flight per phase (host algorithms)
  int ctas = 16;                     // CTAs of the collective kernel
  bool in_network = false;       // uses the simple protocol (NVLS and SHARP have no other)
  // In-network: what runs instead when an engine has no free slot at the start (null: wait).
  std::shared_ptr<const Plan> fallback;
};

class Collective {
 public:
  explicit Collective(std::string name) : name_(std::move(name)) {}
  virtual ~Collective() = default;
  const std::string& name() const { return name_; }
  // Throws sim::InputError when the algorithm cannot do `op` on this topology or there are
  // fewer than 2 GPUs. send_recv is nccl-tests' point-to-point exchange, the same plan for
  // every algorithm.
  Plan plan(CollectiveOp op, const Topology& topo) const;

 protected:
  // Any op but send_recv, on 2 GPUs or more.
  virtual Plan plan_collective(CollectiveOp op, const Topology& topo) const = 0;

 private:
  std::string name_;
};

using CollectiveRegistry = sim::Registry<Collective, const sim::Config&>;

inline CollectiveRegistry& collectives(sim::PluginCatalog& c) {
  return c.family<CollectiveRegistry>("collective", "algorithm of a collective operation");
}

void register_collectives(sim::PluginCatalog& c);

}  // namespace interconnect

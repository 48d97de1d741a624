#include "interconnect/ddp_iteration.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>

#include "interconnect/collective_runner.hpp"
#include "interconnect/topology.hpp"
#include "models/gpu.hpp"
#include "sim/flow_network.hpp"
#include "sim/simulator.hpp"
#include "workloads/dag.hpp"

namespace interconnect {

DdpRun run_ddp(const SystemSpec& system, const models::KernelCost& cost,
               const Collective& algorithm, const workloads::TaskGraph& graph,
               const std::vector<workloads::Phase>& phase_of_op,
               const std::vector<workloads::GradientBucket>& buckets, const DdpOptions& opt) {
  using workloads::Phase;
  sim::Simulator sim;
  sim::FlowNetwork net(sim);
  Topology topo(system, net);
  models::Gpu gpu(sim, system.gpu, cost);
  CollectiveRunner runner(sim, topo, &gpu);
  int compute_track = -1;
  if (opt.timeline) {
    gpu.attach_timeline(opt.timeline);
    compute_track = opt.timeline->thread(gpu.timeline_pid(), "compute stream");
    runner.attach_timeline(opt.timeline);
  }
  const Plan plan =
      opt.communicate ? algorithm.plan(CollectiveOp::all_reduce, topo)
                      : Plan{};

  auto phase = [&](std::int32_t k) {
    const auto op = graph.kernels[static_cast<std::size_t>(k)].op;
    return op >= 0 ? phase_of_op.at(static_cast<std::size_t>(op)) : Phase::forward;
  };
  // Dependency order, lowest index first among the ready ones.
  const auto order = workloads::topological_order(workloads::Dag{graph.deps});
  std::vector<std::int32_t> compute, optimizer;
  for (std::int32_t k : order) (phase(k) == Phase::optimizer ? optimizer : compute).push_back(k);

  // Bucket readiness: kernels left per op, buckets waiting on each op.
  std::vector<int> kernels_left(phase_of_op.size(), 0);
  for (const auto& k : graph.kernels)
    if (k.op >= 0) ++kernels_left[static_cast<std::size_t>(k.op)];
  std::vector<std::vector<std::size_t>> buckets_of(phase_of_op.size());
  std::vector<std::size_t> waiting(buckets.size(), 0);
  for (std::size_t b = 0; b < buckets.size(); ++b)
    for (auto p : buckets[b].producers)
      if (kernels_left[static_cast<std::size_t>(p)] > 0) {
        buckets_of[static_cast<std::size_t>(p)].push_back(b);
        ++waiting[b];
      }

  DdpRun r;
  sim::Time first_start = sim::Time::max(), fwd_start = sim::Time::max(), fwd_end,
            bwd_start = sim::Time::max(), bwd_end, opt_end;
  std::deque<std::size_t> comm_queue;
  bool comm_busy = false, compute_done = false;
  std::size_t reduced = 0;
  const std::size_t to_reduce = opt.communicate ? buckets.size() : 0;

  std::function<void(std::size_t)> run_optimizer;
  std::function<void()> maybe_optimizer = [&] {
    if (!compute_done || reduced < to_reduce) return;
    compute_done = false;  // once
    run_optimizer(0);
  };
  std::function<void()> next_collective = [&] {
    if (comm_busy || comm_queue.empty()) return;
    const std::size_t b = comm_queue.front();
    comm_queue.pop_front();
    comm_busy = true;
    const sim::Time start = sim.now();
    r.allreduce_bytes += static_cast<double>(buckets[b].bytes);
    runner.run(plan, static_cast<double>(buckets[b].bytes), [&, start] {
      r.communication += sim.now() - start;
      comm_busy = false;
      ++reduced;
      next_collective();
      maybe_optimizer();
    });
  };
  auto bucket_ready = [&](std::size_t b) {
    if (!opt.communicate) return;
    comm_queue.push_back(b);
    if (opt.overlap) next_collective();
  };
  for (std::size_t b = 0; b < buckets.size(); ++b)
    if (waiting[b] == 0) bucket_ready(b);

  std::function<void(std::size_t)> run_compute = [&](std::size_t i) {
    if (i == compute.size()) {
      compute_done = true;
      if (!opt.overlap) next_collective();
      maybe_optimizer();
      return;
    }
    const std::int32_t k = compute[i];
    const sim::Time start = sim.now();
    first_start = std::min(first_start, start);
    const Phase ph = phase(k);
    gpu.launch(graph.kernels[static_cast<std::size_t>(k)], [&, i, k, start, ph] {
      if (ph == Phase::backward) {
        bwd_start = std::min(bwd_start, start);
        bwd_end = sim.now();
      } else {
        fwd_start = std::min(fwd_start, start);
        fwd_end = sim.now();
      }
      const auto op = graph.kernels[static_cast<std::size_t>(k)].op;
      if (op >= 0 && --kernels_left[static_cast<std::size_t>(op)] == 0)
        for (std::size_t b : buckets_of[static_cast<std::size_t>(op)])
          if (--waiting[b] == 0) bucket_ready(b);
      sim.schedule_in(system.gpu.kernel_gap, [&, i] { run_compute(i + 1); });
    }, nullptr, compute_track);
  };
  run_optimizer = [&](std::size_t i) {
    if (i == optimizer.size()) {
      opt_end = sim.now();
      return;
    }
    gpu.launch(graph.kernels[static_cast<std::size_t>(optimizer[i])], [&, i] {
      opt_end = sim.now();
      sim.schedule_in(system.gpu.kernel_gap, [&, i] { run_optimizer(i + 1); });
    }, nullptr, compute_track);
  };
  run_compute(0);
  sim.run();
  if (reduced != to_reduce) throw std::logic_error("DDP run ended with buckets not reduced");
  r.forward = fwd_end > fwd_start ? fwd_end - fwd_start : sim::Time{};
  r.backward = bwd_end > bwd_start ? bwd_end - bwd_start : sim::Time{};
  r.iteration = opt_end - (first_start == sim::Time::max() ? sim::Time{} : first_start);
  r.kernels = gpu.kernels_completed();
  r.events = sim.events_executed();
  r.fingerprint = sim.fingerprint();
  return r;
}

}  // namespace interconnect

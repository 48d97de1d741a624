#include "drivers/training/ddp_iteration.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <stdexcept>

#include "interconnect/collective_runner.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "workloads/dag.hpp"

namespace drivers {
namespace {

using workloads::Phase;

// The kernels of `order` as a task graph of their own (dependencies among them kept, in the
// new numbering), so a launch policy can plan the part of the step it is given.
workloads::TaskGraph part(const workloads::TaskGraph& g, const std::vector<std::int32_t>& order) {
  std::vector<std::int32_t> index(g.kernels.size(), -1);
  for (std::size_t i = 0; i < order.size(); ++i)
    index[static_cast<std::size_t>(order[i])] = static_cast<std::int32_t>(i);
  workloads::TaskGraph p;
  p.name = g.name;
  p.ops = g.ops;
  for (std::int32_t k : order) {
    p.kernels.push_back(g.kernels[static_cast<std::size_t>(k)]);
    std::vector<std::int32_t> deps;
    for (std::int32_t d : g.deps[static_cast<std::size_t>(k)])
      if (index[static_cast<std::size_t>(d)] >= 0) deps.push_back(index[static_cast<std::size_t>(d)]);
    p.deps.push_back(std::move(deps));
  }
  return p;
}

}  // namespace

DdpRun run_ddp(const interconnect::SystemSpec& spec, const models::KernelCost& cost,
               const interconnect::Collective& algorithm, const workloads::TaskGraph& graph,
               const std::vector<workloads::Phase>& phase_of_op,
               const std::vector<workloads::GradientBucket>& buckets, const DdpOptions& opt) {
  if (!opt.launch) throw std::logic_error("run_ddp: no launch policy");
  System system(spec, SystemOptions{1, &cost, opt.host, false, opt.timeline});
  sim::Simulator& sim = system.sim();
  models::HostRuntime& host = system.host();
  interconnect::CollectiveRunner runner(sim, system.topology(), &system.gpu());
  if (opt.timeline) runner.attach_timeline(opt.timeline);
  const interconnect::Plan plan = opt.communicate
                                      ? algorithm.plan(interconnect::CollectiveOp::all_reduce,
                                                       system.topology())
                                      : interconnect::Plan{};

  auto phase = [&](const workloads::KernelDesc& k) {
    return k.op >= 0 ? phase_of_op.at(static_cast<std::size_t>(k.op)) : Phase::forward;
  };
  // Dependency order, lowest index first among the ready ones.
  const auto order = workloads::topological_order(workloads::Dag{graph.deps});
  std::vector<std::int32_t> compute_order, optimizer_order;
  for (std::int32_t k : order)
    (phase(graph.kernels[static_cast<std::size_t>(k)]) == Phase::optimizer ? optimizer_order
                                                                             : compute_order)
        .push_back(k);
  const workloads::TaskGraph compute = part(graph, compute_order);
  const workloads::TaskGraph optimizer = part(graph, optimizer_order);
  const models::HostProgram compute_program = opt.launch->plan(compute, opt.host);
  const models::HostProgram optimizer_program = opt.launch->plan(optimizer, opt.host);

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
  bool comm_busy = false, compute_done = false, optimizer_issued = false;
  std::size_t reduced = 0;
  const std::size_t to_reduce = opt.communicate ? buckets.size() : 0;

  // The optimizer step waits for backward and every bucket (DDP's finalize makes the compute
  // stream wait on the reductions).
  auto maybe_optimizer = [&] {
    if (!compute_done || reduced < to_reduce || optimizer_issued) return;
    optimizer_issued = true;
    host.run(optimizer_program, optimizer.kernels, [&] { opt_end = sim.now(); });
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

  host.on_kernel([&](const workloads::KernelDesc& k, sim::Time start, sim::Time end) {
    first_start = std::min(first_start, start);
    const Phase ph = phase(k);
    if (ph == Phase::optimizer) return;
    if (ph == Phase::backward) {
      bwd_start = std::min(bwd_start, start);
      bwd_end = end;
    } else {
      fwd_start = std::min(fwd_start, start);
      fwd_end = end;
    }
    if (k.op >= 0 && --kernels_left[static_cast<std::size_t>(k.op)] == 0)
      for (std::size_t b : buckets_of[static_cast<std::size_t>(k.op)])
        if (--waiting[b] == 0) bucket_ready(b);
  });
  host.run(compute_program, compute.kernels, [&] {
    compute_done = true;
    if (!opt.overlap) next_collective();
    maybe_optimizer();
  });
  r.run = system.run();
  if (reduced != to_reduce) throw std::logic_error("DDP run ended with buckets not reduced");
  if (!optimizer_issued) throw std::logic_error("DDP run ended before its optimizer step");
  r.forward = fwd_end > fwd_start ? fwd_end - fwd_start : sim::Time{};
  r.backward = bwd_end > bwd_start ? bwd_end - bwd_start : sim::Time{};
  r.iteration = opt_end - (first_start == sim::Time::max() ? sim::Time{} : first_start);
  r.kernels = system.gpu().kernels_completed();
  r.host_busy = host.host_busy();
  return r;
}

}  // namespace drivers

#include "app/experiments/dnn_runner.hpp"

#include <algorithm>

#include "models/gpu.hpp"

namespace app {

DnnRun run_dnn(const models::GpuSpec& spec, const models::KernelCost& cost,
               const schedulers::launch::LaunchPolicy& policy, const models::HostCosts& costs,
               const workloads::TaskGraph& graph, sim::TimelineWriter* timeline) {
  sim::Simulator sim;
  models::Gpu gpu(sim, spec, cost);
  gpu.attach_timeline(timeline);
  models::HostRuntime host(sim, gpu, costs, graph.kernels);
  host.attach_timeline(timeline);
  const models::HostProgram program = policy.plan(graph, costs);
  DnnRun r;
  bool done = false;
  host.run(program, [&] {
    r.latency = sim.now();
    done = true;
  });
  sim.run();
  if (!done) throw std::logic_error("DNN run did not finish: a dependency was never satisfied");
  r.host_busy = host.host_busy();
  r.sm_busy = gpu.sm_busy(sim.now());
  r.gpu_idle = 1.0 - gpu.active(sim.now());
  r.kernels = gpu.kernels_completed();
  r.streams = program.streams;
  for (const auto& g : program.graphs)
    for (std::int32_t s : g.stream_of) r.streams = std::max(r.streams, s + 1);
  r.events = sim.events_executed();
  r.fingerprint = sim.fingerprint();
  return r;
}

}  // namespace app

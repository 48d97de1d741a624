#include "drivers/dnn/dnn_run.hpp"

#include <algorithm>
#include <stdexcept>

namespace drivers {

DnnRun run_dnn(const models::GpuSpec& spec, const models::KernelCost& cost,
               const schedulers::launch::LaunchPolicy& policy, const models::HostCosts& costs,
               const workloads::TaskGraph& graph, sim::TimelineWriter* timeline, int sms) {
  System system(spec, SystemOptions{1, &cost, costs, false, timeline});
  models::HostRuntime& host = system.host();
  const models::SmMask mask = models::first_sms(sms, spec.sm_count);
  if (!mask.empty()) host.limit_sms(&mask);
  models::Gpu& gpu = system.gpu();
  const models::HostProgram program = policy.plan(graph, costs);
  DnnRun r;
  bool done = false;
  host.run(program, graph.kernels, [&] {
    r.latency = system.sim().now();
    done = true;
  });
  r.run = system.run();
  if (!done) throw std::logic_error("DNN run did not finish: a dependency was never satisfied");
  const sim::Time now = system.sim().now();
  r.host_busy = host.host_busy();
  r.sm_busy = gpu.sm_busy(now);
  r.gpu_idle = 1.0 - gpu.active(now);
  r.kernels = gpu.kernels_completed();
  r.streams = program.streams;
  for (const auto& g : program.graphs)
    for (std::int32_t s : g.stream_of) r.streams = std::max(r.streams, s + 1);
  return r;
}

}  // namespace drivers

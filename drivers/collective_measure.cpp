#include "drivers/collective_measure.hpp"

#include "interconnect/collective_runner.hpp"

#include <algorithm>

namespace drivers {

CollectiveTiming measure_collective(const interconnect::SystemSpec& spec,
                                    const models::KernelCost* cost,
                                    const interconnect::Collective& algorithm,
                                    interconnect::CollectiveOp op, std::uint64_t bytes,
                                    sim::TimelineWriter* timeline, int gpus_per_thread) {
  System system(spec, SystemOptions{1, cost, models::HostCosts::ideal(), false, timeline});
  interconnect::CollectiveRunner runner(system.sim(), system.topology(), system.gpu_or_null());
  if (timeline) runner.attach_timeline(timeline);
  sim::Time end;
  const interconnect::Plan plan = algorithm.plan(op, system.topology());
  CollectiveTiming t;
  t.protocol = runner.protocol_for(plan, static_cast<double>(bytes)).name;
  const sim::Time stagger = spec.gpu.launch_latency * std::max(0, gpus_per_thread - 1);
  system.sim().schedule_in(stagger, [&] {
    runner.run(plan, static_cast<double>(bytes), [&] { end = system.sim().now(); });
  });
  t.run = system.run();
  t.time = end;
  const double us = end.us();
  t.algbw_gbps = us > 0 ? static_cast<double>(bytes) / (us * 1e3) : 0.0;
  t.busbw_gbps = t.algbw_gbps * interconnect::bus_factor(op, spec.gpus());
  return t;
}

std::vector<std::uint64_t> geometric_sizes(std::uint64_t lo, std::uint64_t hi, double factor) {
  std::vector<std::uint64_t> sizes;
  for (double s = static_cast<double>(lo); s <= static_cast<double>(hi) * (1 + 1e-12); s *= factor)
    sizes.push_back(static_cast<std::uint64_t>(s));
  return sizes;
}

}  // namespace drivers

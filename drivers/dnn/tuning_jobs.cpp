#include "drivers/dnn/tuning_jobs.hpp"

#include <stdexcept>

#include "drivers/system.hpp"
#include "models/gpu_sharing.hpp"

namespace drivers {

TuningMakespan run_tuning_jobs(const models::GpuSpec& gpu, const models::KernelCost& cost,
                               const std::vector<std::vector<workloads::KernelDesc>>& jobs,
                               int repeats, bool spatial, const models::HostCosts& host) {
  if (repeats < 1) throw std::invalid_argument("a tuning job times each candidate at least once");
  SystemOptions o;
  o.cost = &cost;
  o.host = host;
  System system(gpu, o);
  std::vector<models::SmMask> masks;
  if (spatial)
    masks = models::mps_masks(
        std::vector<double>(jobs.size(), 100.0 / static_cast<double>(jobs.size())), gpu.sm_count);
  // A job's harness: launch a candidate, wait for it (the timer is read on the host), again.
  std::vector<models::HostProgram> programs(jobs.size());
  TuningMakespan out;
  for (std::size_t j = 0; j < jobs.size(); ++j)
    for (std::size_t k = 0; k < jobs[j].size(); ++k)
      for (int r = 0; r < repeats; ++r) {
        models::HostCommand launch;
        launch.kind = models::HostCommand::Kind::launch;
        launch.kernel = static_cast<std::int32_t>(k);
        programs[j].commands.push_back(launch);
        models::HostCommand wait;
        wait.kind = models::HostCommand::Kind::stream_synchronize;
        programs[j].commands.push_back(wait);
        ++out.kernels;
      }
  if (spatial) {
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      models::HostRuntime& h = j == 0 ? system.host(0) : system.add_process(0, host);
      if (!masks[j].empty()) h.limit_sms(&masks[j]);
      h.run(programs[j], jobs[j], {});
    }
  } else {
    // Back to back on one process: each job's program after the one before.
    for (std::size_t j = 0; j < jobs.size(); ++j) system.host(0).run(programs[j], jobs[j], {});
  }
  const RunSummary run = system.run();
  out.seconds = run.simulated.seconds();
  return out;
}

}  // namespace drivers

#pragma once
// A DNN's latency against the share of the GPU its process may use (its CTAs capped to the
// GPU's first SMs, as an MPS client's active-thread percentage caps them), and the knee of that
// curve: the smallest share whose latency is within a tolerance of the whole GPU's.

#include <vector>

#include "models/gpu_spec.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "workloads/kernel.hpp"

namespace drivers {

struct SharePoint {
  int percent = 0;  // of the GPU's SMs
  int sms = 0;
  double latency_ms = 0;
};

struct KneeCurve {
  std::vector<SharePoint> points;  // by share; each SM count once, the whole GPU last
  std::size_t knee = 0;            // index into points
  double whole_ms() const { return points.back().latency_ms; }
};

// One run of `graph` at every `step` percent of the SMs (1 <= step <= 100); the knee is the
// first point within `within` (a fraction) of the whole GPU's latency.
KneeCurve knee_curve(const models::GpuSpec& gpu, const models::KernelCost& cost,
                     const schedulers::launch::LaunchPolicy& policy,
                     const models::HostCosts& host, const workloads::TaskGraph& graph, int step,
                     double within);

}  // namespace drivers

#include "drivers/dnn/knee_curve.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "drivers/dnn/dnn_run.hpp"

namespace drivers {

KneeCurve knee_curve(const models::GpuSpec& gpu, const models::KernelCost& cost,
                     const schedulers::launch::LaunchPolicy& policy,
                     const models::HostCosts& host, const workloads::TaskGraph& graph, int step,
                     double within) {
  if (step < 1 || step > 100) throw std::invalid_argument("knee_curve: step must be 1..100");
  KneeCurve c;
  for (int pct = step;; pct += step) {
    const int percent = std::min(pct, 100);
    const int sms = std::clamp(static_cast<int>(std::lround(percent / 100.0 * gpu.sm_count)), 1,
                               gpu.sm_count);
    if (c.points.empty() || c.points.back().sms != sms)  // a share that rounds to the same SMs
      c.points.push_back(
          {percent, sms, run_dnn(gpu, cost, policy, host, graph, nullptr, sms).latency.ms()});
    if (percent == 100) break;
  }
  const double limit = c.whole_ms() * (1 + within);
  while (c.points[c.knee].latency_ms > limit) ++c.knee;  // the last point always qualifies
  return c;
}

}  // namespace drivers

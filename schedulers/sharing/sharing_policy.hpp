#pragma once
// Family `sharing`: how several inference applications (tenants) share one GPU whose memory is
// oversubscribed -- who runs when, on which SMs (Gpu SM masks), with how many device frames
// (per-app page quotas), and whether pending jobs of one application are batched, per model or
// per layer. The InferenceServer (inference_server.hpp) carries the decisions out.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/gpu.hpp"
#include "sim/registry.hpp"

namespace schedulers::sharing {

// What a policy knows of one application: its page demand in chunks.
struct AppDemand {
  int app = 0;
  std::uint64_t weight_chunks = 0;
  std::uint64_t activation_chunks = 0;  // of one job at the task's batch
  int in_flight = 1;                    // jobs whose activations live at once
  std::uint64_t demand() const {
    return weight_chunks + activation_chunks * static_cast<std::uint64_t>(in_flight);
  }
};

struct SharingPlan {
  std::vector<models::SmMask> masks;  // per app; empty mask: every SM
  std::vector<std::uint64_t> quotas;  // per app, chunks; 0: no quota
};

// One layer of a batched group, as the per-layer scheduler prices it.
struct LayerCost {
  std::function<double(int jobs)> compute_seconds;  // the layer at a sub-batch of `jobs` jobs
  std::uint64_t weight_bytes = 0;
  std::uint64_t activation_bytes_per_job = 0;  // its inputs and outputs
  std::uint64_t missing_weight_bytes = 0;      // of its weights, not resident now
  std::uint64_t budget_bytes = 0;              // frames the app may hold
  double fault_seconds_per_byte = 0;           // demand-paging cost (UVM parameters)
};

class SharingPolicy {
 public:
  virtual ~SharingPolicy() = default;
  // One group of jobs on the GPU at a time (time sharing), or one per application.
  virtual bool exclusive() const = 0;
  // Jobs of one application merged into one run (1: none).
  virtual int max_group() const { return 1; }
  virtual SharingPlan plan(const std::vector<AppDemand>& apps, int sm_count,
                           std::uint64_t frames) const = 0;
  // Sub-batch (in jobs) of one layer for a group of `jobs` (default: the whole group).
  virtual int layer_batch(const LayerCost&, int jobs) const { return jobs; }
  // A layer may use every SM while no other application is running.
  virtual bool borrow_idle_sms() const { return false; }
};

using SharingRegistry = sim::Registry<SharingPolicy, const sim::Config&>;

inline SharingRegistry& sharing_policies(sim::PluginCatalog& c) {
  return c.family<SharingRegistry>("sharing", "how tenants share one GPU (SMs, pages, batching)");
}

void register_sharing_policies(sim::PluginCatalog& c);

// BARM's plan: SMs in proportion to page demand (one each first; leftovers to the app of the
// largest demand), page quotas in
// ascending demand (full demand while it fits in an equal share of what is left, else that
// share). Shared by `barm` and `layer-batch`.
SharingPlan demand_proportional_plan(const std::vector<AppDemand>& apps, int sm_count,
                                     std::uint64_t frames);

}  // namespace schedulers::sharing

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

// What a policy knows of one application: its page demand in chunks and its compute demand.
struct AppDemand {
  int app = 0;
  std::uint64_t weight_chunks = 0;
  std::uint64_t activation_chunks = 0;  // of one job at the task's batch
  int in_flight = 1;                    // jobs whose activations live at once
  double job_seconds = 0;     // one job at the task's batch, alone on every SM, no faults
  double period_seconds = 0;  // between two of its releases (0: one job)
  // Frames its most demanding layer needs so that no CTA refaults inside it: that layer's
  // activations and the weights every CTA reads (0: unknown, taken as one chunk).
  std::uint64_t least_chunks = 0;
  std::uint64_t demand() const {
    return weight_chunks + activation_chunks * static_cast<std::uint64_t>(in_flight);
  }
  // Fraction of the whole GPU its jobs need to keep up with their releases.
  double utilisation() const { return period_seconds > 0 ? job_seconds / period_seconds : 1.0; }
};

// A job waiting to start, as a policy orders it (seconds of simulated time).
struct PendingJob {
  int app = 0;
  double release = 0, deadline = 0;  // absolute
  double job_seconds = 0;  // its app's estimate alone on the GPU (AppDemand::job_seconds)
  int priority = 0;        // its task's `priority` (higher: sooner)
  int queued = 1;          // jobs its app has pending, this one included
};

struct SharingPlan {
  std::vector<models::SmMask> masks;  // per app; empty mask: every SM
  std::vector<std::uint64_t> quotas;  // per app, chunks; 0: no quota
  std::vector<int> groups;            // per app, most jobs merged into one run; 0: max_group()
  // App i's quota and group cap; 0 where the plan sets none.
  std::uint64_t quota(std::size_t i) const { return i < quotas.size() ? quotas[i] : 0; }
  int group(std::size_t i) const { return i < groups.size() ? groups[i] : 0; }
};

// One layer of a group, as the per-layer scheduler prices it.
struct LayerCost {
  // The layer at a sub-batch of `jobs` jobs on `sms` SMs, without faults.
  std::function<double(int jobs, int sms)> compute_seconds;
  std::uint64_t weight_bytes = 0;
  std::uint64_t activation_bytes_per_job = 0;  // its inputs and outputs
  std::uint64_t missing_weight_bytes = 0;      // of its weights, not resident now
  std::uint64_t budget_bytes = 0;              // frames the app may hold
  double fault_seconds_per_byte = 0;           // demand-paging cost (UVM parameters)
};

// How one layer of a group runs: in sub-batches of `sub_batch` jobs, on `sms` SMs -- the app's
// own (its plan's mask) first, then SMs of applications with no job running now.
struct LayerChoice {
  int sub_batch = 1;
  int sms = 0;
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
  // Whether pending job `a` goes before `b`: the order each application's queue is kept in
  // and, under time sharing (exclusive), the order applications take the GPU. Jobs neither
  // orders go by release time, then application index; the default orders none (FIFO).
  virtual bool before(const PendingJob& /*a*/, const PendingJob& /*b*/) const { return false; }
  // One layer of a group of `jobs` jobs, with `own_sms` SMs in the app's mask and `idle_sms`
  // more that no running application owns (default: the whole group on its own SMs).
  virtual LayerChoice choose_layer(const LayerCost&, int jobs, int own_sms,
                                   int /*idle_sms*/) const {
    return {jobs, own_sms};
  }
};

using SharingRegistry = sim::Registry<SharingPolicy, const sim::Config&>;

inline SharingRegistry& sharing_policies(sim::PluginCatalog& c) {
  return c.family<SharingRegistry>("sharing", "how tenants share one GPU (SMs, pages, batching)");
}

void register_sharing_policies(sim::PluginCatalog& c);

// Every app on every SM with no page quota (time sharing's plan, and greedy's).
SharingPlan whole_gpu_plan(std::size_t apps);

// Disjoint SM masks: one SM each, the rest in proportion to `weights` (rounded down), the
// leftovers to the app of the largest weight. With more apps than SMs they wrap around, one each.
std::vector<models::SmMask> proportional_sm_split(const std::vector<double>& weights, int sm_count);

// BARM's page quotas, in ascending demand: full demand while it fits in an equal share of what
// is left, else that share. Shared by `barm` and `layer-batch`.
std::vector<std::uint64_t> ascending_demand_quotas(const std::vector<AppDemand>& apps,
                                                   std::uint64_t frames);

// Quotas that keep whole the applications whose residence saves the most refaulted chunks per
// second, the others at their least need plus an equal share of what is left. Under LRU an app
// whose quota is short of its demand refaults all of it every job (its accesses cycle), so a
// quota between the least need and the demand buys nothing. Ascending-demand quotas when even
// the least needs do not fit.
std::vector<std::uint64_t> resident_set_quotas(const std::vector<AppDemand>& apps,
                                               std::uint64_t frames);

// BARM's plan: SMs in proportion to page demand, ascending-demand quotas.
SharingPlan demand_proportional_plan(const std::vector<AppDemand>& apps, int sm_count,
                                     std::uint64_t frames);

}  // namespace schedulers::sharing

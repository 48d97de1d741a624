#pragma once
// Family `sharing`: how several inference applications (tenants) share one GPU. Two loops ask:
//  - the InferenceServer (drivers/inference/inference_server.hpp): periodic task sets on a GPU
//    whose memory is oversubscribed -- who runs when, on which SMs (Gpu SM masks), with how many
//    device frames (per-app page quotas), whether pending jobs are batched per model or layer;
//  - the model server (drivers/inference/model_server.hpp): request streams of several models
//    under SLOs -- the sharing mode (time slicing, MPS, MIG), each model's share and batch, and
//    how they adapt to what the server sees.
// A policy answers the questions of the loops it serves; the defaults answer none.

#include <cstdint>
#include <functional>
#include <memory>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "models/gpu.hpp"
#include "models/gpu_sharing.hpp"
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

// Every app on every SM with no page quota (time sharing's plan, and greedy's).
SharingPlan whole_gpu_plan(std::size_t apps);

// ---- Serving request streams of several models on one GPU (drivers/inference/model_server) --

// What a policy knows of one served model.
struct ServedModel {
  int app = 0;
  std::string name;
  double slo_seconds = 0;  // a request's latency objective, arrival to result
  double rate = 0;         // its stream's mean arrival rate, requests per second
  int max_batch = 1;
  std::vector<int> batches;  // batch sizes a policy may pick, ascending (max_batch last)
  // Solo latency of one batch of `batch` requests on `percent`% of the SMs (an MPS cap), or on a
  // MIG instance of `profile`: runs of the GPU model, memoised.
  std::function<double(int batch, int percent)> latency;
  std::function<double(int batch, const std::string& profile)> mig_latency;
};

// What a policy knows of the GPU.
struct GpuShareInfo {
  int sm_count = 0;
  std::vector<std::string> mig_profiles;  // the GPU's MIG profiles, smallest first (none: no MIG)
  std::vector<int> mig_compute;           // their compute slices
  int mig_compute_slices = 0;
};

// Where and how one model runs.
struct ModelPlacement {
  int percent = 100;  // MPS active-thread percentage: its cap on the SMs (mps)
  int batch = 1;      // the largest batch the server forms for it
  std::string mig;    // its MIG instance's profile (mig)
  // Spatio-temporal packing: its batches start only in [offset, offset + window) of every
  // period (fractions of ServingPlan::period_seconds); window 0: at any time.
  double offset = 0, window = 0;
  bool operator==(const ModelPlacement&) const = default;
};

struct ServingPlan {
  models::SharingMode mode = models::SharingMode::mps;
  std::vector<ModelPlacement> models;  // by app; empty: the policy does not serve streams
  double period_seconds = 0;           // of the spatio-temporal schedule (0: none)
  // Set: each kernel on SMs of its own, this many (models::Gpu::own_sms_per_kernel):
  // kernel-granularity allocation, under mps.
  models::Gpu::KernelSms kernel_sms;
};

// What the server saw of one model over the last control interval.
struct ModelFeedback {
  int app = 0;
  double arrival_rate = 0;  // requests per second that arrived
  double served_rate = 0;   // requests per second completed
  double p95_seconds = 0;   // of the requests completed in it (0: none)
  double miss_rate = 0;     // of the requests completed or dropped in it, those past the SLO
  int queued = 0;           // requests waiting at its end
};

// The batch and share (in steps of `step`%) that serve a request of `m` in the fewest
// GPU-share-seconds among those whose solo latency meets half its SLO (cost: infinite if none).
struct EfficientBatch {
  int batch = 0, percent = 0;
  double cost = std::numeric_limits<double>::infinity();  // share-seconds per request
};
EfficientBatch most_efficient(const ServedModel& m, int step);
// The largest of `m.batches` whose solo latency on `percent`% meets half the SLO (a request
// may wait one batch, then run in the next), at least the smallest.
int slo_batch(const ServedModel& m, int percent);
// The same on a MIG instance of `profile`.
int slo_batch_mig(const ServedModel& m, const std::string& profile);
// The smallest percentage, in steps of `step`, whose latency at `batch` is within `within`
// (a fraction) of the whole GPU's: the knee of the latency/GPU% curve.
int knee_percent(const ServedModel& m, int batch, int step = 10, double within = 0.1);

// An upper bound on the requests per second any batch-level spatial scheduler can serve within
// the SLOs (D-STACK's "ideal" scheduler, as a fluid bound): each model's requests at its most
// efficient operating point -- the batch and share, among `m.batches` and shares in steps of
// `step`%, of least GPU-share-seconds per request whose solo latency meets half its SLO --
// packed into the whole GPU with no loss, cheapest model first, none beyond its arrival rate.
double ideal_goodput(const std::vector<ServedModel>& m, int step = 10);

class SharingPolicy {
 public:
  virtual ~SharingPolicy() = default;
  // One group of jobs on the GPU at a time (time sharing), or one per application.
  virtual bool exclusive() const { return false; }
  // Jobs of one application merged into one run (1: none).
  virtual int max_group() const { return 1; }
  // Periodic task sets under oversubscribed memory (the InferenceServer): SM masks, page
  // quotas, groups. Default: every app on every SM, no quota.
  virtual SharingPlan plan(const std::vector<AppDemand>& apps, int /*sm_count*/,
                           std::uint64_t /*frames*/) const {
    return whole_gpu_plan(apps.size());
  }
  // Request streams of several models (the model server): the sharing mode and each model's
  // share and batch. Default: none (the policy serves periodic task sets only).
  virtual ServingPlan serving_plan(const std::vector<ServedModel>& /*models*/,
                                   const GpuShareInfo& /*gpu*/) const {
    return {};
  }
  // Every control_seconds() of serving (0: never), a new plan from what the server saw, or
  // nullopt to keep the current one. A model whose share changes moves to a standby instance
  // at its new share: its next batch starts there while its running batch finishes.
  virtual double control_seconds() const { return 0; }
  virtual std::optional<ServingPlan> adapt(const ServingPlan& /*now*/,
                                           const std::vector<ModelFeedback>& /*seen*/,
                                           const std::vector<ServedModel>& /*models*/,
                                           const GpuShareInfo& /*gpu*/) const {
    return std::nullopt;
  }
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
// The request-stream policies (serving_policies.cpp); part of register_sharing_policies.
void register_serving_policies(SharingRegistry& r);


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

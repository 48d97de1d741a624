#pragma once
// Serves request streams of several DNN models on one GPU that the models share under a
// `sharing` policy (schedulers/sharing): each model is a process of its own (a HostRuntime) on
// a time-sliced GPU, as an MPS client capped to its share of the SMs, or on a MIG instance of
// its own (models/gpu_sharing.hpp). Requests queue per model; whenever the model's instance is
// free (and, under a spatio-temporal plan, inside its window) the server forms a batch of up to
// the plan's batch from the queue -- requests already past their SLO are dropped -- and runs
// the model's lowered kernels for that batch, in order on one stream. Every control interval a
// policy that adapts sees what happened and may re-size models; a re-sized model's next batch
// starts at once on a standby instance at its new share while its running batch finishes.
//
// The policies decide from latency profiles: one batch of a model alone on a share of the SMs
// (or on a MIG instance), each a run of the same GPU model, memoised.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "drivers/inference/model_library.hpp"
#include "drivers/system.hpp"
#include "models/gpu_spec.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/sharing/sharing_policy.hpp"
#include "sim/timeline.hpp"
#include "workloads/request_stream.hpp"

namespace drivers {

struct ModelStream {
  std::string name;   // the served model's label in metrics
  std::string model;  // a zoo model
  double slo_seconds = 0;
  int max_batch = 32;
  std::vector<workloads::Request> requests;  // arrivals (lengths unused)
};

struct ModelServerOptions {
  models::HostCosts host = models::HostCosts::ideal();
  sim::TimelineWriter* timeline = nullptr;
  std::function<void(std::size_t done, std::size_t total)> on_items{};  // requests finished
  bool ideal_bound = false;  // compute ModelServerResult::ideal_goodput (profiles every share)
  // MPS percentages cap how many SMs a model's kernels occupy (Gpu::cap_context_sms) rather
  // than which (an SmMask per model: mps_masks).
  bool mps_count_cap = false;
};

struct ModelServerResult {
  struct PerModel {
    std::string name;
    std::uint64_t arrived = 0, served = 0, met = 0, dropped = 0;  // met: served within its SLO
    double mean_ms = 0, p50_ms = 0, p99_ms = 0;                  // of the served requests
    double throughput = 0, goodput = 0;  // served, and met, per second of the arrival span
    // Served per second from its first arrival to its last completion: what it can serve when
    // arrivals outpace it (MLPerf's Offline throughput, with every request arriving at once).
    double capacity = 0;
    double mean_batch = 0;
    std::uint64_t batches = 0;
  };
  std::vector<PerModel> models;
  double span_seconds = 0;  // from the first arrival to the last
  double throughput = 0, goodput = 0;  // requests per second, all models
  double capacity = 0;                 // all models' served from the first arrival to the last completion
  double slo_attainment = 0;           // met / arrived
  // Time-averaged fraction of the GPU's SMs holding a CTA (over the run; a MIG GPU's idle
  // SMs -- those no instance exposes, and idle instances -- count as idle).
  double gpu_utilization = 0;
  double ideal_goodput = 0;  // schedulers::sharing::ideal_goodput (when asked)
  std::uint64_t reallocations = 0;     // share changes applied (adaptive policies)
  std::uint64_t context_switches = 0;  // time slicing
  schedulers::sharing::ServingPlan initial, last;
  std::string requests_csv;  // model,id,arrival_s,start_s,end_s,latency_ms,batch,met (dropped: empty end)
  RunSummary run;
};

// Solo latencies of model batches on shares of a GPU, each one run of the GPU model, memoised:
// what the sharing policies decide from.
class LatencyProfiles {
 public:
  LatencyProfiles(const models::GpuSpec& gpu, const models::KernelCost& cost,
                  ModelLibrary& library);
  // One batch of `batch` samples of `model` alone, its kernels in order on one stream, on the
  // GPU's first round(percent% of its SMs) SMs.
  double seconds(const std::string& model, int batch, int percent);
  // The same on a MIG instance of `profile` (the GPU must have it).
  double mig_seconds(const std::string& model, int batch, const std::string& profile);
  std::size_t runs() const { return runs_; }

 private:
  double run(const models::GpuSpec& spec, const std::string& model, int batch, int sms,
             int device_sms = 0);
  const models::GpuSpec& gpu_;
  const models::KernelCost& cost_;
  ModelLibrary& library_;
  std::map<std::tuple<std::string, int, int, std::string>, double> memo_;
  std::size_t runs_ = 0;
};

// Batch sizes a policy may pick for a model of `max_batch`: powers of two below it, and it.
std::vector<int> candidate_batches(int max_batch);

ModelServerResult serve_models(const models::GpuSpec& gpu, const models::KernelCost& cost,
                               const schedulers::sharing::SharingPolicy& policy,
                               const std::vector<ModelStream>& streams,
                               const ModelServerOptions& options, ModelLibrary& library,
                               LatencyProfiles& profiles);

}  // namespace drivers

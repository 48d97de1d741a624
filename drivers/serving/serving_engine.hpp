#pragma once
// The LLM serving engine: replicas of a decoder (TP x PP GPUs each) on a system, a router in
// front of them, and each replica's iteration loop -- a batching policy (schedulers/batching)
// picks who runs, the KV block manager says what fits, IterationCost says how long each
// pipeline stage takes. It owns every request's lifecycle: arrival, routing, queueing,
// admission, prompt (or chunk) prefill, one token per iteration, preemption (recompute: the KV is
// dropped and the prompt plus what was generated is prefilled again; swap: the KV goes to host
// memory over the host link and comes back before the request resumes), completion. With a
// disaggregated policy the first replicas only prefill and hand each request, with its KV sent
// over the interconnect, to a decode replica.
//
// Pipelines: up to `batches_in_flight` batches move through the stages at once (Orca's
// n_workers, default the stage count); a policy that runs a batch to completion
// (request-level) splits each iteration into microbatches instead (FasterTransformer).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "drivers/system.hpp"
#include "interconnect/collective.hpp"
#include "interconnect/system_spec.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/batching/batching_policy.hpp"
#include "schedulers/routing/routing_policy.hpp"
#include "sim/time.hpp"
#include "sim/timeline.hpp"
#include "workloads/llm/decoder_spec.hpp"
#include "workloads/request_stream.hpp"

namespace drivers::serving {

enum class Preemption { recompute, swap };

struct ServingSetup {
  workloads::DecoderSpec model;
  interconnect::SystemSpec system;
  const models::KernelCost* cost = nullptr;            // kernel-cost plugin of the GPU model
  const interconnect::Collective* all_reduce = nullptr;  // TP all-reduce algorithm
  int tp = 1, pp = 1, replicas = 1;
  workloads::DType dtype = workloads::DType::fp16;
  std::int64_t block_tokens = 16;
  double reserve_fraction = 0.1;  // of each GPU's memory: activations, workspace
  std::int64_t kv_bytes = 0;      // KV cache per GPU; 0: all the memory that is left
  Preemption preemption = Preemption::recompute;
  int batches_in_flight = 0;      // per replica; 0: one per pipeline stage
  sim::Time iteration_overhead;   // host time to schedule and launch one iteration
};

// One request, as requests.csv lists it. Times in seconds of simulated time; -1: never.
struct RequestRecord {
  std::int64_t id = 0;
  double arrival = 0;
  std::int64_t prompt_tokens = 0, output_tokens = 0;
  int replica = -1;            // where it was prefilled (disaggregated: and decoded)
  int decode_replica = -1;     // disaggregated: where it was decoded
  double first_token = -1, end = -1;
  std::int64_t tokens_out = 0;
  double tbt_sum = 0, tbt_max = 0;  // gaps between consecutive output tokens
  double last_token = -1;
  int preemptions = 0;
  bool rejected = false;  // the policy can never run it (a prompt beyond its limits)

  bool finished() const { return end >= 0; }
  double ttft() const { return first_token - arrival; }
  double e2e() const { return end - arrival; }
  double tbt_mean() const { return tokens_out > 1 ? tbt_sum / (tokens_out - 1) : 0.0; }
  double normalized_latency() const { return e2e() / std::max<std::int64_t>(1, output_tokens); }
};

struct ServingResult {
  std::string oom;  // non-empty: the deployment does not fit; nothing was simulated
  std::vector<RequestRecord> requests;
  // Flat metrics (throughput, latency percentiles, KV utilisation, batch sizes, MFU, ...):
  // docs/serving.md lists them.
  std::map<std::string, double> metrics;
  RunSummary run;
};

using ServingProgress = std::function<void(std::int64_t finished, std::int64_t total)>;

// Serves `requests` (in arrival order) to completion. `timeline`: one process per replica, a
// track per pipeline stage with every iteration, and batch size / KV use counters.
ServingResult serve(const ServingSetup& setup, const std::vector<workloads::Request>& requests,
                    const schedulers::batching::BatchingPolicy& policy,
                    schedulers::routing::RoutingPolicy& router,
                    sim::TimelineWriter* timeline = nullptr, const ServingProgress& progress = {});

// requests.csv of a result: a header, then one row per request.
std::string requests_csv(const std::vector<RequestRecord>& requests);

}  // namespace drivers::serving

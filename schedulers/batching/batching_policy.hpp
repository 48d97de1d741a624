#pragma once
// Family `batching`: which requests an LLM serving replica runs in its next iteration, and how
// much of each. The serving loop (drivers/serving/, with the KV block manager) carries the plan
// out and owns the state; a policy sees the queue, the running batch and the free KV blocks as
// plain numbers and returns a plan.
//
//   request-level  FasterTransformer: a new batch only when the last has finished, up to
//                  max_batch requests, each pre-allocating KV for `reserve_tokens`
//   orca           iteration-level: FCFS admission every iteration up to max_batch, each
//                  reserving KV for its prompt plus max_output_tokens; admission STOPS (it does
//                  not skip ahead) at the first request that does not fit
//   vllm           paged: admit FCFS while the prompt's blocks fit; a running request that needs
//                  a block when none is free preempts the newest running one (recomputed later)
//   sarathi        chunked prefill: decodes first, then prompt chunks up to a token budget per
//                  iteration (vllm's paging for the blocks)
//   disaggregated  Splitwise / DistServe: the first replicas only prefill, the others only
//                  decode; the loop moves each request's KV between them. vllm's decisions in
//                  both roles
//
// A waiting request may already hold computed context (preempted and swapped out, or
// prefilled on another replica): it resumes where it stopped.

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/config.hpp"
#include "sim/registry.hpp"

namespace schedulers::batching {

// A request as a policy sees it.
struct ServingRequest {
  std::int64_t id = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t output_tokens = 0;  // to generate (the trace's, or the maximum)
  std::int64_t prefilled = 0;      // prompt tokens whose KV is computed
  std::int64_t generated = 0;      // output tokens produced
  std::int64_t kv_blocks = 0;      // KV blocks it holds now
  double arrival = 0;              // seconds of simulated time it arrived (an SLO's start)

  std::int64_t context() const { return prefilled + generated; }
  bool in_prefill() const { return prefilled < prompt_tokens; }
};

// The replica between two iterations.
struct BatchState {
  const std::vector<ServingRequest>& waiting;  // not started, in arrival order
  const std::vector<ServingRequest>& running;  // admitted, in admission order (oldest first)
  std::int64_t free_blocks = 0;                // KV blocks no request holds
  std::int64_t block_tokens = 16;
  std::int64_t total_blocks = 0;               // the whole cache (0: not known)
  double now = 0;                              // seconds of simulated time

  std::int64_t blocks_for(std::int64_t tokens) const {
    return tokens <= 0 ? 0 : (tokens + block_tokens - 1) / block_tokens;
  }
};

// One request's share of the next iteration.
struct BatchItem {
  std::int64_t id = 0;
  std::int64_t tokens = 0;         // prompt tokens to prefill, or 1 (one decode step)
  std::int64_t reserve_tokens = 0; // KV it must hold (tokens of context) before it runs
  // Tokens of padding the hardware computes with it: a batch without selective batching pads
  // every prompt to its longest (FasterTransformer), in the prompt's GEMMs and in attention.
  std::int64_t padding = 0;
};

struct BatchPlan {
  std::vector<std::int64_t> admit;    // waiting requests that start now (in this order)
  std::vector<std::int64_t> preempt;  // running requests whose KV is freed; they wait again
  // Waiting requests this policy can never run (a prompt beyond the iteration's token limit,
  // more KV than the whole cache): the loop answers them with an error, as vLLM does.
  std::vector<std::int64_t> reject;
  std::vector<BatchItem> items;       // what runs, admitted ones included
  bool empty() const { return items.empty(); }
};

class BatchingPolicy {
 public:
  virtual ~BatchingPolicy() = default;
  virtual BatchPlan next_iteration(const BatchState& s) const = 0;
  // KV tokens the policy allocates up front, before any request arrives (FasterTransformer's
  // max_batch x max sequence): a replica whose cache cannot hold them is out of memory.
  virtual std::int64_t preallocated_tokens() const { return 0; }
  // Replicas that only prefill (disaggregated serving); 0: every replica does both.
  virtual int prefill_replicas() const { return 0; }
};

using BatchingRegistry = sim::Registry<BatchingPolicy, const sim::Config&>;

inline BatchingRegistry& batching_policies(sim::PluginCatalog& c) {
  return c.family<BatchingRegistry>("batching",
                                    "which requests an LLM serving replica runs each iteration");
}

void register_batching_policies(sim::PluginCatalog& c);

}  // namespace schedulers::batching

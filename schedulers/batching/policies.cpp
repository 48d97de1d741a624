// The built-in batching policies: request-level, orca, vllm, sarathi.
#include <algorithm>

#include "schedulers/batching/batching_policy.hpp"
#include "sim/params.hpp"

namespace schedulers::batching {
namespace {

// One iteration's step of a running request: its whole remaining prompt, or one decode token.
BatchItem whole_step(const ServingRequest& r) {
  const std::int64_t tokens = r.in_prefill() ? r.prompt_tokens - r.prefilled : 1;
  return {r.id, tokens, r.context() + tokens};
}

bool finished(const ServingRequest& r) { return !r.in_prefill() && r.generated >= r.output_tokens; }

// Admission with KV reserved up front (request-level, orca): FCFS, at most `room` requests,
// each reserving `reserve(r)` tokens of context; the first that does not fit stops admission.
template <class Reserve>
void admit_reserving(const BatchState& s, std::size_t room, Reserve reserve, BatchPlan& plan) {
  std::int64_t free = s.free_blocks;
  for (const ServingRequest& r : s.waiting) {
    if (plan.admit.size() >= room) break;
    const std::int64_t need = s.blocks_for(reserve(r));
    // Never runnable: its whole context exceeds what it may reserve, or the whole cache.
    if (r.prompt_tokens + r.output_tokens > reserve(r) ||
        (s.total_blocks > 0 && need > s.total_blocks)) {
      plan.reject.push_back(r.id);
      continue;
    }
    if (need > free) break;  // stop, do not skip ahead: FCFS
    free -= need;
    plan.admit.push_back(r.id);
    BatchItem item = whole_step(r);
    item.reserve_tokens = std::max(item.reserve_tokens, reserve(r));
    plan.items.push_back(item);
  }
}

// No selective batching: every request of the batch is padded to the batch's longest prompt,
// in its prompt's GEMMs and in every attention over its context.
void pad_to_longest(const BatchState& s, BatchPlan& plan) {
  std::int64_t longest = 0;
  auto prompt_of = [&s](std::int64_t id) {
    for (const auto* v : {&s.running, &s.waiting})
      for (const ServingRequest& r : *v)
        if (r.id == id) return r.prompt_tokens;
    return std::int64_t{0};
  };
  std::vector<std::int64_t> prompts;
  for (const BatchItem& it : plan.items) prompts.push_back(prompt_of(it.id));
  for (std::int64_t p : prompts) longest = std::max(longest, p);
  for (std::size_t i = 0; i < plan.items.size(); ++i) plan.items[i].padding = longest - prompts[i];
}

class RequestLevel final : public BatchingPolicy {
 public:
  RequestLevel(int max_batch, std::int64_t reserve) : max_batch_(max_batch), reserve_(reserve) {}
  std::int64_t preallocated_tokens() const override { return max_batch_ * reserve_; }
  BatchPlan next_iteration(const BatchState& s) const override {
    BatchPlan plan;
    bool any_running = false;
    for (const ServingRequest& r : s.running) {
      any_running = true;
      // A finished request keeps its slot (and KV) until the whole batch is done.
      if (!finished(r)) plan.items.push_back({r.id, whole_step(r).tokens, reserve_});
    }
    if (!any_running)
      admit_reserving(s, static_cast<std::size_t>(max_batch_),
                      [this](const ServingRequest&) { return reserve_; }, plan);
    pad_to_longest(s, plan);
    return plan;
  }

 private:
  int max_batch_;
  std::int64_t reserve_;
};

class Orca final : public BatchingPolicy {
 public:
  Orca(int max_batch, std::int64_t max_output) : max_batch_(max_batch), max_output_(max_output) {}
  BatchPlan next_iteration(const BatchState& s) const override {
    BatchPlan plan;
    for (const ServingRequest& r : s.running) plan.items.push_back(whole_step(r));
    const std::size_t running = s.running.size();
    const std::size_t room = running < static_cast<std::size_t>(max_batch_)
                                 ? static_cast<std::size_t>(max_batch_) - running
                                 : 0;
    admit_reserving(s, room,
                    [this](const ServingRequest& r) {
                      return r.prompt_tokens + std::max(r.output_tokens, max_output_);
                    },
                    plan);
    return plan;
  }

 private:
  int max_batch_;
  std::int64_t max_output_;
};

// Paged KV (vLLM, and Sarathi's blocks): running requests first, each growing into the blocks
// its step needs; when none is left the newest running request is preempted (its blocks freed,
// to be recomputed) until the older ones fit. Returns the free blocks left.
std::int64_t run_paged(const BatchState& s, BatchPlan& plan, std::int64_t budget,
                       std::int64_t& tokens_used, bool chunked, std::int64_t chunk) {
  std::int64_t free = s.free_blocks;
  std::vector<const ServingRequest*> live;
  for (const ServingRequest& r : s.running) live.push_back(&r);
  std::vector<BatchItem> items;
  for (std::size_t i = 0; i < live.size(); ++i) {
    const ServingRequest& r = *live[i];
    std::int64_t tokens = r.in_prefill() ? r.prompt_tokens - r.prefilled : 1;
    if (chunked && r.in_prefill()) tokens = std::min({tokens, chunk, budget - tokens_used});
    if (tokens <= 0) continue;
    std::int64_t need = s.blocks_for(r.context() + tokens) - r.kv_blocks;
    while (need > free && live.size() > i + 1) {  // preempt the newest to make room
      const ServingRequest* victim = live.back();
      live.pop_back();
      plan.preempt.push_back(victim->id);
      free += victim->kv_blocks;
    }
    if (need > free) {  // even alone it does not fit: it waits, itself preempted
      plan.preempt.push_back(r.id);
      free += r.kv_blocks;
      continue;
    }
    free -= std::max<std::int64_t>(0, need);
    tokens_used += tokens;
    items.push_back({r.id, tokens, r.context() + tokens});
  }
  // Items of requests preempted after they were planned are dropped.
  for (const BatchItem& it : items)
    if (std::find(plan.preempt.begin(), plan.preempt.end(), it.id) == plan.preempt.end())
      plan.items.push_back(it);
  return free;
}

// Paged admission after the running requests (vllm, sarathi): FCFS while the batch has room, the
// iteration's tokens stay within `limit` and the blocks last. A whole prompt takes a block for
// its first output token too; with `chunked`, a prompt may start with a chunk of what is left.
void admit_paged(const BatchState& s, std::size_t max_batch, std::int64_t limit, bool chunked,
                 std::int64_t free, std::int64_t used, BatchPlan& plan) {
  std::size_t batch = plan.items.size();
  for (const ServingRequest& r : s.waiting) {
    if (batch >= max_batch) break;
    // What is left of the prompt (a fresh or recomputed request), or one decode step (one whose
    // context survived: swapped out, or prefilled elsewhere).
    const std::int64_t left = r.in_prefill() ? r.prompt_tokens - r.prefilled : 1;
    const std::int64_t tokens = chunked && r.in_prefill() ? std::min(left, limit - used) : left;
    // A whole prompt also takes the slot of its first output token.
    const std::int64_t context =
        r.context() + tokens + (!chunked && r.in_prefill() ? 1 : 0);
    const std::int64_t need = s.blocks_for(context);
    // Never runnable: a whole prompt beyond the token limit, or more KV than the cache holds.
    if ((!chunked && left > limit) || (s.total_blocks > 0 && need > s.total_blocks)) {
      plan.reject.push_back(r.id);
      continue;
    }
    if (tokens <= 0 || used + tokens > limit || need > free) break;
    free -= need;
    used += tokens;
    ++batch;
    plan.admit.push_back(r.id);
    plan.items.push_back({r.id, tokens, context});
  }
}

class Vllm final : public BatchingPolicy {
 public:
  Vllm(int max_batch, std::int64_t max_tokens) : max_batch_(max_batch), max_tokens_(max_tokens) {}
  BatchPlan next_iteration(const BatchState& s) const override {
    BatchPlan plan;
    std::int64_t used = 0;
    const std::int64_t free = run_paged(s, plan, max_tokens_, used, false, 0);
    if (plan.preempt.empty())  // under pressure: admit nobody
      admit_paged(s, static_cast<std::size_t>(max_batch_), max_tokens_, false, free, used, plan);
    return plan;
  }

 private:
  int max_batch_;
  std::int64_t max_tokens_;  // tokens of one iteration (vLLM's max_num_batched_tokens)
};

// vllm's decisions on both kinds of replica; the loop gives the first `prefill_replicas` only
// new prompts and hands each prefilled request to a decode replica.
class Disaggregated final : public BatchingPolicy {
 public:
  Disaggregated(int max_batch, std::int64_t max_tokens, int prefill_replicas)
      : vllm_(max_batch, max_tokens), prefill_replicas_(prefill_replicas) {}
  BatchPlan next_iteration(const BatchState& s) const override { return vllm_.next_iteration(s); }
  int prefill_replicas() const override { return prefill_replicas_; }

 private:
  Vllm vllm_;
  int prefill_replicas_;
};

class Sarathi final : public BatchingPolicy {
 public:
  Sarathi(int max_batch, std::int64_t budget) : max_batch_(max_batch), budget_(budget) {}
  BatchPlan next_iteration(const BatchState& s) const override {
    BatchPlan plan;
    std::int64_t used = 0;
    // Decodes first (one token each), then the ongoing prefills' chunks, then new prompts.
    std::vector<ServingRequest> decodes, prefills;
    for (const ServingRequest& r : s.running) (r.in_prefill() ? prefills : decodes).push_back(r);
    std::vector<ServingRequest> ordered = decodes;
    ordered.insert(ordered.end(), prefills.begin(), prefills.end());
    const BatchState running{s.waiting, ordered, s.free_blocks, s.block_tokens, s.total_blocks};
    const std::int64_t free = run_paged(running, plan, budget_, used, true, budget_);
    if (plan.preempt.empty())
      admit_paged(s, static_cast<std::size_t>(max_batch_), budget_, true, free, used, plan);
    return plan;
  }

 private:
  int max_batch_;
  std::int64_t budget_;  // tokens per iteration, decodes and prompt chunks together
};

const sim::ParamSchema& request_level_params() {
  static const sim::ParamSchema s = sim::schema(R"(
max_batch      | int | 8    | requests in one batch
reserve_tokens | int | 2048 | KV tokens pre-allocated per request (FasterTransformer's maximum sequence)
)");
  return s;
}
const sim::ParamSchema& orca_params() {
  static const sim::ParamSchema s = sim::schema(R"(
max_batch         | int | 8   | requests in the running batch
max_output_tokens | int | 0   | KV reserved beyond the prompt: the larger of this and the request's own output length
)");
  return s;
}
const sim::ParamSchema& vllm_params() {
  static const sim::ParamSchema s = sim::schema(R"(
max_batch  | int | 256  | requests in the running batch (vLLM's max_num_seqs)
max_tokens | int | 8192 | tokens of one iteration (vLLM's max_num_batched_tokens)
)");
  return s;
}
const sim::ParamSchema& sarathi_params() {
  static const sim::ParamSchema s = sim::schema(R"(
max_batch    | int | 256 | requests in the running batch
token_budget | int | 512 | tokens per iteration: decodes plus prompt chunks
)");
  return s;
}

const sim::ParamSchema& disaggregated_params() {
  static const sim::ParamSchema s = sim::schema(R"(
max_batch        | int | 256  | requests in a replica's running batch
max_tokens       | int | 8192 | tokens of one iteration
prefill_replicas | int | 1    | replicas that only prefill; the others only decode
)");
  return s;
}

// Every built-in takes `max_batch` and one limit of its own, in tokens.
template <class P>
void add_policy(BatchingRegistry& r, const char* name, const char* doc,
                const sim::ParamSchema& schema, const char* limit) {
  r.add(name, doc, schema, [&schema, limit](const sim::Config& cfg) {
    const sim::Params p(cfg, schema);
    return std::make_unique<P>(static_cast<int>(p.integer("max_batch", 1, 65536)),
                               p.integer(limit, std::string_view(limit) == "max_output_tokens" ? 0 : 1,
                                         1 << 24));
  });
}

}  // namespace

void register_batching_policies(sim::PluginCatalog& c) {
  auto& r = batching_policies(c);
  add_policy<RequestLevel>(
      r, "request-level",
      "a new batch only when the last is done, KV pre-allocated per request (FasterTransformer)",
      request_level_params(), "reserve_tokens");
  add_policy<Orca>(r, "orca",
                   "iteration-level FCFS admission up to max_batch; KV for prompt + max output "
                   "reserved up front; stops at the first that does not fit (Orca, OSDI 2022)",
                   orca_params(), "max_output_tokens");
  add_policy<Vllm>(r, "vllm",
                   "paged KV: admit while the prompt's blocks fit; preempt the newest when a "
                   "block runs out (vLLM, SOSP 2023)",
                   vllm_params(), "max_tokens");
  add_policy<Sarathi>(r, "sarathi",
                      "chunked prefill: decodes first, then prompt chunks up to a token budget "
                      "(Sarathi-Serve, OSDI 2024)",
                      sarathi_params(), "token_budget");
  r.add("disaggregated",
        "prefill and decode on separate replicas, KV moved between them over the interconnect "
        "(Splitwise, ISCA 2024; DistServe, OSDI 2024)",
        disaggregated_params(), [](const sim::Config& cfg) {
          const sim::Params p(cfg, disaggregated_params());
          return std::make_unique<Disaggregated>(static_cast<int>(p.integer("max_batch", 1, 65536)),
                                                 p.integer("max_tokens", 1, 1 << 24),
                                                 static_cast<int>(p.integer("prefill_replicas", 1, 4096)));
        });
}

}  // namespace schedulers::batching

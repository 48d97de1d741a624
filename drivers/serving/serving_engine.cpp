#include "drivers/serving/serving_engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <memory>
#include <stdexcept>

#include "drivers/serving/iteration_cost.hpp"
#include "drivers/serving/kv_cache.hpp"
#include "sim/error.hpp"
#include "sim/stats.hpp"

namespace drivers::serving {
namespace {

using schedulers::batching::BatchItem;
using schedulers::batching::BatchPlan;
using schedulers::batching::BatchState;
using schedulers::batching::ServingRequest;

enum class Role { both, prefill, decode };

// One request's share of an iteration's work: a prompt chunk after its cached context, or a
// decode token against it; padding (a batch without selective batching) is computed too.
void add_item(IterationBatch& b, const ServingRequest& q, const BatchItem& it) {
  if (q.in_prefill()) {
    b.chunks.emplace_back(it.tokens + it.padding, q.prefilled + q.generated);
    if (q.prefilled + it.tokens >= q.prompt_tokens) ++b.rows;
  } else {
    ++b.decodes;
    b.decode_context += q.context() + it.padding;
    ++b.rows;
  }
}

// The nearest-rank quantile of `v` (sorted here); 0 when empty.
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

struct Replica {
  int index = 0;
  Role role = Role::both;
  int first_gpu = 0;
  std::unique_ptr<KvBlockManager> kv;
  std::vector<ServingRequest> waiting, running;  // the policy's views, in its orders
  std::vector<std::int64_t> swapped_blocks;      // swap: blocks each waiting request has on host
  std::vector<sim::Time> stage_free;             // when each pipeline stage is next idle
  std::vector<std::int64_t> in_flight_ids;       // requests of batches in the pipeline
  int in_flight = 0;
  bool wake_pending = false;
  std::int64_t outstanding = 0, queued_tokens = 0;
  // Statistics.
  sim::TimeWeighted kv_used, batch;
  std::uint64_t iterations = 0;
  double busy_seconds = 0;
  int pid = -1;
  std::vector<int> stage_tid;
};

struct Batch {
  std::vector<BatchItem> items;
  sim::Time start, end;
};

class Engine {
 public:
  Engine(const ServingSetup& s, const std::vector<workloads::Request>& requests,
         const schedulers::batching::BatchingPolicy& policy,
         schedulers::routing::RoutingPolicy& router, sim::TimelineWriter* timeline,
         const ServingProgress& progress)
      : s_(s), requests_(requests), policy_(policy), router_(router), timeline_(timeline),
        progress_(progress) {}

  ServingResult run();

 private:
  void build();
  void arrive(std::size_t i);
  void enqueue(Replica& r, const ServingRequest& req);
  void wake(Replica& r);
  void try_start(Replica& r);
  void launch(Replica& r, BatchPlan plan);
  void complete(Replica& r, const Batch& b);
  void emit_token(RequestRecord& rec);
  void finish(Replica& r, std::size_t pos);
  void hand_over(Replica& from, const ServingRequest& req);
  void reject(Replica& r, const std::vector<std::int64_t>& ids);
  std::vector<schedulers::routing::ReplicaLoad> loads(Role role) const;
  std::size_t pick(Role role);
  void sample(Replica& r);
  ServingRequest& running(Replica& r, std::int64_t id);
  void metrics(ServingResult& out, sim::Time span_start, sim::Time span_end);

  const ServingSetup& s_;
  const std::vector<workloads::Request>& requests_;
  const schedulers::batching::BatchingPolicy& policy_;
  schedulers::routing::RoutingPolicy& router_;
  sim::TimelineWriter* timeline_;
  const ServingProgress& progress_;

  System system_;
  std::unique_ptr<IterationCost> cost_;
  KvLayout layout_;
  std::vector<Replica> replicas_;
  std::vector<RequestRecord> records_;
  std::vector<std::int32_t> pos_;  // request id -> its index in its replica's running view
  std::int64_t finished_ = 0, rejected_ = 0, preemptions_ = 0, swapped_out_blocks_ = 0;
  double flops_ = 0, dram_bytes_ = 0;
  std::vector<double> batch_sizes_;  // per iteration
  bool run_to_completion_ = false;
};

ServingResult Engine::run() {
  ServingResult out;
  const auto wall_start = std::chrono::steady_clock::now();
  build();
  out.oom = layout_.oom;
  const std::int64_t pre = policy_.preallocated_tokens();
  if (out.oom.empty() && pre > layout_.token_capacity())
    out.oom = fmt::format(
        "{} over {} x {} GPUs: the policy pre-allocates KV for {} tokens, {:.1f} GB per GPU, but "
        "{:.1f} GB are left after {:.1f} GB of weights and a {:.1f} GB reserve",
        s_.model.name, s_.tp, s_.pp, pre,
        static_cast<double>((pre + layout_.block_tokens - 1) / layout_.block_tokens *
                            layout_.block_bytes()) / 1e9,
        static_cast<double>(layout_.blocks * layout_.block_bytes()) / 1e9,
        layout_.weight_bytes / 1e9, layout_.reserve_bytes / 1e9);
  out.metrics["kv_blocks"] = static_cast<double>(layout_.blocks);
  out.metrics["weights_gb"] = layout_.weight_bytes / 1e9;
  out.metrics["kv_capacity_tokens"] = static_cast<double>(layout_.token_capacity());
  out.metrics["requests"] = static_cast<double>(requests_.size());
  out.metrics["oom"] = out.oom.empty() ? 0 : 1;
  if (!out.oom.empty()) return out;

  records_.resize(requests_.size());
  pos_.assign(requests_.size(), -1);
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    const workloads::Request& q = requests_[i];
    if (q.id != static_cast<std::int64_t>(i))
      throw std::logic_error("serving: request ids must be 0, 1, ... in arrival order");
    RequestRecord& rec = records_[i];
    rec.id = q.id;
    rec.arrival = q.arrival.seconds();
    rec.prompt_tokens = q.prompt_tokens;
    rec.output_tokens = q.output_tokens;
    system_.sim().schedule(q.arrival, [this, i] { arrive(i); });
  }
  out.run = system_.run();
  out.run.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const sim::Time first = requests_.empty() ? sim::Time::zero() : requests_.front().arrival;
  metrics(out, first, system_.sim().now());
  out.requests = std::move(records_);
  return out;
}

void Engine::build() {
  const int per_replica = s_.tp * s_.pp;
  if (s_.replicas < 1) throw sim::InputError("replicas must be at least 1");
  if (per_replica * s_.replicas > s_.system.gpus())
    throw sim::InputError(fmt::format(
        "{} replicas of {} x {} GPUs need {} GPUs; {} has {} ({} nodes of {}): add nodes "
        "(system.nodes) or use fewer replicas",
        s_.replicas, s_.tp, s_.pp, per_replica * s_.replicas, s_.system.name, s_.system.gpus(),
        s_.system.nodes, s_.system.gpus_per_node));
  if (s_.tp > s_.system.gpus_per_node)
    throw sim::InputError(fmt::format("tp {} exceeds {}'s {} GPUs per node: tensor parallelism "
                                      "stays inside a node",
                                      s_.tp, s_.system.name, s_.system.gpus_per_node));
  layout_ = kv_layout(s_.model, s_.tp, s_.pp, s_.dtype,
                      static_cast<std::int64_t>(s_.system.gpu.dram_capacity), s_.reserve_fraction,
                      s_.block_tokens);
  if (s_.kv_bytes > 0 && layout_.oom.empty())
    if (const std::string why = cap_kv_memory(layout_, s_.kv_bytes); !why.empty())
      throw sim::InputError(why);
  run_to_completion_ = policy_.preallocated_tokens() > 0;
  const int prefill = policy_.prefill_replicas();
  if (prefill > 0 && prefill >= s_.replicas)
    throw sim::InputError(fmt::format("the disaggregated policy's {} prefill replicas leave no "
                                      "decode replica of {}: add replicas",
                                      prefill, s_.replicas));
  workloads::DecoderShard shard{s_.model, s_.tp, s_.dtype, s_.system.gpu.lowering(s_.dtype)};
  cost_ = std::make_unique<IterationCost>(shard, s_.pp, s_.system, *s_.cost, *s_.all_reduce,
                                          s_.block_tokens);
  replicas_.resize(static_cast<std::size_t>(s_.replicas));
  for (int i = 0; i < s_.replicas; ++i) {
    Replica& r = replicas_[static_cast<std::size_t>(i)];
    r.index = i;
    r.role = prefill == 0 ? Role::both : i < prefill ? Role::prefill : Role::decode;
    r.first_gpu = i * per_replica;
    r.kv = std::make_unique<KvBlockManager>(layout_.blocks, layout_.block_tokens);
    r.stage_free.assign(static_cast<std::size_t>(s_.pp), sim::Time::zero());
    if (timeline_) {
      const char* role = r.role == Role::prefill ? " (prefill)"
                         : r.role == Role::decode ? " (decode)" : "";
      r.pid = timeline_->process(fmt::format("replica[{}]{}", i, role), i);
      for (int st = 0; st < s_.pp; ++st)
        r.stage_tid.push_back(timeline_->thread(r.pid, fmt::format("stage {}", st), st));
    }
  }
}

std::vector<schedulers::routing::ReplicaLoad> Engine::loads(Role role) const {
  std::vector<schedulers::routing::ReplicaLoad> v;
  for (const Replica& r : replicas_)
    if (r.role == role || r.role == Role::both)
      v.push_back({r.outstanding, r.queued_tokens, r.kv->free_blocks(), r.kv->total_blocks()});
  return v;
}

// The router's choice among the replicas of `role`, as an index into replicas_.
std::size_t Engine::pick(Role role) {
  const std::size_t k = router_.route(loads(role));
  std::size_t seen = 0;
  for (std::size_t i = 0; i < replicas_.size(); ++i)
    if (replicas_[i].role == role || replicas_[i].role == Role::both)
      if (seen++ == k) return i;
  throw std::logic_error(fmt::format("routing policy chose replica {} of {}", k, seen));
}

void Engine::arrive(std::size_t i) {
  const workloads::Request& q = requests_[i];
  const Role first = policy_.prefill_replicas() > 0 ? Role::prefill : Role::both;
  Replica& r = replicas_[pick(first)];
  records_[i].replica = r.index;
  ServingRequest req;
  req.id = q.id;
  req.prompt_tokens = q.prompt_tokens;
  req.output_tokens = q.output_tokens;
  req.arrival = q.arrival.seconds();
  ++r.outstanding;
  enqueue(r, req);
}

void Engine::enqueue(Replica& r, const ServingRequest& req) {
  r.waiting.push_back(req);
  r.swapped_blocks.push_back(0);
  r.queued_tokens += req.prompt_tokens - req.prefilled;
  wake(r);
}

// Starts what can start now, after the events of this instant (arrivals of one instant are
// batched together, as a real scheduler's queue would hold them).
void Engine::wake(Replica& r) {
  if (r.wake_pending) return;
  r.wake_pending = true;
  system_.sim().schedule(system_.sim().now(), [this, &r] {
    r.wake_pending = false;
    try_start(r);
  }, sim::Priority::kLate);
}

ServingRequest& Engine::running(Replica& r, std::int64_t id) {
  const std::int32_t p = pos_[static_cast<std::size_t>(id)];
  if (p < 0 || static_cast<std::size_t>(p) >= r.running.size() ||
      r.running[static_cast<std::size_t>(p)].id != id)
    throw std::logic_error(fmt::format("serving: request {} is not running on replica {}", id,
                                       r.index));
  return r.running[static_cast<std::size_t>(p)];
}

void Engine::try_start(Replica& r) {
  const int limit = s_.batches_in_flight > 0 ? s_.batches_in_flight : s_.pp;
  const sim::Time now = system_.sim().now();
  if (r.in_flight >= limit) return;
  if (r.stage_free[0] > now) {  // the first stage is busy: come back when it is free
    system_.sim().schedule(r.stage_free[0], [this, &r] { wake(r); });
    return;
  }
  // The policy sees the running requests that are not in the pipeline already.
  BatchPlan plan;
  if (r.in_flight_ids.empty()) {
    plan = policy_.next_iteration(
        BatchState{r.waiting, r.running, r.kv->free_blocks(), layout_.block_tokens,
                   r.kv->total_blocks(), now.seconds()});
  } else {
    std::vector<ServingRequest> idle;
    for (const ServingRequest& q : r.running)
      if (std::find(r.in_flight_ids.begin(), r.in_flight_ids.end(), q.id) == r.in_flight_ids.end())
        idle.push_back(q);
    plan = policy_.next_iteration(
        BatchState{r.waiting, idle, r.kv->free_blocks(), layout_.block_tokens,
                   r.kv->total_blocks(), now.seconds()});
  }
  if (!plan.reject.empty()) reject(r, plan.reject);
  if (plan.empty() && plan.preempt.empty()) {
    if (!plan.reject.empty()) wake(r);  // the queue moved: ask again
    return;                             // idle until something arrives or ends
  }
  launch(r, std::move(plan));
}

void Engine::launch(Replica& r, BatchPlan plan) {
  sim::Simulator& sim = system_.sim();
  sim::Time host = s_.iteration_overhead;
  const double host_link = s_.system.gpu.host_link_bandwidth;
  auto reindex = [this](Replica& rep) {
    for (std::size_t i = 0; i < rep.running.size(); ++i)
      pos_[static_cast<std::size_t>(rep.running[i].id)] = static_cast<std::int32_t>(i);
  };
  reindex(r);
  // Preemptions first: their blocks are what the plan's items grow into.
  std::vector<ServingRequest> preempted;
  std::vector<std::int64_t> preempted_swapped;
  for (std::int64_t id : plan.preempt) {
    ServingRequest q = running(r, id);
    const std::int64_t blocks = r.kv->held_blocks(id);
    r.kv->release(id);
    RequestRecord& rec = records_[static_cast<std::size_t>(id)];
    ++rec.preemptions;
    ++preemptions_;
    std::int64_t swapped = 0;
    if (s_.preemption == Preemption::swap && blocks > 0) {
      swapped = blocks;
      swapped_out_blocks_ += blocks;
      host += sim::Time::s(static_cast<double>(blocks * layout_.block_bytes()) / host_link);
    } else {
      // Recompute: its context is dropped; the prompt and what it generated are prefilled anew
      // and what is left is generated after.
      q.prompt_tokens = rec.prompt_tokens + rec.tokens_out;
      q.output_tokens = rec.output_tokens - rec.tokens_out;
      q.prefilled = 0;
      q.generated = 0;
    }
    q.kv_blocks = 0;
    preempted.push_back(q);
    preempted_swapped.push_back(swapped);
    r.running.erase(r.running.begin() + (&running(r, id) - r.running.data()));
    pos_[static_cast<std::size_t>(id)] = -1;
    reindex(r);
  }
  // Preempted requests wait at the front of the queue, oldest first (vLLM).
  r.waiting.insert(r.waiting.begin(), preempted.rbegin(), preempted.rend());
  r.swapped_blocks.insert(r.swapped_blocks.begin(), preempted_swapped.rbegin(),
                          preempted_swapped.rend());
  for (const ServingRequest& q : preempted) r.queued_tokens += q.prompt_tokens - q.prefilled;
  // Admissions, in the plan's order; a swapped-out request's blocks come back first.
  for (std::int64_t id : plan.admit) {
    const auto it = std::find_if(r.waiting.begin(), r.waiting.end(),
                                 [id](const ServingRequest& q) { return q.id == id; });
    if (it == r.waiting.end())
      throw std::logic_error(fmt::format("batching policy admitted request {}, which is not "
                                         "waiting on replica {}", id, r.index));
    const auto k = static_cast<std::size_t>(it - r.waiting.begin());
    if (r.swapped_blocks[k] > 0)
      host += sim::Time::s(
          static_cast<double>(r.swapped_blocks[k] * layout_.block_bytes()) / host_link);
    r.queued_tokens -= it->prompt_tokens - it->prefilled;
    r.running.push_back(*it);
    r.waiting.erase(it);
    r.swapped_blocks.erase(r.swapped_blocks.begin() + static_cast<std::ptrdiff_t>(k));
  }
  reindex(r);
  // KV for every item, then the batch's shape.
  IterationBatch shape;
  for (const BatchItem& it : plan.items) {
    ServingRequest& q = running(r, it.id);
    if (!r.kv->reserve(it.id, it.reserve_tokens))
      throw std::logic_error(fmt::format(
          "batching policy planned KV for request {} ({} tokens) that is not free on replica {}",
          it.id, it.reserve_tokens, r.index));
    q.kv_blocks = r.kv->held_blocks(it.id);
    add_item(shape, q, it);
    r.in_flight_ids.push_back(it.id);
  }
  if (plan.items.empty()) {  // only preemptions: try again with what they freed
    wake(r);
    return;
  }
  // The pipeline: the batch (or its microbatches) through the stages, each stage when free.
  const int microbatches =
      run_to_completion_ && s_.pp > 1 ? std::min<int>(s_.pp, static_cast<int>(plan.items.size())) : 1;
  std::vector<IterationBatch> parts(static_cast<std::size_t>(microbatches));
  if (microbatches == 1) {
    parts[0] = shape;
  } else {
    for (std::size_t i = 0; i < plan.items.size(); ++i)
      add_item(parts[i % parts.size()], running(r, plan.items[i].id), plan.items[i]);
  }
  const sim::Time start = sim.now() + host;
  sim::Time end = start;
  for (const IterationBatch& part : parts) {
    sim::Time t = start;
    for (int st = 0; st < s_.pp; ++st) {
      const StageCost c = cost_->stage(st, part);
      auto& free = r.stage_free[static_cast<std::size_t>(st)];
      const sim::Time begin = std::max(t, free);
      t = begin + c.time;
      free = t;
      flops_ += c.flops * s_.tp;
      dram_bytes_ += c.dram_bytes * s_.tp;
      r.busy_seconds += c.time.seconds() * s_.tp;
      if (timeline_)
        timeline_->complete(r.pid, r.stage_tid[static_cast<std::size_t>(st)],
                            fmt::format("iteration ({} tokens, {} requests)", part.tokens(),
                                        part.chunks.size() + static_cast<std::size_t>(part.decodes)),
                            "iteration", begin, c.time);
    }
    end = std::max(end, t);
  }
  ++r.iterations;
  ++r.in_flight;
  batch_sizes_.push_back(static_cast<double>(plan.items.size()));
  r.batch.set(sim.now(), static_cast<double>(plan.items.size()));
  sample(r);
  Batch b{std::move(plan.items), start, end};
  sim.schedule(end, [this, &r, b = std::move(b)] { complete(r, b); });
  // With stages to spare, the next batch may enter the pipeline as the first stage frees.
  if (s_.pp > 1) wake(r);
}

void Engine::sample(Replica& r) {
  const sim::Time now = system_.sim().now();
  r.kv_used.set(now, r.kv->utilization());
  if (timeline_) {
    timeline_->counter(r.pid, "batch size", now, r.batch.current());
    timeline_->counter(r.pid, "KV blocks used", now, static_cast<double>(r.kv->used_blocks()));
  }
}

void Engine::emit_token(RequestRecord& rec) {
  const double now = system_.sim().now().seconds();
  if (rec.tokens_out == 0) {
    rec.first_token = now;
  } else {
    const double gap = now - rec.last_token;
    rec.tbt_sum += gap;
    rec.tbt_max = std::max(rec.tbt_max, gap);
  }
  rec.last_token = now;
  ++rec.tokens_out;
}

void Engine::complete(Replica& r, const Batch& b) {
  --r.in_flight;
  for (const BatchItem& it : b.items)
    std::erase(r.in_flight_ids, it.id);
  for (std::size_t i = 0; i < r.running.size(); ++i)
    pos_[static_cast<std::size_t>(r.running[i].id)] = static_cast<std::int32_t>(i);
  std::vector<std::int64_t> done, handed;
  for (const BatchItem& it : b.items) {
    ServingRequest& q = running(r, it.id);
    RequestRecord& rec = records_[static_cast<std::size_t>(it.id)];
    bool token = false;
    if (q.in_prefill()) {
      q.prefilled += it.tokens;
      token = !q.in_prefill();  // the prompt's last chunk yields the first (next) token
    } else {
      token = true;
    }
    if (!token) continue;
    ++q.generated;
    emit_token(rec);
    if (q.generated >= q.output_tokens)
      done.push_back(it.id);
    else if (r.role == Role::prefill)
      handed.push_back(it.id);
  }
  // Finished requests leave (and, run to completion, only once the whole batch has).
  for (std::int64_t id : handed) {
    ServingRequest q = running(r, id);
    r.kv->release(id);
    hand_over(r, q);
    r.running.erase(r.running.begin() + pos_[static_cast<std::size_t>(id)]);
    for (std::size_t i = 0; i < r.running.size(); ++i)
      pos_[static_cast<std::size_t>(r.running[i].id)] = static_cast<std::int32_t>(i);
  }
  auto finished = [](const ServingRequest& q) {
    return !q.in_prefill() && q.generated >= q.output_tokens;
  };
  const bool all_done = std::all_of(r.running.begin(), r.running.end(), finished);
  if (!run_to_completion_ || all_done) {
    const double now = system_.sim().now().seconds();
    for (std::size_t i = r.running.size(); i-- > 0;) {
      if (!finished(r.running[i])) continue;
      RequestRecord& rec = records_[static_cast<std::size_t>(r.running[i].id)];
      rec.end = now;
      if (r.role == Role::decode) rec.decode_replica = r.index;
      r.kv->release(r.running[i].id);
      --r.outstanding;
      ++finished_;
      r.running.erase(r.running.begin() + static_cast<std::ptrdiff_t>(i));
    }
    if (progress_) progress_(finished_ + rejected_, static_cast<std::int64_t>(requests_.size()));
  }
  r.batch.set(system_.sim().now(), 0);
  sample(r);
  wake(r);
}

void Engine::reject(Replica& r, const std::vector<std::int64_t>& ids) {
  for (std::int64_t id : ids) {
    const auto it = std::find_if(r.waiting.begin(), r.waiting.end(),
                                 [id](const ServingRequest& q) { return q.id == id; });
    if (it == r.waiting.end())
      throw std::logic_error(fmt::format("batching policy rejected request {}, which is not "
                                         "waiting on replica {}", id, r.index));
    records_[static_cast<std::size_t>(id)].rejected = true;
    r.queued_tokens -= it->prompt_tokens - it->prefilled;
    r.swapped_blocks.erase(r.swapped_blocks.begin() + (it - r.waiting.begin()));
    r.waiting.erase(it);
    --r.outstanding;
    ++rejected_;
  }
}

// Disaggregated: a prefilled request's KV goes to a decode replica, where it waits to decode.
void Engine::hand_over(Replica& from, const ServingRequest& req) {
  --from.outstanding;
  Replica& to = replicas_[pick(Role::decode)];
  ++to.outstanding;
  const std::int64_t per_replica = s_.tp * s_.pp;
  const bool same_node = from.first_gpu / s_.system.gpus_per_node ==
                         (to.first_gpu + per_replica - 1) / s_.system.gpus_per_node;
  const auto bytes = static_cast<std::uint64_t>(req.context()) *
                     static_cast<std::uint64_t>(s_.model.kv_elements_per_token()) *
                     static_cast<std::uint64_t>(workloads::dtype_size(s_.dtype));
  const sim::Time t = cost_->kv_transfer(bytes, same_node);
  ServingRequest moved = req;
  moved.kv_blocks = 0;
  system_.sim().schedule_in(t, [this, &to, moved] { enqueue(to, moved); });
}

void Engine::metrics(ServingResult& out, sim::Time span_start, sim::Time span_end) {
  auto& m = out.metrics;
  std::vector<double> ttft, tbt, e2e, norm;
  double tokens = 0, prompt = 0;
  for (const RequestRecord& r : records_) {
    if (!r.finished()) continue;
    ttft.push_back(r.ttft() * 1e3);
    if (r.tokens_out > 1) tbt.push_back(r.tbt_mean() * 1e3);
    e2e.push_back(r.e2e());
    norm.push_back(r.normalized_latency() * 1e3);
    tokens += static_cast<double>(r.output_tokens);
    prompt += static_cast<double>(r.prompt_tokens);
  }
  const double span = std::max(1e-12, (span_end - span_start).seconds());
  m["finished"] = static_cast<double>(finished_);
  m["rejected"] = static_cast<double>(rejected_);
  m["span_s"] = span;
  m["throughput_rps"] = static_cast<double>(finished_) / span;
  m["output_tokens_per_s"] = tokens / span;
  m["prompt_tokens_per_s"] = prompt / span;
  for (auto [name, v] : {std::pair{"ttft_ms", &ttft}, std::pair{"tpot_ms", &tbt},
                         std::pair{"e2e_s", &e2e}, std::pair{"normalized_latency_ms", &norm}}) {
    m[fmt::format("{}_p50", name)] = quantile(*v, 0.5);
    m[fmt::format("{}_p90", name)] = quantile(*v, 0.9);
    m[fmt::format("{}_p99", name)] = quantile(*v, 0.99);
    double sum = 0;
    for (double x : *v) sum += x;
    m[fmt::format("{}_mean", name)] = v->empty() ? 0 : sum / static_cast<double>(v->size());
  }
  std::uint64_t iterations = 0;
  double kv_mean = 0, kv_peak = 0, busy = 0;
  for (Replica& r : replicas_) {
    iterations += r.iterations;
    kv_mean += r.kv_used.average(span_end) / static_cast<double>(replicas_.size());
    kv_peak = std::max(kv_peak, r.kv->total_blocks()
                                    ? static_cast<double>(r.kv->peak_used_blocks()) /
                                          static_cast<double>(r.kv->total_blocks())
                                    : 0.0);
    busy += r.busy_seconds;
  }
  m["iterations"] = static_cast<double>(iterations);
  double batch_sum = 0;
  for (double b : batch_sizes_) batch_sum += b;
  m["batch_mean"] = batch_sizes_.empty() ? 0 : batch_sum / static_cast<double>(batch_sizes_.size());
  m["batch_p99"] = quantile(batch_sizes_, 0.99);
  m["kv_util_mean"] = kv_mean;
  m["kv_util_peak"] = kv_peak;
  m["preemptions"] = static_cast<double>(preemptions_);
  m["swapped_out_blocks"] = static_cast<double>(swapped_out_blocks_);
  const double gpus = static_cast<double>(s_.tp * s_.pp * s_.replicas);
  const models::GpuSpec& g = s_.system.gpu;
  m["mfu"] = flops_ / (span * gpus * g.peak(workloads::MathUnit::tensor_core, s_.dtype));
  m["mbu"] = dram_bytes_ / (span * gpus * g.dram_bandwidth);
  m["gpu_busy"] = busy / (span * gpus);
  m["shapes_priced"] = static_cast<double>(cost_->shapes_priced());
}

}  // namespace

ServingResult serve(const ServingSetup& setup, const std::vector<workloads::Request>& requests,
                    const schedulers::batching::BatchingPolicy& policy,
                    schedulers::routing::RoutingPolicy& router, sim::TimelineWriter* timeline,
                    const ServingProgress& progress) {
  if (!setup.cost || !setup.all_reduce)
    throw std::logic_error("serve: the setup needs a kernel cost and an all-reduce algorithm");
  Engine e(setup, requests, policy, router, timeline, progress);
  return e.run();
}

std::string requests_csv(const std::vector<RequestRecord>& requests) {
  std::string s =
      "id,arrival_s,prompt_tokens,output_tokens,replica,decode_replica,first_token_s,end_s,"
      "ttft_s,tpot_s,tbt_max_s,e2e_s,normalized_latency_s,preemptions,status\n";
  for (const RequestRecord& r : requests) {
    if (r.finished())
      s += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},finished\n", r.id, r.arrival,
                       r.prompt_tokens, r.output_tokens, r.replica, r.decode_replica,
                       r.first_token, r.end, r.ttft(), r.tbt_mean(), r.tbt_max, r.e2e(),
                       r.normalized_latency(), r.preemptions);
    else
      s += fmt::format("{},{},{},{},{},{},,,,,,,,{},{}\n", r.id, r.arrival, r.prompt_tokens,
                       r.output_tokens, r.replica, r.decode_replica, r.preemptions,
                       r.rejected ? "rejected" : "unfinished");
  }
  return s;
}

}  // namespace drivers::serving

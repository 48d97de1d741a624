#include "app/experiments/llm_serving.hpp"

#include <fmt/format.h>

#include "app/experiment.hpp"
#include "workloads/model_zoo.hpp"
#include "drivers/serving/kv_cache.hpp"
#include "drivers/serving/serving_engine.hpp"
#include "interconnect/collective.hpp"
#include "interconnect/system_spec.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/batching/batching_policy.hpp"
#include "schedulers/routing/routing_policy.hpp"
#include "sim/params.hpp"
#include "workloads/llm/decoder_spec.hpp"
#include "workloads/request_stream.hpp"

namespace app {

const sim::ParamSchema& serving_schema() {
  static const sim::ParamSchema s = sim::schema(R"(
system             | system   |             | system preset (configs/systems/): the GPUs and their links
model              | decoder  | llama2-7b   | a built-in decoder (warpsim list decoder) or a map of its keys
tp                 | int      | 1           | tensor-parallel GPUs per pipeline stage (inside one node)
pp                 | int      | 1           | pipeline stages per replica
replicas           | int      | 1           | model replicas on the system's GPUs, in order
dtype              | string   | fp16        | fp16 | bf16 (weights, activations, KV)
policy             | plugin   | vllm        | batching policy (family batching)
router             | plugin   | round-robin | which replica a request goes to (family routing)
requests           | map      |             | the request stream (keys: docs/serving.md)
kernel_cost        | map      |             | kernel-cost plugin: {name: roofline}
all_reduce         | plugin   | ring        | TP all-reduce algorithm (family collective)
block_tokens       | int      | 16          | tokens per KV block
reserve_fraction   | double   | 0.1         | of each GPU's memory kept for activations and workspace
kv_memory          | size     |             | KV cache per GPU (absent: all the memory left)
preemption         | string   | recompute   | recompute (drop KV, prefill again) | swap (KV to host memory and back)
batches_in_flight  | int      | 0           | batches in a replica's pipeline at once (0: one per stage)
iteration_overhead | duration | 0 us        | host time to schedule and launch each iteration
requests_csv       | bool     | true        | write requests.csv (one row per request)
)");
  return s;
}

ServingPoint::ServingPoint(const sim::Params& cfg, sim::PluginCatalog& catalog)
    : requests_config_(cfg.value("requests")) {
  setup_.system = interconnect::SystemSpec::from_config(cfg.value("system"));
  setup_.model = workloads::read_decoder(cfg.value("model"));
  model_name_ = setup_.model.name;
  cost_ = models::kernel_costs(catalog).create_from(cfg.value("kernel_cost"));
  all_reduce_ = interconnect::collectives(catalog).create_from(cfg.value("all_reduce"));
  setup_.cost = cost_.get();
  setup_.all_reduce = all_reduce_.get();
  setup_.tp = static_cast<int>(cfg.integer("tp", 1, 1024));
  setup_.pp = static_cast<int>(cfg.integer("pp", 1, 1024));
  setup_.replicas = static_cast<int>(cfg.integer("replicas", 1, 1 << 20));
  if (const std::string why = setup_.model.tensor_parallel_error(setup_.tp); !why.empty())
    cfg.value("tp").fail(why);
  if (setup_.pp > setup_.model.layers)
    cfg.value("pp").fail(fmt::format("pp {} exceeds {}'s {} layers", setup_.pp, model_name_,
                                     setup_.model.layers));
  if (setup_.tp > setup_.system.gpus_per_node)
    cfg.value("tp").fail(fmt::format("tp {} exceeds {}'s {} GPUs per node: tensor parallelism "
                                     "stays inside a node",
                                     setup_.tp, setup_.system.name, setup_.system.gpus_per_node));
  const int gpus = setup_.tp * setup_.pp * setup_.replicas;
  if (gpus > setup_.system.gpus())
    cfg.value("replicas").fail(fmt::format(
        "{} replica(s) of tp {} x pp {} need {} GPUs; {} has {} ({} node(s) of {}): set "
        "system.nodes or use fewer",
        setup_.replicas, setup_.tp, setup_.pp, gpus, setup_.system.name, setup_.system.gpus(),
        setup_.system.nodes, setup_.system.gpus_per_node));
  setup_.dtype = workloads::read_dtype(cfg.value("dtype"));
  if (setup_.dtype != workloads::DType::fp16 && setup_.dtype != workloads::DType::bf16)
    cfg.value("dtype").fail("serving runs in fp16 or bf16");
  policy_name_ = sim::plugin_label(cfg.value("policy"));
  policy_ = schedulers::batching::batching_policies(catalog).create_from(cfg.value("policy"));
  router_ = schedulers::routing::routing_policies(catalog).create_from(cfg.value("router"));
  setup_.block_tokens = cfg.integer("block_tokens", 1, 1 << 16);
  setup_.reserve_fraction = cfg.real("reserve_fraction");
  if (!(setup_.reserve_fraction >= 0 && setup_.reserve_fraction < 1))
    cfg.value("reserve_fraction").fail("must be in [0, 1)");
  if (cfg.has("kv_memory")) {
    setup_.kv_bytes = static_cast<std::int64_t>(cfg.size("kv_memory"));
    if (setup_.kv_bytes <= 0) cfg.value("kv_memory").fail("a KV cache needs some memory");
    drivers::serving::KvLayout l = drivers::serving::kv_layout(
        setup_.model, setup_.tp, setup_.pp, setup_.dtype,
        static_cast<std::int64_t>(setup_.system.gpu.dram_capacity), setup_.reserve_fraction,
        setup_.block_tokens);
    if (l.oom.empty())
      if (const std::string why = drivers::serving::cap_kv_memory(l, setup_.kv_bytes); !why.empty())
        cfg.value("kv_memory").fail(why);
  }
  const std::string pre = cfg.string("preemption");
  if (pre != "recompute" && pre != "swap")
    cfg.value("preemption").fail(fmt::format("preemption is recompute or swap, got '{}'", pre));
  setup_.preemption =
      pre == "swap" ? drivers::serving::Preemption::swap : drivers::serving::Preemption::recompute;
  setup_.batches_in_flight = static_cast<int>(cfg.integer("batches_in_flight", 0, 1024));
  setup_.iteration_overhead = cfg.duration("iteration_overhead");
  write_requests_ = cfg.value("requests_csv").as_bool();
  // Read once now, so a bad stream (a missing trace, a negative column) fails before anything
  // runs; run() draws it again from the run's seed.
  sim::RngStream check(0, "requests");
  workloads::read_requests(requests_config_, check);
}

void ServingPoint::run(RunContext& ctx) {
  ctx.expect_runs(1);
  sim::RngStream stream = ctx.rng.stream("requests");
  const std::vector<workloads::Request> requests =
      workloads::read_requests(requests_config_, stream);
  drivers::serving::ServingProgress progress;
  if (ctx.on_items)
    progress = [&ctx](std::int64_t done, std::int64_t total) {
      ctx.on_items(static_cast<std::size_t>(done), static_cast<std::size_t>(total));
    };
  const auto result =
      drivers::serving::serve(setup_, requests, *policy_, *router_, ctx.timeline, progress);
  sim::ResultRow row{"",
                     {{"model", model_name_},
                      {"system", setup_.system.name},
                      {"tp", std::to_string(setup_.tp)},
                      {"pp", std::to_string(setup_.pp)},
                      {"replicas", std::to_string(setup_.replicas)},
                      {"policy", policy_name_}},
                     {}};
  for (const auto& [k, v] : result.metrics) row.metric(k, v);
  ctx.stats.add_row(std::move(row));
  const std::string what = fmt::format("{} on {} (tp {} x pp {}, {} replica{}) under {}",
                                       model_name_, setup_.system.name, setup_.tp, setup_.pp,
                                       setup_.replicas, setup_.replicas == 1 ? "" : "s",
                                       policy_name_);
  if (!result.oom.empty()) {
    ctx.report += fmt::format("{}: out of memory: {}.\n", what, result.oom);
    ctx.console << fmt::format("{}: out of memory: {}\n", what, result.oom);
    return;
  }
  ctx.add_run(result.run, "serve");
  ctx.end_time = result.run.simulated;
  if (write_requests_) ctx.files["requests.csv"] = drivers::serving::requests_csv(result.requests);
  const auto& m = result.metrics;
  const std::string line = fmt::format(
      "{}: {:.0f} requests in {:.1f} s, {:.2f} req/s, {:.0f} tok/s; TTFT p50 {:.1f} ms p99 {:.1f} "
      "ms; TPOT p50 {:.1f} ms; normalized latency p50 {:.1f} ms/token; mean batch {:.1f}, KV "
      "use {:.0f}% (peak {:.0f}%), {:.0f} preemptions, MFU {:.1f}%\n",
      what, m.at("finished"), m.at("span_s"), m.at("throughput_rps"),
      m.at("output_tokens_per_s"), m.at("ttft_ms_p50"), m.at("ttft_ms_p99"), m.at("tpot_ms_p50"),
      m.at("normalized_latency_ms_p50"), m.at("batch_mean"), 100 * m.at("kv_util_mean"),
      100 * m.at("kv_util_peak"), m.at("preemptions"), 100 * m.at("mfu"));
  ctx.report += line;
  ctx.console << line;
}

void register_llm_serving_experiment(sim::PluginCatalog& catalog) {
  add_experiment<ServingPoint>(
      catalog, "serving",
      "LLM serving: replicas of a decoder on a system under a batching policy and a request stream",
      serving_schema());
}

}  // namespace app

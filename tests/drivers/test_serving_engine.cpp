// The serving engine: a request's lifecycle on one replica, the pipeline, KV pressure
// (preemption by recompute and by swap), memory that does not fit, disaggregated replicas,
// requests no policy can run, and determinism.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "../interconnect/systems.hpp"
#include "drivers/serving/iteration_cost.hpp"
#include "drivers/serving/serving_engine.hpp"
#include "interconnect/plugins.hpp"
#include "models/plugins.hpp"
#include "schedulers/plugins.hpp"
#include "sim/config.hpp"
#include "workloads/llm/decoder_iteration.hpp"

namespace {

using drivers::serving::ServingResult;
using drivers::serving::ServingSetup;

struct Fixture {
  sim::PluginCatalog catalog;
  std::unique_ptr<models::KernelCost> cost;
  std::unique_ptr<interconnect::Collective> ring;
  Fixture() {
    models::register_roofline_cost(catalog);
    interconnect::register_collectives(catalog);
    schedulers::register_schedulers_plugins(catalog);
    cost = models::kernel_costs(catalog).create("roofline", cfg("{}"));
    ring = interconnect::collectives(catalog).create("ring", cfg("{}"));
  }
  static sim::Config cfg(const std::string& yaml) {
    return sim::Config(sim::parse_yaml(yaml, "test"), "");
  }
  ServingSetup setup(const std::string& model, const std::string& system, int tp, int pp = 1) {
    ServingSetup s;
    s.model = workloads::decoder(model);
    s.system = testing::preset(system);
    s.cost = cost.get();
    s.all_reduce = ring.get();
    s.tp = tp;
    s.pp = pp;
    return s;
  }
  ServingResult serve(const ServingSetup& s, const std::vector<workloads::Request>& reqs,
                      const std::string& policy, const std::string& params = "{}",
                      const std::string& router = "round-robin") {
    const auto p = schedulers::batching::batching_policies(catalog).create(policy, cfg(params));
    auto r = schedulers::routing::routing_policies(catalog).create(router, cfg("{}"));
    return drivers::serving::serve(s, reqs, *p, *r);
  }
};

std::vector<workloads::Request> stream(int n, double gap_s, int prompt, int output) {
  std::vector<workloads::Request> v;
  for (int i = 0; i < n; ++i)
    v.push_back({i, sim::Time::s(i * gap_s), prompt, output});
  return v;
}

}  // namespace

TEST_CASE("serving: one request is a prefill iteration and then one iteration per token") {
  Fixture f;
  const ServingSetup s = f.setup("llama2-7b", "dgx-h100", 1);
  const ServingResult r = f.serve(s, stream(1, 0, 512, 5), "vllm");
  REQUIRE(r.oom.empty());
  REQUIRE(r.requests.size() == 1);
  const auto& q = r.requests[0];
  CHECK(q.finished());
  CHECK(q.tokens_out == 5);
  CHECK(r.metrics.at("iterations") == 5);  // the prompt (yields token 1), then 4 decodes
  // The times are the iteration costs themselves.
  drivers::serving::IterationCost cost(
      {s.model, 1, s.dtype, s.system.gpu.lowering(s.dtype)}, 1, s.system, *f.cost, *f.ring, 16);
  drivers::serving::IterationBatch prefill;
  prefill.chunks = {{512, 0}};
  prefill.rows = 1;
  CHECK(q.ttft() == doctest::Approx(cost.stage(0, prefill).time.seconds()));
  drivers::serving::IterationBatch decode;
  decode.decodes = 1;
  decode.decode_context = 512;
  decode.rows = 1;
  CHECK(q.tbt_max >= cost.stage(0, decode).time.seconds());
  CHECK(q.e2e() == doctest::Approx(q.ttft() + 4 * q.tbt_mean()));
  // A 7B decode step on an H100 is bound by reading 13.5 GB of weights: a few milliseconds.
  CHECK(q.tbt_mean() > 13.4e9 / s.system.gpu.dram_bandwidth);
  CHECK(q.tbt_mean() < 3 * 13.4e9 / s.system.gpu.dram_bandwidth);
}

TEST_CASE("serving: the same inputs give the same schedule and metrics") {
  Fixture f;
  const ServingSetup s = f.setup("llama2-13b", "dgx-a100", 2, 2);
  const auto reqs = stream(60, 0.05, 300, 40);
  const ServingResult a = f.serve(s, reqs, "sarathi"), b = f.serve(s, reqs, "sarathi");
  CHECK(a.run.fingerprint == b.run.fingerprint);
  CHECK(a.metrics == b.metrics);
  CHECK(a.metrics.at("finished") == 60);
}

TEST_CASE("serving: under KV pressure vllm preempts and still finishes everything") {
  Fixture f;
  ServingSetup s = f.setup("llama2-7b", "dgx-a100", 1);
  // 40 GB minus 13.5 GB of weights minus this reserve leaves about 1.5 GB: ~3000 tokens of KV.
  s.reserve_fraction = 0.62;
  const auto reqs = stream(40, 0.01, 200, 200);
  const ServingResult r = f.serve(s, reqs, "vllm");
  REQUIRE(r.oom.empty());
  CHECK(r.metrics.at("preemptions") > 0);
  CHECK(r.metrics.at("finished") == 40);
  CHECK(r.metrics.at("kv_util_peak") > 0.9);
  for (const auto& q : r.requests) CHECK(q.tokens_out == 200);
  // Swapping instead: the same requests finish, their KV moved over the host link.
  s.preemption = drivers::serving::Preemption::swap;
  const ServingResult w = f.serve(s, reqs, "vllm");
  CHECK(w.metrics.at("finished") == 40);
  CHECK(w.metrics.at("swapped_out_blocks") > 0);
}

TEST_CASE("serving: what does not fit is an out-of-memory result, not a crash") {
  Fixture f;
  // 70B in fp16 is 138 GB: not on one 80 GB GPU.
  const ServingResult w = f.serve(f.setup("llama2-70b", "dgx-h100", 1), stream(3, 0, 10, 10), "vllm");
  CHECK_FALSE(w.oom.empty());
  CHECK(w.metrics.at("oom") == 1);
  CHECK(w.requests.empty());
  // FasterTransformer's up-front KV for 2048 tokens x 8 requests does not fit beside 13B.
  const ServingResult k = f.serve(f.setup("gpt3-13b", "dgx-a100", 1), stream(3, 0, 10, 10),
                                  "request-level", "{max_batch: 8}");
  CHECK(k.oom.find("pre-allocates") != std::string::npos);
  const ServingResult ok = f.serve(f.setup("gpt3-13b", "dgx-a100", 1), stream(3, 0, 10, 10),
                                   "request-level", "{max_batch: 4}");
  CHECK(ok.oom.empty());
  CHECK(ok.metrics.at("finished") == 3);
}

TEST_CASE("serving: request-level returns a batch only when its longest request is done") {
  Fixture f;
  const ServingSetup s = f.setup("gpt3-13b", "dgx-a100", 1);
  std::vector<workloads::Request> reqs = {{0, sim::Time::zero(), 100, 2},
                                          {1, sim::Time::zero(), 100, 50}};
  const ServingResult r = f.serve(s, reqs, "request-level", "{max_batch: 4}");
  CHECK(r.requests[0].end == r.requests[1].end);
  const ServingResult o = f.serve(s, reqs, "orca", "{max_batch: 4}");
  CHECK(o.requests[0].end < o.requests[1].end);
}

TEST_CASE("serving: disaggregated prefills on one replica and decodes on another") {
  Fixture f;
  ServingSetup s = f.setup("llama2-7b", "dgx-h100", 2);
  s.replicas = 3;
  const ServingResult r =
      f.serve(s, stream(30, 0.02, 400, 20), "disaggregated", "{prefill_replicas: 1}");
  CHECK(r.metrics.at("finished") == 30);
  for (const auto& q : r.requests) {
    CHECK(q.replica == 0);
    CHECK(q.decode_replica >= 1);
  }
  // Without decode replicas there is nowhere to send the KV.
  s.replicas = 1;
  CHECK_THROWS_AS(f.serve(s, stream(1, 0, 10, 10), "disaggregated"), sim::InputError);
}

TEST_CASE("serving: a prompt no policy can run is rejected, the rest are served") {
  Fixture f;
  const ServingSetup s = f.setup("llama2-7b", "dgx-h100", 1);
  std::vector<workloads::Request> reqs = {{0, sim::Time::zero(), 100, 5},
                                          {1, sim::Time::ms(1), 9000, 5},
                                          {2, sim::Time::ms(2), 100, 5}};
  const ServingResult r = f.serve(s, reqs, "vllm", "{max_tokens: 8192}");
  CHECK(r.metrics.at("rejected") == 1);
  CHECK(r.metrics.at("finished") == 2);
  CHECK(r.requests[1].rejected);
  CHECK(drivers::serving::requests_csv(r.requests).find(",rejected\n") != std::string::npos);
}

TEST_CASE("serving: replicas and routers; a deployment larger than the system is bad input") {
  Fixture f;
  ServingSetup s = f.setup("llama2-7b", "dgx-h100", 1);
  s.replicas = 4;
  const ServingResult r = f.serve(s, stream(40, 0.001, 100, 10), "vllm", "{}", "least-outstanding");
  std::vector<int> per(4, 0);
  for (const auto& q : r.requests) ++per[static_cast<std::size_t>(q.replica)];
  for (int n : per) CHECK(n == 10);
  s.replicas = 9;  // 9 GPUs on an 8-GPU system
  CHECK_THROWS_AS(f.serve(s, stream(1, 0, 10, 10), "vllm"), sim::InputError);
  ServingSetup wide = f.setup("llama2-7b", "dgx-h100", 16);
  wide.system.nodes = 2;
  CHECK_THROWS_AS(f.serve(wide, stream(1, 0, 10, 10), "vllm"), sim::InputError);
}

TEST_CASE("iteration cost: each shape is priced once; a pipeline splits the layers") {
  Fixture f;
  const ServingSetup s = f.setup("llama2-70b", "dgx-h100", 4, 2);
  drivers::serving::IterationCost cost({s.model, 4, s.dtype, s.system.gpu.lowering(s.dtype)}, 2,
                                       s.system, *f.cost, *f.ring, 16);
  CHECK(cost.stage_layers(0) + cost.stage_layers(1) == 80);
  drivers::serving::IterationBatch b;
  b.decodes = 32;
  b.decode_context = 32 * 1000;
  b.rows = 32;
  const auto t0 = cost.stage(0, b), t1 = cost.stage(1, b);
  const std::size_t priced = cost.shapes_priced();
  CHECK(cost.stage(0, b).time == t0.time);  // exact for a repeated shape
  CHECK(cost.shapes_priced() == priced);
  // The last stage adds the LM head; the first the embedding and the send to the next.
  CHECK(t0.time != t1.time);
  // More context per request is more KV to read.
  b.decode_context = 32 * 4000;
  CHECK(cost.stage(0, b).time > t0.time);
}

TEST_CASE("serving: a batching policy sees the time and each request's arrival") {
  // vllm's decisions, watched: the clock never runs back, no request arrives after it is seen.
  struct Watch final : schedulers::batching::BatchingPolicy {
    const schedulers::batching::BatchingPolicy& inner;
    mutable double last_now = -1;
    mutable double latest_arrival = -1;
    mutable bool ok = true;
    explicit Watch(const schedulers::batching::BatchingPolicy& p) : inner(p) {}
    schedulers::batching::BatchPlan next_iteration(
        const schedulers::batching::BatchState& s) const override {
      ok = ok && s.now >= last_now;
      last_now = s.now;
      for (const auto& r : s.waiting) {
        ok = ok && r.arrival <= s.now;
        latest_arrival = std::max(latest_arrival, r.arrival);
      }
      return inner.next_iteration(s);
    }
  };
  Fixture f;
  const auto vllm = schedulers::batching::batching_policies(f.catalog).create("vllm", f.cfg("{}"));
  const Watch watch(*vllm);
  auto router = schedulers::routing::routing_policies(f.catalog).create("round-robin", f.cfg("{}"));
  const ServingResult r =
      drivers::serving::serve(f.setup("llama2-7b", "dgx-a100", 1), stream(20, 0.05, 128, 8),
                              watch, *router);
  CHECK(watch.ok);
  CHECK(watch.last_now > 0.9);               // the last arrival is at 0.95 s
  CHECK(watch.latest_arrival == doctest::Approx(0.95));
  CHECK(r.oom.empty());
  CHECK(r.requests.size() == 20);
}

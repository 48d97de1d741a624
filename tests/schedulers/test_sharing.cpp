// Sharing policies (schedulers/sharing): BARM's plan, the per-layer batch choice, and the
// inference server end to end on a small task set.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "../support/toy_gpu.hpp"
#include "models/kernel_cost.hpp"
#include "models/memory/policies.hpp"
#include "models/plugins.hpp"
#include "schedulers/plugins.hpp"
#include "schedulers/sharing/inference_server.hpp"
#include "schedulers/sharing/sharing_policy.hpp"
#include "sim/config.hpp"

using namespace schedulers::sharing;

namespace {
sim::Config params(const char* yaml = "{}") { return sim::Config(sim::parse_yaml(yaml, "t"), ""); }

std::unique_ptr<SharingPolicy> policy(const char* name) {
  sim::PluginCatalog catalog;
  schedulers::register_schedulers_plugins(catalog);
  return sharing_policies(catalog).create(name, params());
}

// A layer whose compute takes 1 ms per job on one SM, spread evenly over SMs; faults at 1 ns/B.
LayerCost layer(std::uint64_t weight_mib, std::uint64_t activation_mib_per_job,
                std::uint64_t budget_mib) {
  LayerCost c;
  c.compute_seconds = [](int jobs, int sms) { return 1e-3 * jobs / sms; };
  c.weight_bytes = weight_mib << 20;
  c.activation_bytes_per_job = activation_mib_per_job << 20;
  c.budget_bytes = budget_mib << 20;
  c.fault_seconds_per_byte = 1e-9;
  return c;
}
}  // namespace

TEST_CASE("BARM plan: SMs by page demand, leftovers to the first; quotas in ascending demand") {
  const std::vector<AppDemand> apps{{0, 10, 5, 1}, {1, 300, 20, 1}, {2, 60, 10, 1}};
  const SharingPlan p = demand_proportional_plan(apps, 8, 200);
  std::vector<int> sms;
  for (const auto& m : p.masks) sms.push_back(static_cast<int>(std::count(m.begin(), m.end(), true)));
  CHECK(std::accumulate(sms.begin(), sms.end(), 0) == 8);
  for (std::size_t s = 0; s < 8; ++s) {  // disjoint
    int owners = 0;
    for (const auto& m : p.masks) owners += m[s];
    CHECK(owners == 1);
  }
  // One each, the other 5 by demand (0.04 / 0.83 / 0.18 of it: 0, 4, 0), the leftover to the
  // largest demand.
  CHECK(sms == std::vector<int>{1, 6, 1});
  // Ascending demand: 15 fits (full), 70 fits in half of the 185 left (full), 320 gets the rest.
  CHECK(p.quotas[0] == 15);
  CHECK(p.quotas[2] == 70);
  CHECK(p.quotas[1] == 115);
  CHECK(p.quotas[0] + p.quotas[1] + p.quotas[2] <= 200);
}

TEST_CASE("layer-batch: the whole group when it fits beside the weights, smaller when not") {
  const auto lb = policy("layer-batch");
  LayerCost c = layer(100, 10, 200);
  c.missing_weight_bytes = 100 << 20;
  CHECK(lb->choose_layer(c, 8, 2, 0).sub_batch == 8);  // 100 + 8 x 10 MiB fits: weights fault once
  c.budget_bytes = 140 << 20;
  CHECK(lb->choose_layer(c, 8, 2, 0).sub_batch == 4);  // 100 + 4 x 10 fits, 8 would refault
}

TEST_CASE("layer-batch: a layer that will not fault takes the idle SMs, a faulting one keeps to its own") {
  const auto lb = policy("layer-batch");
  LayerCost c = layer(10, 1, 100);
  CHECK(lb->choose_layer(c, 1, 2, 5).sms == 7);
  c.missing_weight_bytes = 4 << 20;
  CHECK(lb->choose_layer(c, 1, 2, 5).sms == 2);
  // Fifo and the others run every layer on their own SMs.
  CHECK(policy("fifo")->choose_layer(c, 1, 2, 5).sms == 2);
}

TEST_CASE("resident-set quotas: whole the apps that would refault the most, the rest at least") {
  // {app, weight, activation chunks, in flight, job s, period s, least chunks}
  const AppDemand a{0, 10, 5, 1, 1e-3, 10e-3, 3};     // 15 chunks, 1500 refaulted per s if short
  const AppDemand b{1, 300, 20, 1, 1e-3, 20e-3, 40};  // 320, 16000 per s
  const AppDemand c{2, 60, 10, 1, 1e-3, 20e-3, 10};   // 70, 3500 per s
  // 100 frames: 53 for the least needs, 47 to spend; only a (12 more) fits whole, the 35 left
  // split between b and c -- which refault all of their demand each job anyway.
  CHECK(resident_set_quotas({a, b, c}, 100) == std::vector<std::uint64_t>{15, 58, 27});
  // BARM's ascending demand leaves c short by 28 (42 of 70), so it refaults every job too.
  CHECK(ascending_demand_quotas({a, b, c}, 100) == std::vector<std::uint64_t>{15, 43, 42});
  // A frequent app before a larger rare one: 40 every 10 ms saves more than 30 every 100 ms.
  const AppDemand rare{0, 25, 5, 1, 1e-3, 100e-3, 5}, often{1, 30, 10, 1, 1e-3, 10e-3, 5};
  CHECK(resident_set_quotas({rare, often}, 50) == std::vector<std::uint64_t>{10, 40});
  // A one-job app refaults nothing: residence saves it nothing.
  const AppDemand once{0, 30, 10, 1, 1e-3, 0, 5};
  CHECK(resident_set_quotas({once, rare}, 50) == std::vector<std::uint64_t>{20, 30});
  // Least needs beyond the frames: BARM's ascending demand.
  CHECK(resident_set_quotas({a, b, c}, 50) == ascending_demand_quotas({a, b, c}, 50));
}

TEST_CASE("layer-batch plan: groups no larger than a whole app's quota holds") {
  // Three jobs may be pending each; the resident set is chosen at one job each.
  const AppDemand a{0, 10, 5, 3, 1e-3, 10e-3, 3};     // 15 chunks at one job
  const AppDemand b{1, 300, 20, 3, 1e-3, 20e-3, 40};  // 320
  const auto lb = policy("layer-batch");
  // 100 frames: a whole at one job (groups of one), b short: it streams its weights anyway and
  // batches freely (0: the policy's max_group), with what a leaves.
  auto p = lb->plan({a, b}, 8, 100);
  CHECK(p.quotas == std::vector<std::uint64_t>{15, 85});
  CHECK(p.groups == std::vector<int>{1, 0});
  // 400 frames: both whole, the 65 left shared between them as room to batch.
  p = lb->plan({a, b}, 8, 400);
  CHECK(p.quotas == std::vector<std::uint64_t>{48, 352});
  CHECK(p.groups == std::vector<int>{3, 2});  // a: no more than its 3 jobs in flight
  CHECK(demand_proportional_plan({a, b}, 8, 400).groups.empty());  // BARM: max_group
}

TEST_CASE("layer-batch plan: SMs by the compute the releases need, resident-set quotas") {
  // App 0: small pages, heavy compute (10 ms every 20 ms); app 1: large pages, light compute.
  std::vector<AppDemand> apps{{0, 10, 5, 1, 10e-3, 20e-3}, {1, 300, 20, 1, 1e-3, 20e-3}};
  const auto p = policy("layer-batch")->plan(apps, 8, 200);
  const auto barm = demand_proportional_plan(apps, 8, 200);
  auto sms = [](const models::SmMask& m) { return models::sms_in(m, 8); };
  // One each, the other 6 by need (10/11 and 1/11 of it: 5 and 0), the leftover to the largest.
  CHECK(sms(p.masks[0]) == 7);
  CHECK(sms(p.masks[1]) == 1);
  CHECK(sms(barm.masks[0]) == 1);
  CHECK(p.quotas == resident_set_quotas(apps, 200));
}

namespace {

// A toy 8-SM GPU with LRU paging and no prefetcher, and the plugins to serve on it.
struct ServeRig {
  sim::PluginCatalog catalog;
  std::unique_ptr<models::KernelCost> cost;
  std::unique_ptr<models::memory::EvictionPolicy> lru;
  std::unique_ptr<models::memory::Prefetcher> none;
  models::memory::UvmParams uvm;
  models::GpuSpec gpu = testing::toy_gpu(8);
  ServeRig() {
    models::register_models_plugins(catalog);
    schedulers::register_schedulers_plugins(catalog);
    cost = models::kernel_costs(catalog).create("roofline", params());
    lru = models::memory::eviction_policies(catalog).create("lru", params());
    none = models::memory::prefetchers(catalog).create("none", params());
    uvm.batch_overhead = sim::Time::us(45);
    uvm.per_fault = sim::Time::us(1);
    uvm.migration_bandwidth = 10e9;
    gpu.host_link_bandwidth = 16e9;
    gpu.dram_capacity = 1ull << 30;
  }
  std::unique_ptr<SharingPolicy> policy(const char* name) {
    return sharing_policies(catalog).create(name, params());
  }
};

// LeNet every 5 ms and SqueezeNet every 10 ms, deadline = period unless `slack` stretches it.
workloads::TaskSet toy_set(double slack = 1.0) {
  workloads::TaskSet set;
  set.tasks.push_back({"lenet", "lenet", 4, sim::Time::zero(), sim::Time::ms(5),
                       sim::Time::ms(5 * slack), 6});
  set.tasks.push_back({"squeezenet", "squeezenet", 1, sim::Time::ms(1), sim::Time::ms(10),
                       sim::Time::ms(10 * slack), 3});
  return set;
}

}  // namespace

TEST_CASE("inference server: jobs complete, faults appear only when memory is oversubscribed") {
  ServeRig rig;
  auto& [catalog, cost, lru, none, uvm, gpu] = rig;
  const workloads::TaskSet set = toy_set();
  ModelLibrary lib(gpu.lowering(workloads::DType::fp32));
  std::map<std::string, ServeResult> r;
  for (const char* name : {"fifo", "greedy", "barm"})
    for (double os : {0.5, 3.0}) {
      const auto policy = sharing_policies(catalog).create(name, params());
      ServeOptions o;
      o.oversubscription = os;
      o.chunk_bytes = 64 << 10;
      const auto res = serve(gpu, *cost, uvm, *lru, *none, *policy, set, o, lib);
      CAPTURE(name);
      CAPTURE(os);
      CHECK(res.jobs == 9);
      CHECK(res.completed + res.dropped == 9);
      CHECK(res.memory.overcommits == 0);
      CHECK(res.mean_ms > 0);
      r[std::string(name) + (os < 1 ? ".fit" : ".over")] = res;
    }
  // Fitting: only cold faults, about the same for every policy (the order of touches can
  // split a page run differently); oversubscribed: more.
  CHECK(std::abs(static_cast<double>(r["fifo.fit"].memory.faults) -
                 static_cast<double>(r["greedy.fit"].memory.faults)) <
        0.01 * static_cast<double>(r["fifo.fit"].memory.faults));
  CHECK(r["greedy.fit"].memory.thrashed_bytes == 0);
  CHECK(r["fifo.over"].memory.faults > r["fifo.fit"].memory.faults);
  CHECK(r["fifo.fit"].memory.thrashed_bytes == 0);
  // An activation arena by liveness needs far less than a buffer per blob, and serves the same
  // jobs.
  {
    const auto policy = sharing_policies(catalog).create("fifo", params());
    ServeOptions o;
    o.chunk_bytes = 64 << 10;
    const auto per_blob = serve(gpu, *cost, uvm, *lru, *none, *policy, set, o, lib);
    o.reuse_activations = true;
    const auto arena = serve(gpu, *cost, uvm, *lru, *none, *policy, set, o, lib);
    CHECK(arena.activation_bytes < per_blob.activation_bytes / 2);
    CHECK(arena.completed + arena.dropped == 9);
  }
  // Deterministic: the same run twice gives the same schedule.
  const auto policy = sharing_policies(catalog).create("barm", params());
  ServeOptions o;
  o.oversubscription = 3.0;
  o.chunk_bytes = 64 << 10;
  const auto again = serve(gpu, *cost, uvm, *lru, *none, *policy, set, o, lib);
  CHECK(again.fingerprint == r["barm.over"].fingerprint);
  CHECK(again.mean_ms == r["barm.over"].mean_ms);
}

TEST_CASE("inference server: a batching app's lone jobs touch what FIFO's do (2 MiB chunks)") {
  // With deadline = period a task never has two jobs pending, so lazy batching runs FIFO's
  // schedule; its buffers have room for a group, but a job alone must not touch more chunks
  // than a job of a FIFO app does (a layout keeping each blob's group together would leave
  // every blob's first job in chunks of its own).
  ServeRig rig;
  ModelLibrary lib(rig.gpu.lowering(workloads::DType::fp32));
  const workloads::TaskSet set = toy_set();
  ServeOptions o;
  o.oversubscription = 0.5;
  const auto fifo = serve(rig.gpu, *rig.cost, rig.uvm, *rig.lru, *rig.none, *rig.policy("fifo"),
                          set, o, lib);
  const auto lazy = serve(rig.gpu, *rig.cost, rig.uvm, *rig.lru, *rig.none,
                          *rig.policy("lazy-batching"), set, o, lib);
  CHECK(lazy.layer_batches.empty());  // no group of two ever formed
  CHECK(lazy.activation_bytes > fifo.activation_bytes);
  CHECK(lazy.memory.faults == fifo.memory.faults);
  CHECK(lazy.mean_ms == doctest::Approx(fifo.mean_ms));
}

TEST_CASE("inference server: layer-batch merges no more jobs than are in flight or its quota holds") {
  // Jobs in flight = those released within one deadline, at most the policy's group: with
  // deadline = period that is one, with deadline = 2 x period two. Layer-batch (groups of up to
  // 8) merges no more than that, nor more than a whole app's quota holds: at ratio 0.5 the
  // frames left over hold a second LeNet job's activations but not a second SqueezeNet's.
  ServeRig rig;
  ModelLibrary lib(rig.gpu.lowering(workloads::DType::fp32));
  ServeOptions o;
  o.oversubscription = 0.5;
  auto groups = [&](double slack) {
    return serve(rig.gpu, *rig.cost, rig.uvm, *rig.lru, *rig.none, *rig.policy("layer-batch"),
                 toy_set(slack), o, lib)
        .plan.groups;
  };
  CHECK(groups(1.0) == std::vector<int>{1, 1});
  CHECK(groups(2.0) == std::vector<int>{2, 1});
}

TEST_CASE("inference server: with the tree prefetcher, page demand is counted in VA blocks") {
  // At 64 KiB chunks the tree prefetcher may pull a whole 2 MiB VA block in beside a touch (a
  // batching app's unused job windows with the used one), so the quotas hold whole blocks.
  ServeRig rig;
  ModelLibrary lib(rig.gpu.lowering(workloads::DType::fp32));
  const auto tree = models::memory::prefetchers(rig.catalog).create("tree", params());
  CHECK(rig.none->reach_bytes() == 0);
  CHECK(tree->reach_bytes() == models::memory::kVaBlockBytes);
  ServeOptions o;
  o.oversubscription = 0.5;  // every quota is the full demand
  o.chunk_bytes = models::memory::kBasicBlockBytes;
  auto quotas = [&](const models::memory::Prefetcher& p) {
    return serve(rig.gpu, *rig.cost, rig.uvm, *rig.lru, p, *rig.policy("barm"), toy_set(), o, lib)
        .plan.quotas;
  };
  const auto by_chunk = quotas(*rig.none), by_block = quotas(*tree);
  REQUIRE(by_block.size() == by_chunk.size());
  const std::uint64_t block = models::memory::kVaBlockBytes / o.chunk_bytes;
  for (std::size_t i = 0; i < by_block.size(); ++i) {
    CHECK(by_block[i] % block == 0);
    CHECK(by_block[i] > by_chunk[i]);
  }
}

TEST_CASE("inference server: fewer SMs are the GPU's first n by mask, each as fast as before") {
  // The SM-count sweep exposes part of one GPU: every policy's masks stay inside the first n
  // SMs, and with half of them the same jobs take longer (a GPU spec with sm_count halved and
  // the same whole-GPU peaks would instead double each SM's rate).
  ServeRig rig;
  ModelLibrary lib(rig.gpu.lowering(workloads::DType::fp32));
  std::map<int, ServeResult> r;
  for (int sms : {4, 8}) {
    ServeOptions o;
    o.oversubscription = 0.5;
    o.sms = sms;
    for (const char* name : {"fifo", "barm"}) {
      auto res = serve(rig.gpu, *rig.cost, rig.uvm, *rig.lru, *rig.none, *rig.policy(name),
                       toy_set(), o, lib);
      for (const auto& m : res.plan.masks) {
        CAPTURE(name);
        if (sms == rig.gpu.sm_count && std::string(name) == "fifo") {
          CHECK(m.empty());  // every SM
          continue;
        }
        REQUIRE(m.size() == static_cast<std::size_t>(rig.gpu.sm_count));
        CHECK(std::count(m.begin(), m.end(), true) > 0);
        CHECK(std::find(m.begin() + sms, m.end(), true) == m.end());
      }
      if (std::string(name) == "fifo") r[sms] = std::move(res);
    }
  }
  CHECK(r[4].mean_ms > 1.2 * r[8].mean_ms);
}

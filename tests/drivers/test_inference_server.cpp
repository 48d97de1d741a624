// The inference server (drivers/inference) end to end on small task sets: jobs, faults, batches,
// SM masks under the sharing policies.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "../support/toy_gpu.hpp"
#include "drivers/inference/inference_server.hpp"
#include "models/kernel_cost.hpp"
#include "models/memory/policies.hpp"
#include "models/plugins.hpp"
#include "schedulers/plugins.hpp"
#include "schedulers/sharing/sharing_policy.hpp"
#include "sim/config.hpp"

using namespace schedulers::sharing;
using namespace drivers;

namespace {
sim::Config params(const char* yaml = "{}") { return sim::Config(sim::parse_yaml(yaml, "t"), ""); }
}  // namespace

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
  CHECK(again.run.fingerprint == r["barm.over"].run.fingerprint);
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

// Sharing policies (schedulers/sharing): BARM's plan and the per-layer batch choice (the
// inference server that carries them out is tested in tests/drivers).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "../support/toy_gpu.hpp"
#include "models/kernel_cost.hpp"
#include "models/memory/policies.hpp"
#include "models/plugins.hpp"
#include "schedulers/plugins.hpp"
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


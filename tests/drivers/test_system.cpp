// The system builder: what it builds from specs, what it refuses, and what a run reports.
#include <doctest/doctest.h>

#include "../support/toy_gpu.hpp"
#include "drivers/system.hpp"
#include "models/plugins.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"

namespace {

std::unique_ptr<models::KernelCost> roofline(sim::PluginCatalog& catalog) {
  models::register_roofline_cost(catalog);
  return models::kernel_costs(catalog).create("roofline",
                                              sim::Config(sim::parse_yaml("{}", "t"), ""));
}

workloads::KernelDesc kernel() {
  workloads::KernelDesc k;
  k.name = "k";
  k.grid = {8, 1, 1};
  k.block = {256, 1, 1};
  k.flops = 8 * 250e6;
  return k;
}

}  // namespace

TEST_CASE("system: one GPU with its host runtime; each run reports the same summary") {
  sim::PluginCatalog catalog;
  const auto cost = roofline(catalog);
  drivers::System s(testing::toy_gpu(4), drivers::SystemOptions{1, cost.get()});
  CHECK(s.gpu_models() == 1);
  CHECK_FALSE(s.has_topology());
  const workloads::KernelDesc k = kernel();
  models::HostRuntime& tenant = s.add_process(0, models::HostCosts::ideal());
  s.host().launch(0, k);
  tenant.launch(0, k);
  const drivers::RunSummary r = s.run();
  CHECK(r.events > 0);
  CHECK(r.simulated > sim::Time::zero());
  CHECK(r.components.at("gpu[0].kernels") == 2);
  CHECK(r.components.at("host[0].kernels") == 1);
  CHECK(r.components.at("host[1].kernels") == 1);
  CHECK(r.components.at("gpu[0].sm_busy") > 0.5);
  // Each SM's busy share, under its own name; their mean is the GPU's time-weighted busy share.
  double per_sm = 0;
  for (int sm = 0; sm < 4; ++sm) {
    const double b = r.components.at("gpu[0].sm[" + std::to_string(sm) + "].busy");
    CHECK(b >= 0);
    CHECK(b <= 1);
    per_sm += b / 4;
  }
  CHECK(per_sm == doctest::Approx(r.components.at("gpu[0].sm_busy")));
  CHECK(r.components.count("gpu[0].sm[4].busy") == 0);
  CHECK(r.components.at("sim.events") == static_cast<double>(r.events));
  // Same build, same work: the same schedule.
  drivers::System again(testing::toy_gpu(4), drivers::SystemOptions{1, cost.get()});
  again.host().launch(0, k);
  again.add_process(0, models::HostCosts::ideal()).launch(0, k);
  CHECK(again.run().fingerprint == r.fingerprint);
}

TEST_CASE("system: a host link is needed for unified memory, and said so when missing") {
  sim::PluginCatalog catalog;
  const auto cost = roofline(catalog);
  models::GpuSpec g = testing::toy_gpu(4);
  g.host_link_bandwidth = 0;
  CHECK_THROWS_AS(drivers::System(g, drivers::SystemOptions{1, cost.get(), models::HostCosts::ideal(), true}),
                  sim::InputError);
  g.host_link_bandwidth = 16e9;
  g.host_link_kind = "shared-memory";
  drivers::System s(g, drivers::SystemOptions{1, cost.get(), models::HostCosts::ideal(), true});
  CHECK(s.h2d() == s.d2h());  // an integrated GPU's one DRAM pool
}

// GPU sharing modes (models/gpu_sharing.hpp): time slicing between contexts, MPS SM caps and
// MIG instances with their layouts, on the shipped GPU presets.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <vector>

#include "models/gpu.hpp"
#include "models/gpu_sharing.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "sim/config.hpp"
#include "../support/toy_gpu.hpp"

using models::GpuSpec;
using sim::Time;

namespace {

GpuSpec preset(const std::string& name) {
  const char* env = std::getenv("WARPSIM_CONFIG_PATH");  // set by meson test
  REQUIRE(env != nullptr);
  const std::filesystem::path dir = env;
  sim::ConfigLoader loader({dir});
  return GpuSpec::from_config(sim::Config(loader.load(dir / "gpus" / (name + ".yaml")), ""));
}

sim::Config params() { return sim::Config(sim::parse_yaml("{}", "t"), ""); }

workloads::KernelDesc kernel(const std::string& name, std::int64_t ctas) {
  workloads::KernelDesc k;
  k.name = name;
  k.grid = {ctas, 1, 1};
  k.block = {256, 1, 1};
  k.flops = 2e8 * static_cast<double>(ctas);
  return k;
}

struct Span {
  int context;
  Time start, end;
};

}  // namespace

TEST_CASE("time slicing: kernels of different contexts never co-run, and contexts take turns") {
  sim::PluginCatalog catalog;
  models::register_roofline_cost(catalog);
  auto cost = models::kernel_costs(catalog).create("roofline", params());
  sim::Simulator sim;
  GpuSpec spec = testing::toy_gpu(4);
  models::Gpu gpu(sim, spec, *cost);
  const models::TimeSlicing ts{Time::us(200), Time::us(10)};
  gpu.time_slice(ts);
  models::HostRuntime a(sim, gpu, models::HostCosts::ideal()), b(sim, gpu, models::HostCosts::ideal());
  a.set_context(0);
  b.set_context(1);
  std::vector<Span> spans;
  gpu.on_kernel([&](const workloads::KernelDesc& k, Time start, Time end) {
    spans.push_back({k.name == "a" ? 0 : 1, start, end});
  });
  const workloads::KernelDesc ka = kernel("a", 4), kb = kernel("b", 2);
  for (int i = 0; i < 40; ++i) {
    a.launch(0, ka);
    b.launch(0, kb);
  }
  sim.run();
  REQUIRE(spans.size() == 80);
  for (const Span& x : spans)
    for (const Span& y : spans)
      if (x.context != y.context) CHECK((x.end <= y.start || y.end <= x.start));
  // Both contexts' chains are longer than a slice: the GPU alternates several times, and each
  // switch leaves it idle for the switch cost.
  CHECK(gpu.context_switches() >= 4);
  Time first_b = Time::max(), last_a{};
  for (const Span& x : spans) {
    if (x.context == 1) first_b = std::min(first_b, x.start);
    else last_a = std::max(last_a, x.end);
  }
  CHECK(first_b < last_a);
  // An idle time-sliced GPU schedules nothing more: the run above ended.
  CHECK(sim.now() < Time::s(1));
}

TEST_CASE("time slicing: one context alone keeps the GPU without switches") {
  sim::PluginCatalog catalog;
  models::register_roofline_cost(catalog);
  auto cost = models::kernel_costs(catalog).create("roofline", params());
  sim::Simulator sim;
  models::Gpu gpu(sim, testing::toy_gpu(4), *cost);
  gpu.time_slice({Time::us(100), Time::us(10)});
  models::HostRuntime a(sim, gpu, models::HostCosts::ideal());
  const workloads::KernelDesc k = kernel("a", 4);
  for (int i = 0; i < 50; ++i) a.launch(0, k);
  sim.run();
  CHECK(gpu.kernels_completed() == 50);
  CHECK(gpu.context_switches() == 0);
}

TEST_CASE("MPS caps: percentages become SM masks, disjoint while they sum to 100%") {
  const auto m = models::mps_masks({50, 25, 25}, 80);
  REQUIRE(m.size() == 3);
  CHECK(models::sms_in(m[0], 80) == 40);
  CHECK(models::sms_in(m[1], 80) == 20);
  for (std::size_t s = 0; s < 80; ++s) CHECK(m[0][s] + m[1][s] + m[2][s] == 1);
  CHECK(models::mps_masks({100}, 80)[0].empty());
  CHECK(models::sms_in(models::mps_masks({0.5}, 80)[0], 80) == 1);  // at least one SM
  CHECK_THROWS_AS(models::mps_masks({0}, 80), std::invalid_argument);
  CHECK_THROWS_AS(models::mps_masks({101}, 80), std::invalid_argument);
}

TEST_CASE("MIG: the A100 and H100 presets' profiles, layouts and instance specs") {
  const GpuSpec a100 = preset("a100-sxm4-40gb");
  const auto& geo = a100.sharing.mig;
  REQUIRE(geo.profiles.size() == 5);
  const auto two = models::mig_layout(geo, {"3g.20gb", "3g.20gb"});
  CHECK(two[0].start == 0);
  CHECK(two[1].start == 4);
  CHECK(models::mig_layout(geo, std::vector<std::string>(7, "1g.5gb")).size() == 7);
  CHECK_THROWS_WITH_AS(models::mig_layout(geo, {"8g.80gb"}),
                       doctest::Contains("no MIG profile '8g.80gb'"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(models::mig_layout(geo, {"4g.20gb", "4g.20gb"}),
                       doctest::Contains("8 compute slices"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(models::mig_layout(geo, {"3g.20gb", "3g.20gb", "1g.5gb"}),
                       doctest::Contains("do not fit"), std::invalid_argument);
  // First fit would put the 3g at 0 and leave no start for the second 2g; a layout exists.
  const auto mixed = models::mig_layout(geo, {"3g.20gb", "2g.10gb", "2g.10gb"});
  CHECK(mixed[0].start == 4);
  CHECK_THROWS_WITH_AS(models::mig_layout(geo, {"2g.10gb", "3g.20gb"}, {0, 0}),
                       doctest::Contains("overlaps"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(models::mig_layout(geo, {"3g.20gb"}, {2}),
                       doctest::Contains("cannot start"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(models::mig_layout(geo, {"4g.20gb", "3g.20gb", "1g.5gb"}),
                       doctest::Contains("compute slices"), std::invalid_argument);

  const GpuSpec g3 = models::mig_instance_spec(a100, geo, *geo.find("3g.20gb"));
  CHECK(g3.sm_count == 42);
  CHECK(g3.dram_capacity == a100.dram_capacity / 2);
  CHECK(g3.dram_bandwidth == doctest::Approx(a100.dram_bandwidth / 2));
  CHECK(g3.l2_size == a100.l2_size / 2);
  CHECK(g3.fp16_tensor == doctest::Approx(a100.fp16_tensor * 42 / 108));
  CHECK(g3.sm.max_threads == a100.sm.max_threads);

  const GpuSpec h100 = preset("h100-sxm");
  CHECK(h100.sharing.mig.find("7g.80gb")->sms == 132);
  CHECK(preset("v100-sxm2").sharing.mig.profiles.empty());
  CHECK_THROWS_WITH_AS(models::mig_layout(preset("v100-sxm2").sharing.mig, {"1g.5gb"}),
                       doctest::Contains("no MIG"), std::invalid_argument);
}

TEST_CASE("kernel-sized SM ownership: each kernel on SMs of its own, one wave's worth") {
  sim::PluginCatalog catalog;
  models::register_roofline_cost(catalog);
  auto cost = models::kernel_costs(catalog).create("roofline", params());
  const GpuSpec spec = testing::toy_gpu(4);
  // Five one-CTA kernels on five streams at once, on four SMs that each hold several such CTAs.
  std::vector<workloads::KernelDesc> ks;
  for (int i = 0; i < 5; ++i) ks.push_back(kernel(std::string(1, static_cast<char>('a' + i)), 1));
  REQUIRE(models::occupancy(spec, ks[0]).ctas_per_sm >= 2);
  const auto run = [&](bool own) {
    sim::Simulator sim;
    models::Gpu gpu(sim, spec, *cost);
    if (own)
      gpu.own_sms_per_kernel([](const workloads::KernelDesc& k, const GpuSpec& g) {
        return models::one_wave_sms(g, k);
      });
    models::HostRuntime host(sim, gpu, models::HostCosts::ideal());
    std::map<std::string, Span> spans;
    gpu.on_kernel([&](const workloads::KernelDesc& k, Time start, Time end) {
      spans[k.name] = {0, start, end};
    });
    for (int i = 0; i < 5; ++i) host.launch(i, ks[static_cast<std::size_t>(i)]);
    sim.run();
    REQUIRE(spans.size() == 5);
    return spans;
  };
  const auto shared = run(false);
  const auto owned = run(true);
  // Owned: each kernel takes one SM (one wave of a one-CTA grid); the fifth finds none free and
  // starts when one of the first four has drained its CTA (its grid overhead is off the SMs).
  Time first_done = Time::max();
  for (const char* k : {"a", "b", "c", "d"}) {
    CAPTURE(k);
    CHECK(owned.at(k).start == owned.at("a").start);
    first_done = std::min(first_done, owned.at(k).end);
  }
  CHECK(owned.at("e").start > owned.at("a").start);
  CHECK(owned.at("e").start >= first_done - spec.kernel_overhead);
  // Shared (plain MPS): the fifth CTA sits beside another from the start.
  CHECK(shared.at("e").start == shared.at("a").start);
}

TEST_CASE("MPS count cap: a context's CTAs occupy at most its cap of SMs, any of them") {
  sim::PluginCatalog catalog;
  models::register_roofline_cost(catalog);
  auto cost = models::kernel_costs(catalog).create("roofline", params());
  const GpuSpec spec = testing::toy_gpu(4);
  const auto run = [&](int cap) {
    sim::Simulator sim;
    models::Gpu gpu(sim, spec, *cost);
    models::HostRuntime a(sim, gpu, models::HostCosts::ideal()), b(sim, gpu, models::HostCosts::ideal());
    a.set_context(0);
    b.set_context(1);
    if (cap > 0) gpu.cap_context_sms(0, cap);
    const workloads::KernelDesc ka = kernel("a", 64);
    a.launch(0, ka);
    sim.run();
    std::vector<double> busy;
    for (int s = 0; s < 4; ++s) busy.push_back(gpu.sm_busy_of(s, sim.now()));
    return std::make_pair(sim.now(), busy);
  };
  const auto [free_end, free_busy] = run(0);
  const auto [capped_end, capped_busy] = run(2);
  int used = 0;
  for (double x : capped_busy) used += x > 0 ? 1 : 0;
  CHECK(used == 2);  // capped to two of the four SMs
  for (double x : free_busy) CHECK(x > 0);
  CHECK(capped_end > free_end);  // the same grid on half the SMs takes longer
  sim::Simulator sim;
  models::Gpu gpu(sim, spec, *cost);
  CHECK_THROWS(gpu.cap_context_sms(0, 5));  // more SMs than the GPU has
  CHECK_THROWS(gpu.cap_context_sms(0, 0));
}

// Micro-benchmarks of engine parts with Google Benchmark: the fair-share solver (full and
// incremental), random-number draws, and unit parsing.
//
//   build/bench/micro [--benchmark_filter=FairShare]

#include <benchmark/benchmark.h>

#include <vector>

#include "sim/fair_share.hpp"
#include "sim/rng.hpp"
#include "sim/units.hpp"

namespace {

// N flows over a leaf-spine-like set of links: each flow crosses 3 of `links` resources.
void BM_FairShareFullSolve(benchmark::State& state) {
  const auto flows = static_cast<std::uint32_t>(state.range(0));
  for (auto _ : state) {
    sim::FairShare fs;
    const std::uint32_t links = std::max<std::uint32_t>(8, flows / 4);
    for (std::uint32_t l = 0; l < links; ++l) fs.add_resource("l", 1e9 * (1 + l % 3));
    for (std::uint32_t f = 0; f < flows; ++f) {
      const sim::FairShare::ResourceId p[3] = {f % links, (f * 7 + 1) % links, (f * 13 + 2) % links};
      fs.add_flow(std::span(p, p[0] == p[1] || p[1] == p[2] || p[0] == p[2] ? 1 : 3));
    }
    benchmark::DoNotOptimize(fs.solve().size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_FairShareFullSolve)->Arg(64)->Arg(512)->Arg(4096);

// One flow joins and leaves a link shared by N flows, among many independent links: only the
// touched component is re-solved.
void BM_FairShareIncremental(benchmark::State& state) {
  sim::FairShare fs;
  const auto sharing = static_cast<std::uint32_t>(state.range(0));
  std::vector<sim::FairShare::ResourceId> links;
  for (int l = 0; l < 1000; ++l) links.push_back(fs.add_resource("l", 1e9));
  for (std::uint32_t f = 0; f < 1000 * sharing; ++f)
    fs.add_flow(std::span(&links[f % 1000], 1));
  fs.solve();
  for (auto _ : state) {
    const auto f = fs.add_flow(std::span(&links[0], 1));
    benchmark::DoNotOptimize(fs.solve().size());
    fs.remove_flow(f);
    benchmark::DoNotOptimize(fs.solve().size());
  }
}
BENCHMARK(BM_FairShareIncremental)->Arg(4)->Arg(64);

void BM_RngExponential(benchmark::State& state) {
  sim::RngStream r(1, "bench");
  for (auto _ : state) benchmark::DoNotOptimize(r.exponential(1.0));
}
BENCHMARK(BM_RngExponential);

void BM_ParseBandwidth(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(sim::units::parse_bandwidth("3.35 TB/s"));
}
BENCHMARK(BM_ParseBandwidth);

}  // namespace

BENCHMARK_MAIN();

// Scale of the collective and data-parallel models: wall time and peak memory of
//   - one 64 MiB all-reduce on 8 .. 8192 GPUs (dgx-h100 nodes on the NDR leaf-spine), per
//     algorithm, with rank 0's GPU model running the collective kernels;
//   - one data-parallel training iteration of GPT-2 XL (batch 1 x 1024 tokens per GPU, fp16,
//     25 MiB buckets, overlapped) on 8 .. 1024 GPUs.
// Each case runs in a child process, so its peak resident memory (ru_maxrss) is its own.
//
//   build/bench/collective_scale [--gpus 8,64,512,1024,4096,8192] [--algos ring,in-network]
//                                [--ddp-gpus 8,128,1024] [--ddp-algos ring,in-network]

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "drivers/training/ddp_iteration.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "app/paths.hpp"
#include "app/plugins.hpp"
#include "interconnect/collective.hpp"
#include "interconnect/collective_runner.hpp"
#include "interconnect/system_spec.hpp"
#include "interconnect/topology.hpp"
#include "models/gpu.hpp"
#include "models/kernel_cost.hpp"
#include "workloads/gradient_buckets.hpp"
#include "workloads/lowering.hpp"
#include "workloads/model_zoo.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

struct Case {
  bool ddp;
  int gpus;
  std::string algo;
};

// Runs in the child: simulates one case and prints "simulated_ms wall_s pieces_or_events".
void run_case(const Case& c) {
  sim::PluginCatalog catalog;
  app::register_all_plugins(catalog);
  const auto t0 = Clock::now();
  const auto spec = interconnect::SystemSpec::load(app::config_loader(), "dgx-h100",
                                                   {fmt::format("nodes={}", c.gpus / 8)});
  auto cost = models::kernel_costs(catalog).create(
      "roofline", sim::Config::empty(sim::SourcePos{"bench"}, "cost"));
  auto algo = interconnect::collectives(catalog).create(
      c.algo, sim::Config::empty(sim::SourcePos{"bench"}, "algo"));
  double simulated_ms = 0;
  std::uint64_t work = 0;
  if (!c.ddp) {
    drivers::System system(spec, drivers::SystemOptions{1, cost.get()});
    interconnect::CollectiveRunner runner(system.sim(), system.topology(), &system.gpu());
    runner.run(algo->plan(interconnect::CollectiveOp::all_reduce, system.topology()),
               64.0 * (1 << 20), [&] { simulated_ms = system.sim().now().ms(); });
    work = system.run().events;
  } else {
    const workloads::OpGraph g = workloads::make_model(
        "gpt2_xl",
        {.batch = 1, .dtype = workloads::DType::fp16, .training = true, .sequence = 1024});
    const workloads::TaskGraph tg = workloads::lower_graph(g, spec.gpu.lowering(workloads::DType::fp16));
    std::vector<workloads::Phase> phases;
    for (const auto& op : g.ops()) phases.push_back(op.phase);
    const auto buckets = workloads::gradient_buckets(g, 25 << 20);
    const auto eager = schedulers::launch::launch_policies(catalog).create(
        "eager", sim::Config::empty(sim::SourcePos{"bench"}, "launch"));
    const drivers::DdpRun r =
        drivers::run_ddp(spec, *cost, *algo, tg, phases, buckets, {.launch = eager.get()});
    simulated_ms = r.iteration.ms();
    work = r.run.events;
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%.3f %.3f %llu\n", simulated_ms, wall, static_cast<unsigned long long>(work));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> gpus = split("8,64,512,1024,4096,8192");
  std::vector<std::string> algos = split("ring,hierarchical,in-network");
  std::vector<std::string> ddp_gpus = split("8,128,1024");
  std::vector<std::string> ddp_algos = split("ring,hierarchical,in-network");
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--gpus") gpus = split(argv[i + 1]);
    else if (a == "--algos") algos = split(argv[i + 1]);
    else if (a == "--ddp-gpus") ddp_gpus = split(argv[i + 1]);
    else if (a == "--ddp-algos") ddp_algos = split(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  std::vector<Case> cases;
  for (const auto& a : algos)
    for (const auto& g : gpus) cases.push_back({false, std::atoi(g.c_str()), a});
  for (const auto& a : ddp_algos)
    for (const auto& g : ddp_gpus) cases.push_back({true, std::atoi(g.c_str()), a});

  std::printf("| case | algorithm | GPUs | simulated (ms) | wall (s) | peak RSS (MiB) | wall per GPU (us) | events |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (const Case& c : cases) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    std::fflush(stdout);  // the child must not inherit (and repeat) buffered output
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      dup2(fds[1], STDOUT_FILENO);
      try {
        run_case(c);
      } catch (const std::exception& e) {
        std::printf("error %s\n", e.what());
      }
      std::fflush(stdout);
      _exit(0);
    }
    close(fds[1]);
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    double sim_ms = 0, wall = 0;
    unsigned long long events = 0;
    if (std::sscanf(out.c_str(), "%lf %lf %llu", &sim_ms, &wall, &events) != 3) {
      std::printf("| %s | %s | %d | failed: %s |\n", c.ddp ? "GPT-2 XL DDP iteration" : "64 MiB all-reduce",
                  c.algo.c_str(), c.gpus, out.c_str());
      continue;
    }
    std::printf("| %s | %s | %d | %.3f | %.3f | %.0f | %.1f | %llu |\n",
                c.ddp ? "GPT-2 XL DDP iteration" : "64 MiB all-reduce", c.algo.c_str(), c.gpus,
                sim_ms, wall, static_cast<double>(ru.ru_maxrss) / 1024.0, wall * 1e6 / c.gpus,
                events);
    std::fflush(stdout);
  }
  return 0;
}

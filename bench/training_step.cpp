// A whole training step simulated against the real GPU's clock: ResNet-50 (batch 256, 224x224)
// and, as a stress case, NASNet-A large (batch 64, 331x331), fp16 (mixed-precision training as
// run on an H100: tensor-core convolutions and GEMMs), on h100-sxm, through drivers::run_dnn under
// the `eager`, `graph` and `nimble` launch policies with the pytorch-xeon host costs.
//
// Prints the simulated step time, the wall time to simulate it (policy planning + simulation,
// as drivers::run_dnn does both; the planning alone is printed too, and lowering, done once per
// model, apart) and simulated / wall: above 1, the simulator runs the step faster than the GPU
// would. The fingerprint (every event's time mixed) shows that two builds simulate the same
// schedule. Best of `--repeat` runs.
//
//   build/bench/training_step [--gpu h100-sxm] [--repeat 3] [--models resnet50,nasnet_a_large]
//                             [--policies eager,graph,nimble]

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "drivers/dnn/dnn_run.hpp"
#include "app/paths.hpp"
#include "models/gpu_spec.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "sim/config.hpp"
#include "sim/registry.hpp"
#include "workloads/lowering.hpp"
#include "workloads/model_zoo.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string gpu_name = "h100-sxm";
  int repeat = 3;
  std::vector<std::string> model_list{"resnet50", "nasnet_a_large"};
  std::vector<std::string> policy_names{"eager", "graph", "nimble"};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--gpu"))
      gpu_name = argv[i + 1];
    else if (!std::strcmp(argv[i], "--repeat"))
      repeat = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--models") || !std::strcmp(argv[i], "--policies")) {
      auto& list = argv[i][2] == 'm' ? model_list : policy_names;
      list.clear();
      for (char* p = std::strtok(argv[i + 1], ","); p; p = std::strtok(nullptr, ","))
        list.emplace_back(p);
    }
  }
  try {
    sim::ConfigLoader loader(app::config_search_dirs());
    auto load = [&](const char* folder, const std::string& name) {
      const auto path = loader.find(folder, name);
      if (!path) throw std::runtime_error(fmt::format("no {} preset '{}'", folder, name));
      return sim::Config(loader.load(*path), "");
    };
    const models::GpuSpec spec = models::GpuSpec::from_config(load("gpus", gpu_name));
    const sim::Config host = load("hosts", "pytorch-xeon");
    sim::PluginCatalog catalog;
    models::register_roofline_cost(catalog);
    schedulers::launch::register_launch_policies(catalog);
    const auto cost = models::kernel_costs(catalog).create(
        "roofline", sim::Config(sim::parse_yaml("{}", "roofline"), ""));

    const workloads::LoweringOptions lo = spec.lowering(workloads::DType::fp16);
    fmt::print("GPU {}, fp16 training step, host pytorch-xeon; best of {}\n", spec.name, repeat);
    fmt::print("{:<28} {:>7} {:>8} {:>10} {:>10} {:>11} {:>10} {:>8} {:>8} {:>16}\n", "model",
               "policy", "kernels", "step ms", "wall ms", "wall range", "sim / wall", "M ev/s",
               "plan ms", "fingerprint");
    for (const std::string& m : model_list) {
      workloads::ModelOptions mo;
      mo.batch = m == "resnet50" ? 256 : 64;
      mo.dtype = workloads::DType::fp16;
      mo.training = true;
      const auto t_lower = Clock::now();
      const workloads::TaskGraph graph = workloads::lower_graph(workloads::make_model(m, mo), lo);
      const double lower_s = seconds_since(t_lower);
      const std::string label =
          fmt::format("{} bs{} ({}px)", m, mo.batch, workloads::default_image_size(m));
      for (const std::string& pn : policy_names) {
        const auto policy = schedulers::launch::launch_policies(catalog).create(
            pn, sim::Config(sim::parse_yaml("{}", pn), ""));
        const models::HostCosts costs = models::HostCosts::for_mode(host, policy->host_mode());
        const auto t_plan = Clock::now();
        policy->plan(graph, costs);  // timed apart as well: run_dnn plans again
        const double plan_s = seconds_since(t_plan);
        double best = 1e300, worst = 0;
        drivers::DnnRun run;
        for (int r = 0; r < repeat; ++r) {
          const auto t0 = Clock::now();
          run = drivers::run_dnn(spec, *cost, *policy, costs, graph);
          const double w = seconds_since(t0);
          best = std::min(best, w);
          worst = std::max(worst, w);
        }
        fmt::print(
            "{:<28} {:>7} {:>8} {:>10.3f} {:>10.1f} {:>5.0f}-{:<5.0f} {:>10.3f} {:>8.2f} "
            "{:>8.1f} {:016x}\n",
            label, pn, run.kernels, run.latency.ms(), best * 1e3, best * 1e3, worst * 1e3,
            run.latency.seconds() / best, run.run.events / best / 1e6, plan_s * 1e3, run.run.fingerprint);
      }
      fmt::print("{:<28} lowering (once): {:.1f} ms\n", label, lower_s * 1e3);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "training_step: {}\n", e.what());
    return 1;
  }
}

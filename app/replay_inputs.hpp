#pragma once
// What every trace-replaying command (`replay`, `validate`) takes: the trace, the GPU to
// simulate it on, the system whose network prices its NCCL kernels and the kernel-cost mode,
// declared once on the CLI for both; and the replay built from them.

#include <string>
#include <vector>

#include "sim/registry.hpp"
#include "workloads/kineto_trace.hpp"
#include "workloads/replay_workload.hpp"

namespace CLI {
class App;
}

namespace app {

struct ReplayInputs {
  std::string trace;                     // a Kineto trace: .json or .json.gz
  std::string gpu;                       // a name in configs/gpus, or a GPU yaml
  std::string system;                    // configs/systems: prices NCCL kernels ("": none)
  std::string cost = "trace";            // trace | roofline
  std::vector<std::string> overrides;    // --set gpu.sm_count=100
  std::vector<std::string> cost_params;  // --cost-param k=v
};

// Declares the trace argument and --gpu, --system, --cost, --set, --cost-param on `sub`.
void add_replay_inputs(CLI::App& sub, ReplayInputs& in);

// The trace's replay; with a system, its NCCL kernels priced on that system's network
// (drivers::price_nccl_kernels).
workloads::ReplayWorkload replay_workload(const workloads::kineto::Trace& trace,
                                          const std::string& system, sim::PluginCatalog& catalog);

}  // namespace app

#pragma once
// What every trace-replaying command (`replay`, `validate`) takes: the trace, the GPU to
// simulate it on and the kernel-cost mode, declared once on the CLI for both.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace app {

struct ReplayInputs {
  std::string trace;                     // a Kineto trace: .json or .json.gz
  std::string gpu;                       // a name in configs/gpus, or a GPU yaml
  std::string cost = "trace";            // trace | roofline
  std::vector<std::string> overrides;    // --set gpu.sm_count=100
  std::vector<std::string> cost_params;  // --cost-param k=v
};

// Declares the trace argument and --gpu, --cost, --set, --cost-param on `sub`.
void add_replay_inputs(CLI::App& sub, ReplayInputs& in);

}  // namespace app

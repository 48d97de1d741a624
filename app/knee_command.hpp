#pragma once
// `warpsim knee`: a DNN's inference latency against the share of the GPU it may use (an MPS
// client's active-thread percentage, modelled as a cap on the SMs its CTAs occupy), per batch
// size, and the knee: the smallest share within `within` of the whole GPU's latency. The curve
// comes from the GPU model alone (wave quantization of each kernel's CTAs over the SMs it may
// use, and the DRAM bandwidth those SMs can draw), on an ideal host.

#include <ostream>
#include <string>
#include <vector>

#include "app/command.hpp"
#include "sim/registry.hpp"

namespace app {

struct KneeOptions {
  std::string gpu;                     // a name in configs/gpus, or a GPU yaml
  std::string model;                   // a model-zoo name
  std::string batches = "1";           // "1,8,32"
  std::string dtype = "fp32";
  int step = 10;                       // GPU% between points
  std::string within = "10%";          // the knee: latency within this of the whole GPU's
  std::vector<std::string> overrides;  // --set gpu.sm_count=...
  std::string out;                     // a folder for knee.csv and metrics.json ("": none)
};

int knee_command(const KneeOptions& opts, sim::PluginCatalog& catalog, std::ostream& out);

Command add_knee_command(CLI::App& cli);

}  // namespace app

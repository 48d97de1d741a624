#pragma once
// `warpsim knee`: drivers::knee_curve for a zoo model at each batch size, on an ideal host (the
// curve is the GPU model's alone: wave quantization of each kernel's CTAs over the SMs it may
// use, and the DRAM bandwidth those SMs can draw), printed, and written with --out.

#include <ostream>
#include <string>
#include <vector>

#include "app/command.hpp"
#include "sim/registry.hpp"

namespace app {

struct KneeOptions {
  std::string gpu;                     // a name in configs/gpus, or a GPU yaml
  std::string model;                   // a model-zoo name
  std::vector<int> batches = {1};      // --batch 1,8,32
  std::string dtype = "fp32";
  int step = 10;                       // GPU% between points
  std::string within = "10%";          // the knee: latency within this of the whole GPU's
  std::vector<std::string> overrides;  // --set gpu.sm_count=...
  std::string out;                     // a folder for knee.csv and metrics.json ("": none)
};

int knee_command(const KneeOptions& opts, sim::PluginCatalog& catalog, std::ostream& out);

Command add_knee_command(CLI::App& cli);

}  // namespace app

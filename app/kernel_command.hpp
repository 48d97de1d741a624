#pragma once
// `warpsim kernel`: one op (a GEMM, a convolution, an elementwise op, ...) lowered to the kernels
// a library would launch, each run alone on one simulated GPU, and explained: launch shape,
// occupancy and what limits it, waves, FLOPs and DRAM bytes, which roofline bound applies, the
// simulated time and how close it comes to the GPU's achievable peaks. docs/kernel-command.md
// shows the output.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "app/command.hpp"
#include "sim/registry.hpp"

namespace app {

struct KernelOptions {
  std::string gpu;          // a name in configs/gpus, or a path to a GPU yaml
  std::string op = "gemm";  // gemm | conv | depthwise_conv | pool_max | pool_avg | elementwise
  std::string dtype = "fp16";
  std::string cost = "roofline";       // a `kernel-cost` plugin
  std::vector<std::string> overrides;  // --set gpu.sm_count=100 ("gpu." may be left out)
  // The shape. Unset: the op's default; an option the op does not take is an error.
  std::optional<std::int64_t> m, n, k;  // gemm (batch: batched GEMM)
  std::optional<std::int64_t> batch, in_channels, out_channels, size, kernel, stride, padding;
  std::optional<std::int64_t> elements;  // elementwise
  std::optional<std::string> function;   // elementwise: add, mul, ...
  bool json = false;                     // one JSON object instead of the text report
  // How a GEMM's or convolution's algorithm (tile, split-K) is picked: "heuristic" (the
  // lowering's rule, what every experiment uses) or "fastest" (each candidate priced on the
  // GPU model, the fastest kept: an autotuning library).
  std::string select = "heuristic";
};

// Prints the report to `out` and returns the exit code (0). Bad input (an unknown GPU, op,
// dtype or cost model, a size <= 0, a shape that does not fit) throws sim::InputError.
int kernel_command(const KernelOptions& opts, sim::PluginCatalog& catalog, std::ostream& out);

// Declares `warpsim kernel` on the CLI.
Command add_kernel_command(CLI::App& cli);

}  // namespace app

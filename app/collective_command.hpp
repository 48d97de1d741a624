#pragma once
// `warpsim collective`: one collective operation on a simulated system, timed like nccl-tests
// (size, count, type, redop, time, algbw, busbw), for one size or a sweep of sizes, so results
// compare line by line with a real nccl-tests log. docs/collectives.md shows the output.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "app/command.hpp"
#include "sim/registry.hpp"

namespace app {

struct CollectiveOptions {
  std::string system;                  // a name in configs/systems, or a system yaml
  std::string op = "all_reduce";
  std::string algo = "ring";           // a `collective` plugin
  std::string bytes;                   // one size ("64MiB"), or
  std::string min_bytes, max_bytes;    // a sweep from min to max,
  double factor = 2;                   // multiplying by factor
  int nodes = 0;                       // 0: the preset's
  std::vector<std::string> overrides;  // --set node.link.bandwidth=...
  bool network_only = false;           // no GPU model: kernels do not run
  bool json = false;
  std::string timeline;                // Chrome/Perfetto trace of the last size, if given
  std::string dtype = "float";         // nccl-tests' -d: the count column's element type
  std::string redop = "sum";           // nccl-tests' -o: the reduction of reducing collectives
  int gpus_per_thread = 1;             // nccl-tests' -g: GPUs one host thread launches on
};

int collective_command(const CollectiveOptions& opts, sim::PluginCatalog& catalog,
                       std::ostream& out);

Command add_collective_command(CLI::App& cli);

}  // namespace app

#pragma once
// One collective measured the way nccl-tests measures it: a fresh system per message size
// (nothing carries over), the time from start to the last rank done, algbw = bytes / time and
// busbw = algbw x the operation's bus factor. Shared by `warpsim collective` and the card-7
// experiment's size sweep.

#include <cstdint>
#include <string>
#include <vector>

#include "drivers/system.hpp"
#include "interconnect/collective.hpp"
#include "interconnect/system_spec.hpp"
#include "models/kernel_cost.hpp"
#include "sim/time.hpp"
#include "sim/timeline.hpp"

namespace drivers {

struct CollectiveTiming {
  sim::Time time;
  double algbw_gbps = 0, busbw_gbps = 0;
  std::string protocol;  // the one the collective used (ll, ll128, simple)
  RunSummary run;
};

// `cost` null: network only (no GPU model, the collective kernels take no SMs). `timeline`: the
// collective's pieces, and the GPU's kernels when there is a GPU model. `gpus_per_thread` is
// nccl-tests' -g: one host thread launches the collective on that many GPUs one after another,
// so the last rank starts (g - 1) kernel launches (the GPU's launch_latency) after the first
// and every rank waits for it.
CollectiveTiming measure_collective(const interconnect::SystemSpec& system,
                                    const models::KernelCost* cost,
                                    const interconnect::Collective& algorithm,
                                    interconnect::CollectiveOp op,
                                    std::uint64_t bytes, sim::TimelineWriter* timeline = nullptr,
                                    int gpus_per_thread = 1);

// lo, lo x factor, ... up to hi (nccl-tests' -b/-e/-f). Needs 0 < lo <= hi and factor > 1.
std::vector<std::uint64_t> geometric_sizes(std::uint64_t lo, std::uint64_t hi, double factor);

}  // namespace drivers

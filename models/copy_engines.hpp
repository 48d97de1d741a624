#pragma once
// The GPU's copy engines: cudaMemcpy and cudaMemset run here, on no SM (a copy never waits for
// CTA room, and takes none from kernels), drawing DRAM bandwidth through the GPU's DRAM
// FairShare like the kernels do, so copies and kernels slow each other down.
//
// A copy's time is its cost model's work as for a one-CTA kernel that never leaves the engine:
// the dispatch cost and fixed latency, then its DRAM bytes at its DRAM share (at least one DRAM
// latency when it moves any). Host copies (no DRAM bytes in the cost) take their fixed time.

#include <cstdint>
#include <functional>
#include <vector>

#include "models/gpu_spec.hpp"
#include "models/kernel_cost.hpp"
#include "sim/fair_share.hpp"
#include "sim/progress.hpp"
#include "sim/simulator.hpp"
#include "sim/slots.hpp"

namespace models {

class CopyEngines {
 public:
  // `dram`/`dram_res`: the GPU's DRAM share solver; `shares_changed` asks the GPU to solve it
  // at this instant and then call retime().
  CopyEngines(sim::Simulator& sim, const GpuSpec& spec, sim::FairShare& dram,
              sim::FairShare::ResourceId dram_res, std::function<void()> shares_changed);

  // Starts a copy of `work` now; `on_done` when its bytes are through and the kernel overhead
  // (GpuSpec::kernel_overhead: completion is signalled like a kernel's) has passed.
  void start(const CtaWork& work, std::function<void()> on_done);
  // After the DRAM shares were solved: copies whose share changed are re-timed.
  void retime();

 private:
  struct Copy {
    CtaWork work;
    std::function<void()> on_done;
    sim::FairShare::FlowId flow = 0;
    bool has_flow = false;
    double rate = 0;      // DRAM bytes/s it gets now
    sim::Progress run;  // starts after the dispatch cost
    bool active = false;
  };
  void time(std::uint32_t id);
  void finish(std::uint32_t id);

  sim::Simulator& sim_;
  const GpuSpec& spec_;
  sim::FairShare& dram_;
  sim::FairShare::ResourceId dram_res_;
  std::function<void()> shares_changed_;
  sim::Slots<Copy> copies_;
};

}  // namespace models

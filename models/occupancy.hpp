#pragma once
// Occupancy: how many CTAs of a launch shape fit on one SM, which per-SM limits set that number,
// and, when none fits, why. The one place the SM's allocation rules live (registers are
// allocated per warp in units of 256); the dispatcher and `warpsim kernel` both ask here.

#include <string>
#include <vector>

#include "models/gpu_spec.hpp"
#include "workloads/kernel.hpp"

namespace models {

struct CtaFootprint {
  int threads = 0;
  int warps = 0;
  int registers = 0;  // as allocated
  std::int64_t shared = 0;
};

CtaFootprint footprint(const workloads::KernelDesc& k);

struct Occupancy {
  int ctas_per_sm = 0;               // 0: the kernel cannot run on this GPU
  std::vector<std::string> limits;   // the resources at the minimum: threads, warps, registers,
                                     // shared memory, CTA slots
  std::string cannot_run;            // why not, when ctas_per_sm == 0
};

Occupancy occupancy(const GpuSpec& gpu, const workloads::KernelDesc& k);

inline int ctas_per_sm(const GpuSpec& gpu, const workloads::KernelDesc& k) {
  return occupancy(gpu, k).ctas_per_sm;
}

// The SMs one wave of the grid fills: its CTAs over what an empty SM holds of them, at most all
// of the GPU's and at least one.
int one_wave_sms(const GpuSpec& gpu, const workloads::KernelDesc& k);

}  // namespace models

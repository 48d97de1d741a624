#pragma once
// How processes share one GPU -- the three modes NVIDIA GPUs offer, as the GPU model runs them:
//   time-slicing  each process is a context of its own; contexts take the GPU in turns of a
//                 time slice, with a context-switch cost between turns, and kernels of
//                 different contexts never co-run (Gpu::time_slice);
//   mps           the processes are clients of one MPS server: their kernels co-run, and each
//                 client's CTAs are capped to its active-thread percentage of the SMs (an SM
//                 mask per client, mps_masks); L2/DRAM bandwidth is split among co-running
//                 kernels by the GPU model's fair-share solver;
//   mig           the GPU is split into instances (profiles 1g..7g): SMs, memory size, L2 and
//                 DRAM bandwidth slices of their own, fully isolated -- one GPU model each
//                 (mig_instance_spec), placed without overlap (MigLayout).
// The parameters live in each GPU preset's `sharing:` map, each with its source.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "sim/registry.hpp"
#include "sim/time.hpp"

namespace models {

struct GpuSpec;

// The SMs a kernel's context may use (MPS / partitioning). Empty: all SMs.
using SmMask = std::vector<bool>;

// How many SMs `mask` lets a kernel use on a GPU of `sm_count` SMs.
inline int sms_in(const SmMask& mask, int sm_count) {
  return mask.empty() ? sm_count : static_cast<int>(std::count(mask.begin(), mask.end(), true));
}

enum class SharingMode { time_slicing, mps, mig };

// "time-slicing" | "mps" | "mig"; nullopt for anything else.
std::optional<SharingMode> parse_sharing_mode(const std::string& name);
std::string to_string(SharingMode mode);

// A MIG GPU instance profile (NVIDIA MIG User Guide, "Supported MIG Profiles").
struct MigProfile {
  std::string name;         // 1g.5gb ...
  int compute_slices = 1;   // of the GPU's MigGeometry::compute_slices
  int memory_slices = 1;    // of MigGeometry::memory_slices: memory size, L2 and DRAM bandwidth
  int sms = 0;              // SMs the instance exposes
  std::vector<int> starts;  // memory slices an instance of it may start at
};

struct MigGeometry {
  int compute_slices = 7;
  int memory_slices = 8;
  std::vector<MigProfile> profiles;  // empty: the GPU has no MIG
  const MigProfile* find(const std::string& name) const;
  // The profile, or std::invalid_argument "the GPU has no MIG profile 'x' (it has ...)".
  const MigProfile& at(const std::string& name) const;
  std::string names() const;  // "1g.5gb, 2g.10gb, ..." for messages
};

// Time slicing between contexts (processes without MPS).
struct TimeSlicing {
  sim::Time slice;          // a context's turn while others wait
  sim::Time context_switch; // the GPU idle between two contexts' turns
};

// What a GPU preset's `sharing:` map says.
struct SharingSpec {
  TimeSlicing time_slicing;
  MigGeometry mig;
  static const sim::ParamSchema& schema();          // the keys under `sharing:`
  static SharingSpec from_config(const sim::Config& c);  // `sharing:` of a GPU preset
};

// One MIG instance of a layout: its profile and the memory slice it starts at.
struct MigInstance {
  const MigProfile* profile = nullptr;
  int start = 0;
};

// MIG instances by profile name, in order. `starts[i]` < 0 (or absent): any start of the
// profile at which, with the others, no memory slices overlap (searched depth first, as
// nvidia-smi's placement would find one). Throws std::invalid_argument naming the problem: a
// profile the GPU lacks, a start the profile does not allow, fixed instances that overlap,
// more compute slices than the GPU has, or instances that fit at no placement.
std::vector<MigInstance> mig_layout(const MigGeometry& geometry,
                                    const std::vector<std::string>& profiles,
                                    const std::vector<int>& starts = {});

// The GPU a MIG instance looks like: its SMs, and its memory slices' share of memory size, L2
// size and DRAM and L2 bandwidth. Per-SM limits, clocks and launch costs are the GPU's.
GpuSpec mig_instance_spec(const GpuSpec& gpu, const MigGeometry& geometry,
                          const MigProfile& profile);

// The SMs `percent`% of a GPU of `sm_count` SMs amounts to: rounded, at least one.
int sms_for_percent(double percent, int sm_count);
// A mask of the GPU's first `sms` SMs; empty (every SM) when `sms` is 0 or all of them.
SmMask first_sms(int sms, int sm_count);

// MPS clients' SM caps: client i may place CTAs on round(percent[i]% of the SMs) SMs (at least
// one), placed one after another from SM 0 and wrapping around, so caps that sum to at most
// 100% are disjoint and larger ones overlap as little as a fixed placement can. 100%: an empty
// mask (every SM). Percentages outside (0, 100] throw std::invalid_argument.
std::vector<SmMask> mps_masks(const std::vector<double>& percents, int sm_count);

}  // namespace models

#pragma once
// Serves a task set of periodic inference jobs on one GPU with oversubscribed unified memory,
// under a sharing policy: the applications' weights and activations are managed allocations,
// every kernel's CTAs touch their operands' ranges (so demand paging, eviction and thrashing
// happen in models/memory as the GPU runs), and each application runs its jobs layer by layer
// on its SM mask, in groups when the policy batches. Each application is a process: a host
// thread and stream of its own (a HostRuntime); the host is ideal unless ServeOptions::host
// names one.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "drivers/inference/model_library.hpp"
#include "drivers/system.hpp"
#include "models/gpu_spec.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "models/memory/unified_memory.hpp"
#include "schedulers/sharing/sharing_policy.hpp"
#include "sim/timeline.hpp"
#include "workloads/task_set.hpp"

namespace drivers {

using schedulers::sharing::SharingPlan;
using schedulers::sharing::SharingPolicy;

struct ServeOptions {
  double oversubscription = 1.0;       // working set / device frames
  // Eviction granularity: a basic block or a VA block.
  std::uint64_t chunk_bytes = models::memory::kVaBlockBytes;
  bool prefetch_weights = false;        // cudaMemPrefetchAsync of each app's weights at start
  bool read_mostly_weights = false;     // cudaMemAdviseSetReadMostly on the weights
  bool reuse_activations = false;       // activation arena by liveness (else a buffer per blob)
  int sms = 0;  // SMs the task set may use, the GPU's first n (0: all); the others stay idle
  models::HostCosts host = models::HostCosts::ideal();  // per-op work and launch costs
  sim::TimelineWriter* timeline = nullptr;  // the GPU's SMs and every application's stream
};

struct ServeResult {
  // Every job: completion - release, or for a dropped job the time it waited until it was
  // dropped (its relative deadline, a lower bound of what it would have taken).
  std::vector<double> response_ms;
  std::uint64_t jobs = 0, completed = 0, dropped = 0, late = 0;
  std::uint64_t groups = 0;  // runs started: a group of one or more jobs of one app
  // Jobs per run (1: no batch formed); every run started has completed by the time it is read.
  double mean_group() const {
    return groups ? static_cast<double>(completed) / static_cast<double>(groups) : 0.0;
  }
  double mean_ms = 0, p99_ms = 0, miss_rate = 0;
  models::memory::MemoryStats memory;
  std::uint64_t frames = 0, working_set_chunks = 0;
  std::uint64_t activation_bytes = 0;  // of every app's activation allocation
  struct PerTask {
    std::uint64_t jobs = 0, dropped = 0, late = 0;
    double sum_ms = 0;  // of its response times (dropped: until dropped)
  };
  std::vector<PerTask> tasks;
  std::vector<int> layer_batches;  // sub-batch sizes the policy chose, for inspection
  SharingPlan plan;                // SM masks and page quotas the policy gave the apps
  double host_busy_s = 0;  // the apps' host threads' busy time, summed
  RunSummary run;
};

ServeResult serve(const models::GpuSpec& gpu, const models::KernelCost& cost,
                  const models::memory::UvmParams& uvm,
                  const models::memory::EvictionPolicy& eviction,
                  const models::memory::Prefetcher& prefetcher, const SharingPolicy& policy,
                  const workloads::TaskSet& tasks, const ServeOptions& options,
                  ModelLibrary& library);

}  // namespace drivers

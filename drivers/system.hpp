#pragma once
// The system builder (ns-3's helper idea): one place that turns specs into a simulated system
// -- the Simulator, the flow network, the GPU models each with its HostRuntime, the topology's
// links and switches, the host link and optional unified memory -- so every command and
// experiment assembles the same parts the same way, and a loop that drives work reaches the
// GPUs only through their HostRuntimes. RunSummary is what every run reports of itself.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "interconnect/system_spec.hpp"
#include "interconnect/topology.hpp"
#include "models/gpu.hpp"
#include "models/gpu_sharing.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "models/memory/unified_memory.hpp"
#include "sim/flow_network.hpp"
#include "sim/simulator.hpp"
#include "sim/stats.hpp"
#include "sim/timeline.hpp"

namespace drivers {

// What one simulation did: the same four numbers for every loop.
struct RunSummary {
  std::uint64_t events = 0;
  std::uint64_t fingerprint = 0;  // event-schedule hash (determinism)
  sim::Time simulated;            // the clock when the run ended
  double wall_seconds = 0;        // host time the run took (never part of metrics)
  // Each component's statistics under its hierarchical name (gpu[0].sm_busy, gpu[0].host.busy_s,
  // uvm.faults, sim.events ...): what stats.csv shows of the run.
  std::map<std::string, double> components;
};

struct SystemOptions {
  // GPU models to build. A data-parallel run builds one: ranks are symmetric, so one GPU model
  // stands for all while the links of every rank are simulated.
  int gpu_models = 1;
  const models::KernelCost* cost = nullptr;  // null: no GPU model (network-only timing)
  models::HostCosts host = models::HostCosts::ideal();
  bool host_link = false;  // the GPU's host link (h2d, d2h) as flow resources: UVM, copies
  sim::TimelineWriter* timeline = nullptr;
  // How processes share each GPU (models/gpu_sharing.hpp): their kernels co-run as MPS clients
  // (the default; SM caps are each process's HostRuntime::limit_sms), the GPU time-slices
  // between their contexts, or the GPU is split into MIG instances -- then each instance is a
  // GPU model of its own, gpu(i) is instance i and host(i) its first process (one GPU only).
  models::SharingMode sharing = models::SharingMode::mps;
  std::vector<std::string> mig{};  // the instances' profiles, in order (sharing == mig)
  std::vector<int> mig_starts{};   // their memory-slice starts (absent or < 0: first fit)
};

class System {
 public:
  // No GPU and no topology: a simulator and a flow network for link-level studies, whose links
  // the caller adds.
  System();
  // One GPU on its own (no topology).
  System(const models::GpuSpec& gpu, const SystemOptions& options);
  // A multi-GPU system: its links and switches on the flow network.
  System(const interconnect::SystemSpec& spec, const SystemOptions& options);
  System(const System&) = delete;
  System& operator=(const System&) = delete;
  ~System();

  sim::Simulator& sim() { return sim_; }
  sim::FlowNetwork& network() { return net_; }
  bool has_topology() const { return topology_ != nullptr; }
  interconnect::Topology& topology();
  int gpu_models() const { return static_cast<int>(gpus_.size()); }
  models::Gpu& gpu(int i = 0) { return *gpus_.at(static_cast<std::size_t>(i)); }
  models::Gpu* gpu_or_null() { return gpus_.empty() ? nullptr : gpus_.front().get(); }
  models::HostRuntime& host(int i = 0) { return *hosts_.at(static_cast<std::size_t>(i)); }
  // Another process on GPU `gpu`: a host thread and streams of its own (a tenant of a shared
  // GPU), at `costs`, in a GPU context of its own. Lives as long as the system.
  models::HostRuntime& add_process(int gpu, const models::HostCosts& costs);
  const models::GpuSpec& gpu_spec() const { return gpu_spec_; }
  sim::TimelineWriter* timeline() const { return timeline_; }

  // The host link (needs SystemOptions::host_link). An integrated GPU's "link" is the one DRAM
  // pool both directions share: one resource.
  sim::FlowNetwork::ResourceId h2d() const;
  sim::FlowNetwork::ResourceId d2h() const;
  // Demand-paged unified memory on GPU 0 with `frame_bytes` of device frames.
  models::memory::UnifiedMemory& attach_unified_memory(
      const models::memory::UvmParams& uvm, std::uint64_t frame_bytes, std::uint64_t chunk_bytes,
      const models::memory::EvictionPolicy& eviction,
      const models::memory::Prefetcher& prefetcher);
  models::memory::UnifiedMemory* unified_memory() { return uvm_.get(); }

  // Runs the simulation until no event is left.
  RunSummary run();
  RunSummary summary() const;

  // Each component's statistics under its hierarchical name, as RunSummary::components.
  std::map<std::string, double> component_stats() const;

 private:
  void build_gpus(const SystemOptions& options);

  sim::Simulator sim_;
  sim::FlowNetwork net_;
  models::GpuSpec gpu_spec_;
  std::unique_ptr<interconnect::SystemSpec> spec_;  // own copy: the topology refers to it
  std::unique_ptr<interconnect::Topology> topology_;
  std::vector<std::unique_ptr<models::Gpu>> gpus_;
  std::vector<std::unique_ptr<models::HostRuntime>> hosts_;  // one per GPU, then added processes
  std::vector<int> host_gpu_;                                 // the GPU of each
  bool host_link_ = false;
  sim::FlowNetwork::ResourceId h2d_ = 0, d2h_ = 0;
  std::unique_ptr<models::memory::UnifiedMemory> uvm_;
  sim::TimelineWriter* timeline_ = nullptr;
  double wall_seconds_ = 0;
};

}  // namespace drivers

#pragma once
// Unified memory with demand paging on one GPU: managed allocations in an AddressSpace, a
// device frame pool, the fault buffer and the driver that services it, migrations and
// write-backs as flows over the host link (sim::FlowNetwork, so they share it with memcpys),
// eviction and prefetch plugins, per-application page quotas, explicit prefetch and advice.
//
// It is the Gpu's PagingGate: each kernel registers its footprint -- the byte ranges its
// operands occupy, and whether every CTA reads a range whole (a conv's weights) or the CTAs
// split it among them (activations, a GEMM's weight tiles). A CTA batch touching a missing page
// queues its faults and waits; the driver services one batch of faults at a time (per-batch and
// per-fault costs, then the migration, with evictions written back in parallel), as the
// NVIDIA driver's single fault-servicing thread does; the CTAs resume when all their pages have
// arrived.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/gpu.hpp"
#include "models/memory/address_space.hpp"
#include "models/memory/fault_buffer.hpp"
#include "models/memory/policies.hpp"
#include "sim/config.hpp"
#include "sim/flow_network.hpp"
#include "sim/simulator.hpp"
#include "sim/slots.hpp"
#include "sim/stats.hpp"

namespace models::memory {

// Driver and link costs, from public measurements (configs/uvm/<gpu>.yaml says which).
struct UvmParams {
  std::uint64_t fault_batch = 256;  // faults the driver takes per batch
  sim::Time batch_overhead;         // per batch: fetch and sort the buffer, map, replay
  sim::Time per_fault;              // per fault in a batch: lookup, page-table update
  double migration_bandwidth = 0;   // bytes/s one migration or write-back can reach
  static const sim::ParamSchema& schema();  // a configs/uvm preset's keys (`warpsim list uvm`)
  static UvmParams from_config(const sim::Config& c);
  // What demand paging costs per byte in full fault batches of 4 KiB faults: the driver's
  // per-fault and per-batch work and the migration (an estimate for policies; the model
  // itself times batches as they form).
  double fault_seconds_per_byte() const;
};

struct MemoryStats {
  std::uint64_t faults = 0, fault_batches = 0, prefetch_batches = 0;
  double migrated_bytes = 0;     // over the host link into device frames
  double zero_filled_bytes = 0;  // first-touch chunks populated on the device
  double prefetched_bytes = 0;   // migrated by the prefetcher beyond the faulted chunks
  double evicted_bytes = 0, written_back_bytes = 0;
  double thrashed_bytes = 0;     // migrated again after an eviction
  std::uint64_t migrated_chunks = 0;
  double stall_seconds = 0;      // CTA batches waiting for pages, summed
  std::uint64_t max_used_chunks = 0;  // resident + in flight, the most ever
  std::uint64_t overcommits = 0;      // times resident + in flight exceeded the frames (bug)
  std::map<int, std::uint64_t> faults_by_app;
  std::map<int, double> stall_by_app;
  // Seconds, by (app, kernel name): apps running different models share kernel names.
  std::map<std::pair<int, std::string>, double> stall_by_kernel;

  // One application's faults and stall seconds (0 for an app that never faulted).
  std::uint64_t faults_of(int app) const {
    const auto it = faults_by_app.find(app);
    return it == faults_by_app.end() ? 0 : it->second;
  }
  double stall_of(int app) const {
    const auto it = stall_by_app.find(app);
    return it == stall_by_app.end() ? 0.0 : it->second;
  }

  // Every total, named: faults, fault_batches, prefetch_batches, migrated_mb, zero_filled_mb,
  // prefetched_mb, evicted_mb, written_back_mb, thrashed_mb, stall_s (MB = 10^6 bytes).
  std::vector<std::pair<std::string, double>> totals() const;
};

class UnifiedMemory final : public PagingGate {
 public:
  // Operand ranges of one kernel. With `per_sample` > 0 the range moves with the app's sample
  // window (batched inference runs one batch at a time through buffers sized for the largest).
  // With `stride` > per_sample the operand is `bytes / per_sample` pieces of `per_sample` bytes,
  // one per sample, `stride` apart (a batch gathered from per-job buffers: a cuDNN tensor whose
  // N stride is the job's buffer), and the window moves by `stride`.
  struct Touch {
    std::uint32_t alloc = 0;
    std::uint64_t offset = 0, bytes = 0;
    std::uint64_t per_sample = 0;
    bool split = false;  // CTAs divide the range among them; otherwise each reads all of it
    bool write = false;
    std::uint64_t stride = 0;  // 0: the samples are contiguous (stride = per_sample)
  };

  UnifiedMemory(sim::Simulator& sim, sim::FlowNetwork& link, sim::FlowNetwork::ResourceId h2d,
                sim::FlowNetwork::ResourceId d2h, UvmParams params, std::uint64_t frame_bytes,
                std::uint64_t chunk_bytes, const EvictionPolicy& eviction,
                const Prefetcher& prefetcher);

  AddressSpace& space() { return space_; }
  const AddressSpace& space() const { return space_; }
  std::uint64_t frame_chunks() const { return frames_; }
  // Chunks a touched run of `bytes` from an aligned start comes to hold: whole chunks, rounded
  // out to what the prefetcher migrates beside a fault (tree: a batching app's unused job
  // windows come in with the used one when they share a VA block).
  std::uint64_t chunks_held(std::uint64_t bytes) const;

  void register_kernel(const workloads::KernelDesc& k, int app, std::vector<Touch> touches);
  // The sample window an app's kernels touch from now on (see Touch::per_sample).
  void set_sample_offset(int app, std::uint64_t first_sample);
  // Chunks `app` may hold (0: no quota); it evicts only its own chunks beyond that.
  void set_quota(int app, std::uint64_t chunks);
  // cudaMemPrefetchAsync to the device: `done` runs when the range is resident.
  void prefetch(std::uint32_t alloc, std::uint64_t offset, std::uint64_t bytes,
                std::function<void()> done);

  bool touch(const workloads::KernelDesc& k, std::int64_t first, std::int64_t ctas,
             std::function<void()> resume) override;

  const MemoryStats& stats() const { return stats_; }
  // Nothing queued, nothing in flight, nobody waiting: every fault was serviced.
  bool idle() const { return buffer_.empty() && !busy_ && waiting_ == 0; }

 private:
  struct Footprint {
    int app = 0;
    std::vector<Touch> touches;
  };
  struct Waiter {
    std::function<void()> resume;
    std::uint32_t requests = 0;
    sim::Time since;
    int app = -1;
    const workloads::KernelDesc* kernel = nullptr;  // null: an explicit prefetch
  };
  std::uint32_t new_waiter(std::function<void()> resume, int app,
                           const workloads::KernelDesc* kernel = nullptr);
  void service();
  void make_room(const FaultBatch& b);
  void complete(FaultBatch b);
  // Recency in driver epochs: an epoch ends when a fault batch completes. Victims are only
  // chosen when a batch forms, so ordering the uses within one epoch would change no choice
  // worth its cost; touches within an epoch of a range already stamped in it cost nothing.
  std::uint64_t stamp() const { return epoch_; }

  sim::Simulator& sim_;
  sim::FlowNetwork& link_;
  sim::FlowNetwork::ResourceId h2d_, d2h_;
  UvmParams params_;
  AddressSpace space_;
  std::uint64_t frames_;
  const EvictionPolicy& eviction_;
  const Prefetcher& prefetcher_;
  FaultBuffer buffer_;
  // Looked up by the kernel's address only; never iterated, so no order depends on it.
  std::unordered_map<const workloads::KernelDesc*, Footprint> footprints_;
  std::vector<std::uint64_t> sample_offset_;
  std::map<int, std::uint64_t> quota_;
  sim::Slots<Waiter> waiters_;
  std::uint64_t waiting_ = 0;
  std::uint64_t epoch_ = 1;
  bool busy_ = false;
  double pending_writeback_ = 0;  // dirty bytes make_room evicted for the batch being formed
  MemoryStats stats_;
};

}  // namespace models::memory

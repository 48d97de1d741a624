#pragma once
// The GPU's replayable fault buffer as the UVM driver sees it: faulting accesses queue in
// arrival order; the driver takes them in batches (uvm_perf_fault_batch_count faults), services
// a batch, replays, takes the next. A request is a run of 4 KB pages one CTA batch touched and
// found missing. Pages that became resident or in flight since the request was queued are
// satisfied without a fault (the driver drops duplicate faults the same way).

#include <cstdint>
#include <deque>
#include <vector>

#include "models/memory/address_space.hpp"

namespace models::memory {

struct FaultRequest {
  std::uint32_t alloc = 0;
  std::uint64_t page_lo = 0, page_hi = 0;  // pages [lo, hi) of the allocation
  bool write = false;
  bool prefetch = false;  // an explicit cudaMemPrefetchAsync: migrated without faults
  std::uint32_t waiter = 0;
};

struct FaultBatch {
  struct Run {
    ChunkRange chunks;
    bool write;
    std::uint64_t faults = 0;  // pages of it that faulted (0: prefetched)
  };
  std::vector<Run> runs;                // chunks now in flight
  std::uint64_t faults = 0;             // pages that faulted
  std::uint64_t thrashed_chunks = 0;    // of the runs, chunks evicted before
  std::vector<std::uint32_t> finished;  // waiters of requests fully satisfied by this batch
  bool prefetch = false;
};

class FaultBuffer {
 public:
  void push(const FaultRequest& r) { queue_.push_back(r); }
  bool empty() const { return queue_.empty(); }
  std::size_t size() const { return queue_.size(); }
  // The next batch: up to `max_faults` faulting pages (an explicit prefetch is a batch of its
  // own, bounded by chunks only), at most `max_chunks` chunks, marked in flight in `space`.
  FaultBatch pull(AddressSpace& space, std::uint64_t max_faults, std::uint64_t max_chunks);

 private:
  std::deque<FaultRequest> queue_;
};

}  // namespace models::memory

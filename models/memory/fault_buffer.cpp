#include "models/memory/fault_buffer.hpp"

#include <algorithm>

namespace models::memory {

FaultBatch FaultBuffer::pull(AddressSpace& space, std::uint64_t max_faults,
                             std::uint64_t max_chunks) {
  FaultBatch b;
  const std::uint64_t ppc = space.pages_per_chunk();
  std::uint64_t chunks = 0;
  while (!queue_.empty()) {
    FaultRequest& r = queue_.front();
    const ChunkRange wanted{r.alloc, r.page_lo / ppc, (r.page_hi + ppc - 1) / ppc};
    const ChunkRange gap = space.next_gap(wanted);
    if (gap.empty()) {  // every page of the request is resident or on its way
      b.finished.push_back(r.waiter);
      queue_.pop_front();
      continue;
    }
    // Budget checked after the satisfied requests are drained, so they finish with this batch.
    if (chunks >= max_chunks || b.faults >= max_faults) break;
    if (!b.runs.empty() && r.prefetch != b.prefetch) break;  // prefetches travel alone
    const std::uint64_t first = std::max(r.page_lo, gap.lo * ppc);
    std::uint64_t take = std::min(r.page_hi, gap.hi * ppc) - first;
    if (!r.prefetch) take = std::min(take, max_faults - b.faults);
    ChunkRange run{r.alloc, first / ppc, (first + take + ppc - 1) / ppc};
    if (run.size() > max_chunks - chunks) {
      run.hi = run.lo + (max_chunks - chunks);
      take = std::min(take, run.hi * ppc - first);
    }
    b.thrashed_chunks += space.evicted_before(run);
    space.begin_migration(run);
    b.runs.push_back({run, r.write, r.prefetch ? 0 : take});
    chunks += run.size();
    b.prefetch = r.prefetch;
    if (!r.prefetch) b.faults += take;
    r.page_lo = first + take;
  }
  return b;
}

}  // namespace models::memory

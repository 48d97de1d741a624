#pragma once
// The managed virtual address space of one GPU: allocations (cudaMallocManaged) made of chunks,
// the unit the driver migrates and evicts (64 KB basic blocks or 2 MB VA blocks). Residency is
// kept as extents -- runs of resident chunks that were last used together -- never as a flag
// per 4 KB page, so touching gigabytes costs a few map operations, not a page-table scan.
//
// Each extent carries its eviction stamp (the order the eviction policy ranks it in) and a dirty
// bit. Two ordered indexes over the stamps give the least-recently-stamped extent of the whole
// GPU and of one application (per-app quotas evict only within the app).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "models/memory/interval_set.hpp"

namespace models::memory {

inline constexpr std::uint64_t kPageBytes = 4096;  // the GPU's small page: the unit of a fault
inline constexpr std::uint64_t kBasicBlockBytes = 64 << 10;  // the driver's migration unit
inline constexpr std::uint64_t kVaBlockBytes = 2 << 20;      // the driver's VA block (prefetch scope)

// The pages [first, last) that bytes [offset, offset + bytes) lie on.
struct PageSpan {
  std::uint64_t first = 0, last = 0;
};
inline PageSpan pages_of(std::uint64_t offset, std::uint64_t bytes) {
  return {offset / kPageBytes, (offset + bytes + kPageBytes - 1) / kPageBytes};
}

struct Allocation {
  std::string name;
  int app = 0;
  std::uint64_t bytes = 0;
  std::uint64_t chunks = 0;
  bool read_mostly = false;  // cudaMemAdviseSetReadMostly: evicting a copy needs no write-back
};

// Chunks [lo, hi) of one allocation.
struct ChunkRange {
  std::uint32_t alloc = 0;
  std::uint64_t lo = 0, hi = 0;
  std::uint64_t size() const { return hi - lo; }
  bool empty() const { return hi <= lo; }
};

struct Evicted {
  ChunkRange range;
  bool dirty = false;
};

class AddressSpace {
 public:
  explicit AddressSpace(std::uint64_t chunk_bytes);

  // A managed allocation of `app`; `host_initialized`: the CPU wrote it first (weights, inputs),
  // so its first GPU touch migrates data rather than zero-filling frames on the device.
  std::uint32_t allocate(std::string name, int app, std::uint64_t bytes, bool host_initialized);
  const Allocation& allocation(std::uint32_t a) const { return allocs_[a].info; }
  Allocation& allocation(std::uint32_t a) { return allocs_[a].info; }
  std::size_t allocation_count() const { return allocs_.size(); }
  std::uint64_t chunk_bytes() const { return chunk_bytes_; }
  std::uint64_t pages_per_chunk() const { return chunk_bytes_ / kPageBytes; }
  // The chunks holding bytes [lo, hi) of an allocation.
  ChunkRange chunks(std::uint32_t a, std::uint64_t byte_lo, std::uint64_t byte_hi) const;

  // The first run of chunks in `r` that is neither resident nor in flight (empty: none).
  ChunkRange next_gap(ChunkRange r) const;
  // Chunks of `r` resident or in flight.
  std::uint64_t covered(ChunkRange r) const;
  // A touch of the resident parts of `r`: a new stamp (when the policy re-ranks on use) and,
  // for a write, the dirty bit.
  void touch(ChunkRange r, std::optional<std::uint64_t> stamp, bool write);
  // Chunks being migrated in (frames already taken): not resident until end_migration.
  void begin_migration(ChunkRange r);
  void end_migration(ChunkRange r, std::uint64_t stamp, bool dirty);
  // Evicts up to `chunks` chunks, lowest stamp first, of `app` only (app >= 0) or of anyone.
  // Returns how many it evicted; the ranges go to `out`.
  std::uint64_t evict(std::uint64_t chunks, int app, std::vector<Evicted>& out);

  std::uint64_t resident_chunks() const { return resident_; }
  std::uint64_t resident_chunks(int app) const;
  std::uint64_t in_flight_chunks() const { return in_flight_; }
  // History: chunks of `r` holding data somewhere (a migration moves them), and evicted before
  // (a fault on them is thrashing).
  std::uint64_t populated(ChunkRange r) const;
  std::uint64_t evicted_before(ChunkRange r) const;

 private:
  struct Extent {
    std::uint64_t hi;
    std::uint64_t stamp;
    bool dirty;
  };
  struct Alloc {
    Allocation info;
    std::map<std::uint64_t, Extent> resident;  // lo -> extent
    IntervalSet in_flight, populated, evicted;
  };
  void insert(std::uint32_t a, std::uint64_t lo, Extent e);
  void erase(std::uint32_t a, std::map<std::uint64_t, Extent>::iterator it);
  void coalesce(std::uint32_t a, std::uint64_t lo);

  std::uint64_t chunk_bytes_;
  std::vector<Alloc> allocs_;
  std::set<std::tuple<std::uint64_t, std::uint32_t, std::uint64_t>> by_stamp_;  // stamp, alloc, lo
  std::set<std::tuple<int, std::uint64_t, std::uint32_t, std::uint64_t>> by_app_;
  std::map<int, std::uint64_t> resident_of_app_;
  std::uint64_t resident_ = 0, in_flight_ = 0;
};

}  // namespace models::memory

#include "models/memory/address_space.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "sim/invariant.hpp"

namespace models::memory {

AddressSpace::AddressSpace(std::uint64_t chunk_bytes) : chunk_bytes_(chunk_bytes) {
  if (chunk_bytes_ < kPageBytes || chunk_bytes_ % kPageBytes != 0)
    throw std::invalid_argument("chunk size must be a multiple of the 4 KB page");
}

std::uint32_t AddressSpace::allocate(std::string name, int app, std::uint64_t bytes,
                                     bool host_initialized) {
  Alloc a;
  a.info.name = std::move(name);
  a.info.app = app;
  a.info.bytes = bytes;
  a.info.chunks = (bytes + chunk_bytes_ - 1) / chunk_bytes_;
  if (host_initialized) a.populated.add(0, a.info.chunks);
  allocs_.push_back(std::move(a));
  return static_cast<std::uint32_t>(allocs_.size() - 1);
}

ChunkRange AddressSpace::chunks(std::uint32_t a, std::uint64_t byte_lo,
                                std::uint64_t byte_hi) const {
  const std::uint64_t n = allocs_[a].info.chunks;
  ChunkRange r{a, std::min(byte_lo / chunk_bytes_, n),
               std::min((byte_hi + chunk_bytes_ - 1) / chunk_bytes_, n)};
  return r;
}

ChunkRange AddressSpace::next_gap(ChunkRange r) const {
  const Alloc& a = allocs_[r.alloc];
  std::uint64_t x = r.lo;
  while (x < r.hi) {
    // Skip resident extents and in-flight runs until neither covers x.
    auto it = a.resident.upper_bound(x);
    if (it != a.resident.begin() && std::prev(it)->second.hi > x) {
      x = std::prev(it)->second.hi;
      continue;
    }
    const std::uint64_t y = a.in_flight.skip(x);
    if (y != x) {
      x = y;
      continue;
    }
    std::uint64_t end = it == a.resident.end() ? r.hi : std::min(r.hi, it->first);
    end = std::min(end, a.in_flight.next_start(x, r.hi));
    return {r.alloc, x, end};
  }
  return {r.alloc, r.hi, r.hi};
}

std::uint64_t AddressSpace::covered(ChunkRange r) const {
  const Alloc& a = allocs_[r.alloc];
  std::uint64_t n = a.in_flight.overlap(r.lo, r.hi);
  auto it = a.resident.upper_bound(r.lo);
  if (it != a.resident.begin()) --it;
  for (; it != a.resident.end() && it->first < r.hi; ++it)
    if (it->second.hi > r.lo) n += std::min(r.hi, it->second.hi) - std::max(r.lo, it->first);
  return n;
}

void AddressSpace::insert(std::uint32_t a, std::uint64_t lo, Extent e) {
  if (!allocs_[a].resident.emplace(lo, e).second)
    throw std::logic_error("address space: chunk made resident twice");
  by_stamp_.emplace(e.stamp, a, lo);
  by_app_.emplace(allocs_[a].info.app, e.stamp, a, lo);
}

void AddressSpace::erase(std::uint32_t a, std::map<std::uint64_t, Extent>::iterator it) {
  by_stamp_.erase({it->second.stamp, a, it->first});
  by_app_.erase({allocs_[a].info.app, it->second.stamp, a, it->first});
  allocs_[a].resident.erase(it);
}

// Merges the extent at `lo` with contiguous neighbours of the same stamp and dirtiness, so
// repeated touches of one tensor keep one extent.
void AddressSpace::coalesce(std::uint32_t a, std::uint64_t lo) {
  auto& res = allocs_[a].resident;
  auto it = res.find(lo);
  if (it == res.end()) return;
  Extent e = it->second;
  std::uint64_t start = lo;
  if (it != res.begin()) {
    auto prev = std::prev(it);
    if (prev->second.hi == lo && prev->second.stamp == e.stamp && prev->second.dirty == e.dirty) {
      start = prev->first;
      erase(a, prev);
    }
  }
  it = res.find(lo);
  auto next = std::next(it);
  if (next != res.end() && next->first == e.hi && next->second.stamp == e.stamp &&
      next->second.dirty == e.dirty) {
    e.hi = next->second.hi;
    erase(a, next);
  }
  erase(a, res.find(lo));
  insert(a, start, e);
}

void AddressSpace::touch(ChunkRange r, std::optional<std::uint64_t> stamp, bool write) {
  Alloc& al = allocs_[r.alloc];
  if (al.info.read_mostly) write = false;
  if (!stamp && !write) return;
  auto it = al.resident.upper_bound(r.lo);
  if (it != al.resident.begin()) --it;
  std::vector<std::uint64_t> touched;
  while (it != al.resident.end() && it->first < r.hi) {
    const std::uint64_t lo = it->first;
    const Extent e = it->second;
    if (e.hi <= r.lo) {
      ++it;
      continue;
    }
    Extent mid{std::min(e.hi, r.hi), stamp.value_or(e.stamp), e.dirty || write};
    const std::uint64_t mid_lo = std::max(lo, r.lo);
    if (mid.stamp == e.stamp && mid.dirty == e.dirty) {
      ++it;
      continue;
    }
    erase(r.alloc, it);
    if (lo < mid_lo) insert(r.alloc, lo, {mid_lo, e.stamp, e.dirty});
    if (e.hi > mid.hi) insert(r.alloc, mid.hi, {e.hi, e.stamp, e.dirty});
    insert(r.alloc, mid_lo, mid);
    touched.push_back(mid_lo);
    it = al.resident.upper_bound(mid_lo);
  }
  for (std::uint64_t lo : touched) coalesce(r.alloc, lo);
}

void AddressSpace::begin_migration(ChunkRange r) {
  allocs_[r.alloc].in_flight.add(r.lo, r.hi);
  in_flight_ += r.size();
}

void AddressSpace::end_migration(ChunkRange r, std::uint64_t stamp, bool dirty) {
  Alloc& a = allocs_[r.alloc];
  a.in_flight.remove(r.lo, r.hi);
  a.populated.add(r.lo, r.hi);
  WARPSIM_INVARIANT(in_flight_ >= r.size(), "a migration ended that never began");
  in_flight_ -= r.size();
  resident_ += r.size();
  resident_of_app_[a.info.app] += r.size();
  insert(r.alloc, r.lo, {r.hi, stamp, dirty && !a.info.read_mostly});
  coalesce(r.alloc, r.lo);
}

std::uint64_t AddressSpace::evict(std::uint64_t chunks, int app, std::vector<Evicted>& out) {
  std::uint64_t done = 0;
  while (done < chunks) {
    std::uint32_t a;
    std::uint64_t lo;
    if (app < 0) {
      if (by_stamp_.empty()) break;
      std::tie(std::ignore, a, lo) = *by_stamp_.begin();
    } else {
      auto it = by_app_.lower_bound({app, 0, 0, 0});
      if (it == by_app_.end() || std::get<0>(*it) != app) break;
      std::tie(std::ignore, std::ignore, a, lo) = *it;
    }
    Alloc& al = allocs_[a];
    auto ext = al.resident.find(lo);
    if (ext == al.resident.end()) throw std::logic_error("address space: eviction index out of step");
    const Extent e = ext->second;
    const std::uint64_t k = std::min(e.hi - lo, chunks - done);
    erase(a, ext);
    if (lo + k < e.hi) insert(a, lo + k, {e.hi, e.stamp, e.dirty});
    out.push_back({{a, lo, lo + k}, e.dirty});
    al.evicted.add(lo, lo + k);
    WARPSIM_INVARIANT(resident_ >= k && resident_of_app_[al.info.app] >= k,
                      "more chunks evicted than were resident");
    resident_ -= k;
    resident_of_app_[al.info.app] -= k;
    done += k;
  }
  return done;
}

std::uint64_t AddressSpace::resident_chunks(int app) const {
  auto it = resident_of_app_.find(app);
  return it == resident_of_app_.end() ? 0 : it->second;
}

std::uint64_t AddressSpace::populated(ChunkRange r) const {
  return allocs_[r.alloc].populated.overlap(r.lo, r.hi);
}

std::uint64_t AddressSpace::evicted_before(ChunkRange r) const {
  return allocs_[r.alloc].evicted.overlap(r.lo, r.hi);
}

}  // namespace models::memory

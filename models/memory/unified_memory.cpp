#include "models/memory/unified_memory.hpp"

#include "sim/params.hpp"

#include <algorithm>
#include <stdexcept>

namespace models::memory {

std::vector<std::pair<std::string, double>> MemoryStats::totals() const {
  return {{"faults", static_cast<double>(faults)},
          {"fault_batches", static_cast<double>(fault_batches)},
          {"prefetch_batches", static_cast<double>(prefetch_batches)},
          {"migrated_mb", migrated_bytes / 1e6},
          {"zero_filled_mb", zero_filled_bytes / 1e6},
          {"prefetched_mb", prefetched_bytes / 1e6},
          {"evicted_mb", evicted_bytes / 1e6},
          {"written_back_mb", written_back_bytes / 1e6},
          {"thrashed_mb", thrashed_bytes / 1e6},
          {"stall_s", stall_seconds}};
}

double UvmParams::fault_seconds_per_byte() const {
  const double page = static_cast<double>(kPageBytes);
  return per_fault.seconds() / page +
         batch_overhead.seconds() / (static_cast<double>(fault_batch) * page) +
         1.0 / migration_bandwidth;
}

const sim::ParamSchema& UvmParams::schema() {
  static const sim::ParamSchema s = sim::schema(R"(
name                | string    |  | the preset's name (for people)
fault_batch         | int       |  | faults the driver takes per batch
batch_overhead      | duration  |  | per batch: fetch and sort the buffer, map, replay
per_fault           | duration  |  | per fault in a batch: lookup, page-table update
migration_bandwidth | bandwidth |  | what one migration or write-back can reach
)");
  return s;
}

UvmParams UvmParams::from_config(const sim::Config& c) {
  const sim::Params r(c, schema());
  UvmParams p;
  r.note("name");
  p.fault_batch = static_cast<std::uint64_t>(r.integer("fault_batch", 1, 1 << 20));
  p.batch_overhead = r.duration("batch_overhead");
  p.per_fault = r.duration("per_fault");
  p.migration_bandwidth = r.bandwidth("migration_bandwidth");
  if (p.migration_bandwidth <= 0) r.value("migration_bandwidth").fail("must be positive");
  return p;
}

UnifiedMemory::UnifiedMemory(sim::Simulator& sim, sim::FlowNetwork& link,
                             sim::FlowNetwork::ResourceId h2d, sim::FlowNetwork::ResourceId d2h,
                             UvmParams params, std::uint64_t frame_bytes,
                             std::uint64_t chunk_bytes, const EvictionPolicy& eviction,
                             const Prefetcher& prefetcher)
    : sim_(sim),
      link_(link),
      h2d_(h2d),
      d2h_(d2h),
      params_(params),
      space_(chunk_bytes),
      frames_(frame_bytes / chunk_bytes),
      eviction_(eviction),
      prefetcher_(prefetcher) {
  if (frames_ < 2)
    throw std::invalid_argument("unified memory needs at least two frames of the chunk size");
}

void UnifiedMemory::register_kernel(const workloads::KernelDesc& k, int app,
                                    std::vector<Touch> touches) {
  for (const Touch& t : touches)
    if (t.alloc >= space_.allocation_count())
      throw std::invalid_argument("kernel footprint names an unknown allocation");
  if (app >= 0 && static_cast<std::size_t>(app) >= sample_offset_.size())
    sample_offset_.resize(static_cast<std::size_t>(app) + 1, 0);
  footprints_[&k] = Footprint{app, std::move(touches)};
}

void UnifiedMemory::set_sample_offset(int app, std::uint64_t first_sample) {
  if (static_cast<std::size_t>(app) >= sample_offset_.size())
    sample_offset_.resize(static_cast<std::size_t>(app) + 1, 0);
  sample_offset_[static_cast<std::size_t>(app)] = first_sample;
}

void UnifiedMemory::set_quota(int app, std::uint64_t chunks) { quota_[app] = chunks; }

std::uint64_t UnifiedMemory::chunks_held(std::uint64_t bytes) const {
  const std::uint64_t chunk = space_.chunk_bytes();
  const std::uint64_t unit = std::max(chunk, prefetcher_.reach_bytes());
  return (bytes + unit - 1) / unit * (unit / chunk);
}

std::uint32_t UnifiedMemory::new_waiter(std::function<void()> resume, int app,
                                        const workloads::KernelDesc* kernel) {
  const std::uint32_t id = waiters_.acquire();
  waiters_[id] = Waiter{std::move(resume), 0, sim_.now(), app, kernel};
  ++waiting_;
  return id;
}

bool UnifiedMemory::touch(const workloads::KernelDesc& k, std::int64_t first, std::int64_t ctas,
                          std::function<void()> resume) {
  auto it = footprints_.find(&k);
  if (it == footprints_.end()) return true;  // not managed memory
  const Footprint& f = it->second;
  const std::uint64_t window =
      f.app >= 0 ? sample_offset_[static_cast<std::size_t>(f.app)] : 0;
  const double total = static_cast<double>(std::max<std::int64_t>(k.ctas(), 1));
  std::uint32_t waiter = ~std::uint32_t{0};
  auto use = [&](const Touch& t, std::uint64_t lo, std::uint64_t hi) {
    if (hi <= lo) return;
    const ChunkRange r = space_.chunks(t.alloc, lo, hi);
    space_.touch(r, eviction_.restamp_on_use() ? std::optional(stamp()) : std::nullopt, t.write);
    if (space_.next_gap(r).empty()) return;
    if (waiter == ~std::uint32_t{0}) waiter = new_waiter(std::move(resume), f.app, &k);
    const PageSpan pages = pages_of(lo, hi - lo);
    buffer_.push({t.alloc, pages.first, pages.last, t.write, false, waiter});
    ++waiters_[waiter].requests;
  };
  for (const Touch& t : f.touches) {
    // [a, b) of the operand's bytes; CTAs in grid order take consecutive slices.
    std::uint64_t a = 0, b = t.bytes;
    if (t.split) {
      const double n = static_cast<double>(t.bytes);
      b = static_cast<std::uint64_t>(n * static_cast<double>(first + ctas) / total);
      a = static_cast<std::uint64_t>(n * static_cast<double>(first) / total);
    }
    if (t.stride <= t.per_sample || t.per_sample == 0) {
      const std::uint64_t base = t.offset + window * t.per_sample;
      use(t, base + a, base + b);
      continue;
    }
    // One piece per sample: the part of [a, b) that falls in each.
    const std::uint64_t base = t.offset + window * t.stride;
    for (std::uint64_t s = a / t.per_sample; s * t.per_sample < b; ++s) {
      const std::uint64_t p0 = s * t.per_sample;
      use(t, base + s * t.stride + (std::max(a, p0) - p0),
          base + s * t.stride + (std::min(b, p0 + t.per_sample) - p0));
    }
  }
  if (waiter == ~std::uint32_t{0}) return true;
  service();
  return false;
}

void UnifiedMemory::prefetch(std::uint32_t alloc, std::uint64_t offset, std::uint64_t bytes,
                             std::function<void()> done) {
  if (alloc >= space_.allocation_count())
    throw std::invalid_argument("prefetch of an unknown allocation");
  const std::uint32_t w = new_waiter(std::move(done), space_.allocation(alloc).app);
  const PageSpan pages = pages_of(offset, bytes);
  buffer_.push({alloc, pages.first, pages.last, false, true, w});
  ++waiters_[w].requests;
  service();
}

void UnifiedMemory::service() {
  if (busy_ || buffer_.empty()) return;
  busy_ = true;
  // Half the frames at most in one batch, so the rest can hold what the batch must not evict.
  const std::uint64_t max_chunks = std::max<std::uint64_t>(1, frames_ / 2);
  FaultBatch b = buffer_.pull(space_, params_.fault_batch, max_chunks);
  if (b.runs.empty()) {  // every request it drained was already satisfied
    sim_.schedule_in(sim::Time::zero(), [this, b = std::move(b)]() mutable { complete(std::move(b)); });
    return;
  }
  std::uint64_t chunks = 0;
  for (const auto& r : b.runs) chunks += r.chunks.size();
  if (!b.prefetch) {
    const std::uint64_t block = std::max<std::uint64_t>(1, kVaBlockBytes / space_.chunk_bytes());
    const std::size_t faulted = b.runs.size();
    for (std::size_t i = 0; i < faulted && chunks < max_chunks; ++i) {
      const ChunkRange wide = prefetcher_.expand(space_, b.runs[i].chunks, block);
      ChunkRange rest{wide.alloc, wide.lo, wide.hi};
      for (ChunkRange g = space_.next_gap(rest); !g.empty() && chunks < max_chunks;
           g = space_.next_gap(rest)) {
        g.hi = std::min(g.hi, g.lo + (max_chunks - chunks));
        space_.begin_migration(g);
        b.runs.push_back({g, false, 0});
        chunks += g.size();
        stats_.prefetched_bytes += static_cast<double>(g.size() * space_.chunk_bytes());
        rest.lo = g.hi;
      }
    }
  }
  make_room(b);
  const double cb = static_cast<double>(space_.chunk_bytes());
  double moved = 0;
  for (const auto& r : b.runs) {
    const std::uint64_t data = space_.populated(r.chunks);
    moved += static_cast<double>(data) * cb;
    stats_.zero_filled_bytes += static_cast<double>(r.chunks.size() - data) * cb;
    stats_.migrated_chunks += data;
  }
  stats_.migrated_bytes += moved;
  stats_.thrashed_bytes += static_cast<double>(b.thrashed_chunks) * cb;
  stats_.faults += b.faults;
  if (b.prefetch)
    ++stats_.prefetch_batches;
  else
    ++stats_.fault_batches;
  for (const auto& r : b.runs)
    if (r.faults > 0) stats_.faults_by_app[space_.allocation(r.chunks.alloc).app] += r.faults;
  const sim::Time cost =
      params_.batch_overhead + sim::Time::ps(params_.per_fault.count() *
                                             static_cast<sim::Time::rep>(b.faults));
  const double written = pending_writeback_;
  pending_writeback_ = 0;
  sim_.schedule_in(cost, [this, b = std::move(b), moved, written]() mutable {
    // The copy engine moves the batch in while evicted dirty chunks go back; the batch is done
    // when both have arrived.
    auto batch = std::make_shared<FaultBatch>(std::move(b));
    auto left = std::make_shared<int>(1 + (moved > 0) + (written > 0));
    auto one_done = [this, batch, left](sim::FlowNetwork::FlowId) {
      if (--*left == 0) complete(std::move(*batch));
    };
    const sim::FlowNetwork::ResourceId in[1] = {h2d_}, out[1] = {d2h_};
    if (moved > 0) link_.start(in, moved, one_done, params_.migration_bandwidth);
    if (written > 0) link_.start(out, written, one_done, params_.migration_bandwidth);
    one_done(0);
  });
}

void UnifiedMemory::make_room(const FaultBatch& b) {
  std::map<int, std::uint64_t> need;
  for (const auto& r : b.runs) need[space_.allocation(r.chunks.alloc).app] += r.chunks.size();
  std::vector<Evicted> out;
  for (const auto& [app, n] : need) {
    auto q = quota_.find(app);
    if (q == quota_.end() || q->second == 0) continue;
    const std::uint64_t held = space_.resident_chunks(app) + n;
    if (held > q->second) space_.evict(held - q->second, app, out);
  }
  const std::uint64_t used = space_.resident_chunks() + space_.in_flight_chunks();
  if (used > frames_) space_.evict(used - frames_, -1, out);
  const double cb = static_cast<double>(space_.chunk_bytes());
  for (const Evicted& e : out) {
    stats_.evicted_bytes += static_cast<double>(e.range.size()) * cb;
    if (e.dirty) {
      stats_.written_back_bytes += static_cast<double>(e.range.size()) * cb;
      pending_writeback_ += static_cast<double>(e.range.size()) * cb;
    }
  }
  const std::uint64_t now_used = space_.resident_chunks() + space_.in_flight_chunks();
  stats_.max_used_chunks = std::max(stats_.max_used_chunks, now_used);
  if (now_used > frames_) ++stats_.overcommits;
}

void UnifiedMemory::complete(FaultBatch b) {
  ++epoch_;
  for (const auto& r : b.runs) space_.end_migration(r.chunks, stamp(), r.write);
  for (std::uint32_t id : b.finished) {
    Waiter& w = waiters_[id];
    if (--w.requests > 0) continue;
    const double stalled = (sim_.now() - w.since).seconds();
    stats_.stall_seconds += stalled;
    stats_.stall_by_app[w.app] += stalled;
    if (w.kernel) stats_.stall_by_kernel[{w.app, w.kernel->name}] += stalled;
    sim_.schedule_in(sim::Time::zero(), std::move(w.resume));
    w.resume = nullptr;
    waiters_.release(id);
    --waiting_;
  }
  busy_ = false;
  service();
}

}  // namespace models::memory

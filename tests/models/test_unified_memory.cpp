// Unified memory with demand paging (models/memory): the address space's extents, the fault
// path through a real Gpu, eviction, write-back, quotas, prefetch, and the invariants.
#include <doctest/doctest.h>

#include <map>

#include <memory>

#include "../support/toy_gpu.hpp"
#include "models/gpu.hpp"
#include "models/kernel_cost.hpp"
#include "models/memory/address_space.hpp"
#include "models/memory/policies.hpp"
#include "models/memory/unified_memory.hpp"
#include "sim/config.hpp"
#include "sim/flow_network.hpp"

using models::memory::AddressSpace;
using models::memory::ChunkRange;
using models::memory::Evicted;
using models::memory::UnifiedMemory;
using sim::Time;

namespace {

constexpr std::uint64_t kMiB = 1 << 20;

sim::Config params(const char* yaml = "{}") { return sim::Config(sim::parse_yaml(yaml, "t"), ""); }

// A 1 ms compute kernel of `ctas` CTAs (one per SM at a time).
workloads::KernelDesc kernel(const char* name, std::int64_t ctas = 4) {
  workloads::KernelDesc k;
  k.name = name;
  k.grid = {ctas, 1, 1};
  k.block = {256, 1, 1};
  k.shared_mem_per_cta = 96 << 10;
  k.flops = 250e6 * static_cast<double>(ctas);
  return k;
}

// Round driver costs: 10 us a batch, 1 us a fault, 1 GB/s migrations over a 2 GB/s link.
models::memory::UvmParams uvm() {
  models::memory::UvmParams p;
  p.fault_batch = 256;
  p.batch_overhead = Time::us(10);
  p.per_fault = Time::us(1);
  p.migration_bandwidth = 1e9;
  return p;
}

struct Rig {
  sim::PluginCatalog catalog;
  std::unique_ptr<models::KernelCost> cost;
  std::unique_ptr<models::memory::EvictionPolicy> eviction;
  std::unique_ptr<models::memory::Prefetcher> prefetch;
  sim::Simulator sim;
  sim::FlowNetwork link{sim};
  sim::FlowNetwork::ResourceId h2d, d2h;
  std::unique_ptr<models::Gpu> gpu;
  std::unique_ptr<UnifiedMemory> mem;
  Rig(std::uint64_t frames, std::uint64_t chunk = 2 * kMiB, const char* evict = "lru",
      const char* pf = "none") {
    models::register_roofline_cost(catalog);
    models::memory::register_memory_plugins(catalog);
    cost = models::kernel_costs(catalog).create("roofline", params());
    eviction = models::memory::eviction_policies(catalog).create(evict, params());
    prefetch = models::memory::prefetchers(catalog).create(pf, params());
    h2d = link.add_resource("h2d", 2e9);
    d2h = link.add_resource("d2h", 2e9);
    gpu = std::make_unique<models::Gpu>(sim, testing::toy_gpu(4), *cost);
    mem = std::make_unique<UnifiedMemory>(sim, link, h2d, d2h, uvm(), frames, chunk, *eviction,
                                          *prefetch);
    gpu->attach_paging(mem.get());
  }
  Time run(const workloads::KernelDesc& k) {
    Time start = sim.now(), done;
    gpu->launch(k, [&] { done = sim.now(); });
    sim.run();
    return done - start;
  }
};

}  // namespace

TEST_CASE("address space: gigabyte touches stay a few extents, LRU order, quotas per app") {
  AddressSpace s(64 << 10);
  const auto big = s.allocate("big", 0, 4ull << 30, true);  // 4 GiB = 65536 chunks
  const auto small = s.allocate("small", 1, 8 * kMiB, false);
  const ChunkRange all = s.chunks(big, 0, 4ull << 30);
  CHECK(all.size() == 65536);
  CHECK(s.next_gap(all).size() == 65536);
  s.begin_migration(all);
  CHECK(s.next_gap(all).empty());  // in flight counts as on its way
  s.end_migration(all, 1, false);
  CHECK(s.resident_chunks() == 65536);
  CHECK(s.resident_chunks(0) == 65536);
  // Touching half of it with a new stamp splits it into two extents, not 32768 flags.
  s.touch(s.chunks(big, 2ull << 30, 4ull << 30), 5, true);
  const auto sm = s.chunks(small, 0, 8 * kMiB);
  s.begin_migration(sm);
  s.end_migration(sm, 3, false);
  std::vector<Evicted> out;
  // Lowest stamp first: the untouched half of `big` (stamp 1) goes before `small` (3).
  CHECK(s.evict(100, -1, out) == 100);
  REQUIRE(out.size() == 1);
  CHECK(out[0].range.alloc == big);
  CHECK(out[0].range.lo == 0);
  CHECK_FALSE(out[0].dirty);
  // Per app: app 1 evicts only its own chunks.
  out.clear();
  CHECK(s.evict(1000, 1, out) == sm.size());
  for (const auto& e : out) CHECK(e.range.alloc == small);
  // The dirty half is written back when it goes.
  out.clear();
  s.evict(65536, 0, out);
  bool dirty = false;
  for (const auto& e : out) dirty |= e.dirty;
  CHECK(dirty);
  CHECK(s.resident_chunks() == 0);
  CHECK(s.evicted_before(all) == 65536);
}

TEST_CASE("demand paging: a kernel stalls on its faults; bytes migrated = chunks x chunk size") {
  Rig r(64 * kMiB);
  const auto w = r.mem->space().allocate("w", 0, 8 * kMiB, true);
  const auto k = kernel("conv");
  r.mem->register_kernel(k, 0, {{w, 0, 8 * kMiB, 0, false, false}});
  const Time cold = r.run(k);
  const auto& st = r.mem->stats();
  // A batch takes 256 faults (1 MiB of pages) and migrates their 2 MiB chunk: the other half
  // of the chunk arrives with it and never faults.
  CHECK(st.faults == 4 * 256);
  CHECK(st.fault_batches == 4);
  CHECK(st.migrated_bytes == doctest::Approx(8.0 * kMiB));
  CHECK(st.migrated_chunks * 2 * kMiB == 8 * kMiB);
  CHECK(r.mem->idle());                                   // every fault serviced
  CHECK(st.stall_by_kernel.at({0, "conv"}) == doctest::Approx(st.stall_seconds));
  CHECK(st.stall_seconds > 0);
  // 4 batches x (10 us + 256 us) + 8 MiB at 1 GB/s, then 1 ms of compute.
  const double expect = 4 * (10e-6 + 256e-6) + 8.0 * kMiB / 1e9 + 1e-3;
  CHECK(cold.seconds() == doctest::Approx(expect).epsilon(0.01));
  // Warm: resident, no faults, the compute time alone.
  const Time warm = r.run(k);
  CHECK(r.mem->stats().faults == 1024);
  CHECK(warm.seconds() == doctest::Approx(1e-3).epsilon(0.01));
}

TEST_CASE("oversubscription: frames never exceeded, evicted pages re-fault (thrashing), "
          "dirty pages written back") {
  Rig r(8 * kMiB);  // 4 frames of 2 MiB
  const auto a = r.mem->space().allocate("a", 0, 6 * kMiB, true);
  const auto b = r.mem->space().allocate("b", 0, 6 * kMiB, false);
  const auto ka = kernel("read_a"), kb = kernel("write_b");
  r.mem->register_kernel(ka, 0, {{a, 0, 6 * kMiB, 0, false, false}});
  r.mem->register_kernel(kb, 0, {{b, 0, 6 * kMiB, 0, true, true}});
  for (int i = 0; i < 3; ++i) {
    r.run(ka);
    r.run(kb);
  }
  const auto& st = r.mem->stats();
  CHECK(st.overcommits == 0);
  CHECK(st.max_used_chunks <= r.mem->frame_chunks());
  CHECK(r.mem->space().resident_chunks() <= r.mem->frame_chunks());
  CHECK(st.thrashed_bytes > 0);
  CHECK(st.written_back_bytes > 0);     // b's dirty chunks went back before a returned
  CHECK(st.zero_filled_bytes > 0);      // b's first touch needed no copy
  CHECK(r.mem->idle());
  // What an experiment reports of it.
  std::map<std::string, double> m;
  for (const auto& [k, v] : st.totals()) m["um." + k] = v;
  CHECK(m.at("um.thrashed_mb") == doctest::Approx(st.thrashed_bytes / 1e6));
  CHECK(m.at("um.evicted_mb") > 0);
  CHECK(m.at("um.fault_batches") > 0);
  CHECK(m.at("um.faults") == static_cast<double>(st.faults));
}

TEST_CASE("quotas: an application evicts only its own pages") {
  Rig r(16 * kMiB);
  const auto a = r.mem->space().allocate("a", 0, 4 * kMiB, true);
  const auto b = r.mem->space().allocate("b", 1, 24 * kMiB, true);
  r.mem->set_quota(0, 4);
  r.mem->set_quota(1, 4);
  const auto ka = kernel("a"), kb = kernel("b");
  r.mem->register_kernel(ka, 0, {{a, 0, 4 * kMiB, 0, false, false}});
  r.mem->register_kernel(kb, 1, {{b, 0, 24 * kMiB, 0, true, false}});
  r.run(ka);
  const auto before = r.mem->stats().faults_by_app.at(0);
  r.run(kb);
  r.run(kb);
  r.run(ka);  // a's pages survived b's thrashing inside its own quota
  CHECK(r.mem->stats().faults_by_app.at(0) == before);
  // b thrashes inside its own quota: more than one pass of its 12 chunks faults.
  CHECK(r.mem->stats().faults_by_app.at(1) > 12 * 256);
  CHECK(r.mem->stats().thrashed_bytes > 0);
  CHECK(r.mem->space().resident_chunks(1) <= 4);
}

TEST_CASE("explicit prefetch migrates without faults; tree prefetch cuts faults at 64 KB") {
  {
    Rig r(64 * kMiB);
    const auto w = r.mem->space().allocate("w", 0, 8 * kMiB, true);
    const auto k = kernel("k");
    r.mem->register_kernel(k, 0, {{w, 0, 8 * kMiB, 0, false, false}});
    bool done = false;
    r.mem->prefetch(w, 0, 8 * kMiB, [&] { done = true; });
    r.sim.run();
    CHECK(done);
    r.run(k);
    CHECK(r.mem->stats().faults == 0);
    CHECK(r.mem->stats().migrated_bytes == doctest::Approx(8.0 * kMiB));
  }
  // At 64 KB: A reads the first 1.25 MiB of a 2 MiB block, B one chunk at 1.5 MiB, C the rest.
  // With the tree, A's second fault batch finds the block more than half there (20 of 32
  // chunks) and pulls all of it, so neither B nor C faults.
  std::uint64_t faults[2];
  int i = 0;
  for (const char* pf : {"none", "tree"}) {
    Rig r(64 * kMiB, 64 << 10, "lru", pf);
    const auto w = r.mem->space().allocate("w", 0, 2 * kMiB, true);
    const auto ka = kernel("a", 1), kb = kernel("b", 1), kc = kernel("c", 1);
    r.mem->register_kernel(ka, 0, {{w, 0, 1280 << 10, 0, false, false}});
    r.mem->register_kernel(kb, 0, {{w, 1536 << 10, 64 << 10, 0, false, false}});
    r.mem->register_kernel(kc, 0, {{w, 1280 << 10, 768 << 10, 0, false, false}});
    r.run(ka);
    r.run(kb);
    r.run(kc);
    CHECK(r.mem->stats().migrated_bytes == doctest::Approx(2.0 * kMiB));
    faults[i++] = r.mem->stats().faults;
  }
  CHECK(faults[0] == 512);       // every page of the block faulted
  CHECK(faults[1] == 320);       // A's pages only
  // What a touched run comes to hold: whole chunks, and with the tree whole VA blocks, since it
  // may pull the rest of a block in beside a fault.
  CHECK(Rig(64 * kMiB, 64 << 10, "lru", "none").mem->chunks_held(100 << 10) == 2);
  CHECK(Rig(64 * kMiB, 64 << 10, "lru", "tree").mem->chunks_held(100 << 10) == 32);
  CHECK(Rig(64 * kMiB, 2 * kMiB, "lru", "tree").mem->chunks_held(3 * kMiB) == 2);
}

TEST_CASE("a strided touch takes one piece per sample, moved by the sample window") {
  Rig r(64 * kMiB);
  // Four jobs' buffers of 4 MiB each; the operand is the first 2 MiB of each job's buffer.
  const auto act = r.mem->space().allocate("act", 0, 16 * kMiB, true);
  const auto k = kernel("batched2");
  r.mem->register_kernel(k, 0, {{act, 0, 4 * kMiB, 2 * kMiB, true, false, 4 * kMiB}});
  r.mem->set_sample_offset(0, 1);  // jobs 1 and 2: bytes [4, 6) and [8, 10) MiB
  r.run(k);
  auto& s = r.mem->space();
  CHECK(r.mem->stats().migrated_chunks == 2);
  CHECK(s.next_gap(s.chunks(act, 4 * kMiB, 6 * kMiB)).empty());
  CHECK(s.next_gap(s.chunks(act, 8 * kMiB, 10 * kMiB)).empty());
  for (std::uint64_t gap : {0ull, 2ull, 6ull, 10ull})  // untouched: job 0, the halves, job 3
    CHECK(s.next_gap(s.chunks(act, gap * kMiB, (gap + 2) * kMiB)).size() == 1);
}

TEST_CASE("migrations share the host link with a memcpy") {
  auto cold = [](bool with_copy) {
    Rig r(64 * kMiB);
    const auto w = r.mem->space().allocate("w", 0, 32 * kMiB, true);
    const auto k = kernel("k");
    r.mem->register_kernel(k, 0, {{w, 0, 32 * kMiB, 0, false, false}});
    if (with_copy) {  // three memcpys on the same direction: the migration gets a quarter
      const sim::FlowNetwork::ResourceId path[1] = {r.h2d};
      for (int i = 0; i < 3; ++i) r.link.start(path, 1e9, [](sim::FlowNetwork::FlowId) {});
    }
    Time done;
    r.gpu->launch(k, [&] { done = r.sim.now(); });
    r.sim.run();
    return done;
  };
  CHECK(cold(true) > cold(false));
}

TEST_CASE("FIFO keeps migration order; LRU re-ranks on use") {
  for (const char* policy : {"lru", "fifo"}) {
    CAPTURE(policy);
    Rig r(6 * kMiB, 2 * kMiB, policy);  // 3 frames
    const auto a = r.mem->space().allocate("a", 0, 2 * kMiB, true);
    const auto b = r.mem->space().allocate("b", 0, 4 * kMiB, true);
    const auto c = r.mem->space().allocate("c", 0, 2 * kMiB, true);
    const auto ka = kernel("a"), kb = kernel("b"), kc = kernel("c");
    r.mem->register_kernel(ka, 0, {{a, 0, 2 * kMiB, 0, false, false}});
    r.mem->register_kernel(kb, 0, {{b, 0, 4 * kMiB, 0, false, false}});
    r.mem->register_kernel(kc, 0, {{c, 0, 2 * kMiB, 0, false, false}});
    r.run(ka);
    r.run(kb);
    r.run(ka);  // LRU: a is now the most recent; FIFO: still the oldest
    r.run(kc);  // one chunk must go
    const auto faults = r.mem->stats().faults;
    r.run(ka);
    if (std::string(policy) == "lru")
      CHECK(r.mem->stats().faults == faults);  // a survived
    else
      CHECK(r.mem->stats().faults > faults);   // a was the first in, first out
  }
}

#pragma once
// The memory plugin families: which resident chunks go when frames run out (family `memory`:
// `lru`, `fifo`) and what the driver migrates beyond the faulted pages (family
// `memory-prefetch`: `none`, `tree`).

#include <cstdint>
#include <memory>

#include "models/memory/address_space.hpp"
#include "sim/registry.hpp"

namespace models::memory {

// Eviction order. Victims are always taken lowest stamp first (address_space.hpp); a policy
// decides when a chunk's stamp moves: at migration only (FIFO) or at every use (LRU).
class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;
  virtual bool restamp_on_use() const = 0;
};

// Widens a faulted run of chunks to what the driver migrates with it.
class Prefetcher {
 public:
  virtual ~Prefetcher() = default;
  // `faulted` lies in one allocation; `block_chunks` is the VA block (2 MB) in chunks.
  virtual ChunkRange expand(const AddressSpace& space, ChunkRange faulted,
                            std::uint64_t block_chunks) const = 0;
  // How far beyond what was touched it may migrate: an allocation's pages on the GPU come in
  // runs rounded out to this (0: nothing beyond the faulted chunks).
  virtual std::uint64_t reach_bytes() const { return 0; }
};

using EvictionRegistry = sim::Registry<EvictionPolicy, const sim::Config&>;
using PrefetcherRegistry = sim::Registry<Prefetcher, const sim::Config&>;

inline EvictionRegistry& eviction_policies(sim::PluginCatalog& c) {
  return c.family<EvictionRegistry>("memory", "UVM eviction when device frames run out");
}
inline PrefetcherRegistry& prefetchers(sim::PluginCatalog& c) {
  return c.family<PrefetcherRegistry>("memory-prefetch",
                                      "what the UVM driver migrates beyond faulted pages");
}

void register_memory_plugins(sim::PluginCatalog& c);

}  // namespace models::memory

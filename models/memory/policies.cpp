#include "models/memory/policies.hpp"

#include "sim/params.hpp"

#include <algorithm>

namespace models::memory {
namespace {

class Lru final : public EvictionPolicy {
 public:
  bool restamp_on_use() const override { return true; }
};

class Fifo final : public EvictionPolicy {
 public:
  bool restamp_on_use() const override { return false; }
};

class NoPrefetch final : public Prefetcher {
 public:
  ChunkRange expand(const AddressSpace&, ChunkRange faulted, std::uint64_t) const override {
    return faulted;
  }
};

// The NVIDIA driver's density prefetcher (uvm_perf_prefetch): a VA block is a full binary tree
// over its basic blocks; walking up from the faulted run, a node whose pages are more than
// `threshold` resident, in flight or faulted is migrated whole; every level is checked, the
// largest qualifying node wins (a lone fault next to a mostly resident block pulls the block).
class TreePrefetch final : public Prefetcher {
 public:
  explicit TreePrefetch(double threshold) : threshold_(threshold) {}
  std::uint64_t reach_bytes() const override { return kVaBlockBytes; }
  ChunkRange expand(const AddressSpace& space, ChunkRange r,
                    std::uint64_t block_chunks) const override {
    const std::uint64_t n = space.allocation(r.alloc).chunks;
    ChunkRange out = r;
    for (std::uint64_t s = 2; s <= block_chunks; s *= 2) {
      const std::uint64_t lo = r.lo - r.lo % s;
      const std::uint64_t hi = std::min(lo + s, n);
      if (r.hi > hi) continue;  // the run crosses this node: look at the larger one
      if (r.lo - r.lo % s != lo) break;
      const ChunkRange node{r.alloc, lo, hi};
      // The faulted run is already in flight, so covered() counts it.
      const double density = static_cast<double>(space.covered(node)) / static_cast<double>(s);
      if (density > threshold_) out = node;
    }
    return out;
  }

 private:
  double threshold_;
};

}  // namespace

namespace {
const sim::ParamSchema& tree_params() {
  static const sim::ParamSchema s = sim::schema(R"(
threshold | double | 0.5 | fraction of a tree node that triggers its prefetch
)");
  return s;
}
}  // namespace

void register_memory_plugins(sim::PluginCatalog& c) {
  auto& ev = eviction_policies(c);
  ev.add("lru", "least recently used chunk first (the stamp moves at every use)", {},
         [](const sim::Config&) { return std::make_unique<Lru>(); });
  ev.add("fifo", "oldest migrated chunk first (use does not re-rank)", {},
         [](const sim::Config&) { return std::make_unique<Fifo>(); });
  auto& pf = prefetchers(c);
  pf.add("none", "migrate only the faulted pages' chunks", {},
         [](const sim::Config&) { return std::make_unique<NoPrefetch>(); });
  pf.add("tree", "density-based neighbourhood prefetch over the 2 MB VA block's tree",
         tree_params(), [](const sim::Config& cfg) {
           const double t = sim::Params(cfg, tree_params()).real("threshold");
           if (t <= 0 || t >= 1) cfg.at("threshold").fail("must be in (0, 1)");
           return std::make_unique<TreePrefetch>(t);
         });
}

}  // namespace models::memory

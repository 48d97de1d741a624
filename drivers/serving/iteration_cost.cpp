#include "drivers/serving/iteration_cost.hpp"

#include <algorithm>

namespace drivers::serving {

using interconnect::CollectiveOp;

namespace {
constexpr std::int64_t kTokenQuantum = 16;
}  // namespace

std::int64_t IterationBatch::tokens() const {
  std::int64_t t = decodes;
  for (const auto& [chunk, prior] : chunks) t += chunk;
  return t;
}

StageCost& StageCost::operator+=(const StageCost& o) {
  time += o.time;
  flops += o.flops;
  dram_bytes += o.dram_bytes;
  return *this;
}

StageCost StageCost::times(int n) const {
  return {time * n, flops * n, dram_bytes * n};
}

IterationCost::IterationCost(workloads::DecoderShard shard, int pp,
                             const interconnect::SystemSpec& system,
                             const models::KernelCost& cost,
                             const interconnect::Collective& all_reduce, std::int64_t block_tokens)
    : shard_(std::move(shard)),
      pp_(pp),
      block_tokens_(block_tokens),
      stages_in_node_(shard_.tp * pp <= system.gpus_per_node),
      kernel_gap_(system.gpu.kernel_gap),
      kernels_(system.gpu, cost),
      system_(system),
      all_reduce_algorithm_(all_reduce) {
  if (shard_.tp > 1)
    tp_all_reduce_ = std::make_unique<CollectivePricer>(node_subset(system, shard_.tp), all_reduce,
                                                        CollectiveOp::all_reduce);
  if (pp_ > 1)
    stage_send_ = std::make_unique<CollectivePricer>(gpu_pair(system, stages_in_node_),
                                                     all_reduce, CollectiveOp::send_recv);
}

IterationCost::~IterationCost() = default;

int IterationCost::stage_layers(int stage) const {
  const int layers = shard_.model.layers;
  return layers / pp_ + (stage < layers % pp_ ? 1 : 0);
}

std::size_t IterationCost::shapes_priced() const {
  std::size_t n = kernels_.shapes_priced();
  for (const auto* p : {&tp_all_reduce_, &stage_send_, &kv_same_node_, &kv_across_})
    if (*p) n += (*p)->sizes_priced();
  return n;
}

// Kernels one after another on one stream: each one's time alone, and the device-side gap
// between dependent kernels.
StageCost IterationCost::kernels(const std::vector<workloads::KernelDesc>& ks) {
  StageCost c;
  for (const workloads::KernelDesc& k : ks) {
    c.time += kernels_.price(k) + kernel_gap_;
    c.flops += k.flops;
    c.dram_bytes += k.dram_bytes;
  }
  return c;
}

StageCost IterationCost::dense(std::int64_t tokens) {
  if (auto it = dense_.find(tokens); it != dense_.end()) return it->second;
  return dense_[tokens] = kernels(workloads::layer_dense_kernels(shard_, tokens));
}

StageCost IterationCost::prefill(std::int64_t chunk, std::int64_t prior) {
  const std::pair key{chunk, prior};
  if (auto it = prefill_.find(key); it != prefill_.end()) return it->second;
  return prefill_[key] = kernels({workloads::prefill_attention_kernel(shard_, chunk, prior)});
}

StageCost IterationCost::decode(std::int64_t requests, std::int64_t context) {
  const std::pair key{requests, context};
  if (auto it = decode_.find(key); it != decode_.end()) return it->second;
  return decode_[key] = kernels({workloads::decode_attention_kernel(shard_, requests, context)});
}

sim::Time IterationCost::all_reduce(std::int64_t tokens) {
  if (!tp_all_reduce_) return {};
  const auto bytes = static_cast<std::uint64_t>(tokens * shard_.model.hidden * shard_.element());
  return tp_all_reduce_->price(bytes);
}

StageCost IterationCost::stage(int stage, const IterationBatch& b) {
  const std::int64_t tokens = b.tokens();
  // Tensor-core MMAs work on 16-row fragments: a GEMM over T tokens does the work of T rounded
  // up to 16 (cuBLAS pads its last tile), so the token-parallel work is priced there. It also
  // keeps the shapes few: a trace's iterations meet a few hundred padded token counts.
  StageCost layer = dense((tokens + kTokenQuantum - 1) / kTokenQuantum * kTokenQuantum);
  for (const auto& [chunk, prior] : b.chunks) layer += prefill(chunk, prior);
  if (b.decodes > 0) {
    const std::int64_t per_request = (b.decode_context + b.decodes - 1) / b.decodes + 1;
    const std::int64_t blocks = (per_request + block_tokens_ - 1) / block_tokens_;
    layer += decode(b.decodes, blocks * block_tokens_);
  }
  layer.time += all_reduce(tokens) * 2;  // after attention and after the MLP
  StageCost c = layer.times(stage_layers(stage));
  if (stage == 0) {
    const auto it = embed_.find(tokens);
    c += it != embed_.end() ? it->second
                            : embed_[tokens] = kernels(workloads::embedding_kernels(shard_, tokens));
  }
  if (stage == pp_ - 1 && b.rows > 0) {
    const auto it = head_.find(b.rows);
    c += it != head_.end() ? it->second
                           : head_[b.rows] = kernels(workloads::lm_head_kernels(shard_, b.rows));
  }
  if (stage < pp_ - 1) {
    // Megatron's scatter-gather send: each TP rank sends its 1/tp of the activations to its
    // peer of the next stage, all pairs at once on their own links.
    const auto bytes = static_cast<std::uint64_t>(
        std::max<std::int64_t>(1, tokens * shard_.model.hidden * shard_.element() / shard_.tp));
    c.time += stage_send_->price(bytes);
  }
  return c;
}

sim::Time IterationCost::kv_transfer(std::uint64_t bytes, bool same_node) {
  auto& pricer = same_node ? kv_same_node_ : kv_across_;
  if (!pricer)
    pricer = std::make_unique<CollectivePricer>(gpu_pair(system_, same_node),
                                                all_reduce_algorithm_, CollectiveOp::send_recv);
  // Every GPU of the replica sends its own shard to its peer at once.
  const auto gpus = static_cast<std::uint64_t>(shard_.tp * pp_);
  return pricer->price(std::max<std::uint64_t>(1, (bytes + gpus - 1) / gpus));
}

}  // namespace drivers::serving

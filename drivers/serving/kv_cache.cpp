#include "drivers/serving/kv_cache.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/error.hpp"
#include "sim/invariant.hpp"

namespace drivers::serving {

KvLayout kv_layout(const workloads::DecoderSpec& model, int tp, int pp, workloads::DType dtype,
                   std::int64_t memory_bytes, double reserve_fraction, std::int64_t block_tokens) {
  if (tp < 1) throw sim::InputError(fmt::format("tp must be at least 1, got {}", tp));
  if (const std::string why = model.tensor_parallel_error(tp); !why.empty())
    throw sim::InputError(fmt::format("{}: tp {}: {}", model.name, tp, why));
  if (pp < 1 || pp > model.layers)
    throw sim::InputError(
        fmt::format("{}: pp must be in [1, {}] (its layers), got {}", model.name, model.layers, pp));
  if (!(reserve_fraction >= 0 && reserve_fraction < 1))
    throw sim::InputError(fmt::format("the activation reserve must be in [0, 1), got {}",
                                      reserve_fraction));
  if (block_tokens < 1)
    throw sim::InputError(fmt::format("a KV block holds at least one token, got {}", block_tokens));
  KvLayout l;
  l.memory_bytes = memory_bytes;
  l.block_tokens = block_tokens;
  l.layers = (model.layers + pp - 1) / pp;  // the largest stage bounds every GPU's share
  // Megatron splits the KV heads over TP; with more GPUs than KV heads (GQA) each holds a copy.
  l.kv_heads = std::max(1, model.kv_heads / tp);
  const std::int64_t element = workloads::dtype_size(dtype);
  l.bytes_per_token = 2LL * l.layers * l.kv_heads * model.head_dim * element;
  // The largest stage's layers and, conservatively, what is outside the layers (embeddings,
  // vocabulary-parallel over TP, and the final norm: with pp > 1 only the first and last stages
  // hold them, which this counts on every stage).
  const std::int64_t outside = model.parameters() - model.layers * model.layer_parameters();
  const std::int64_t weights = static_cast<std::int64_t>(l.layers) * model.layer_parameters() + outside;
  l.weight_bytes = (weights + tp - 1) / tp * element;
  l.reserve_bytes = static_cast<std::int64_t>(std::ceil(reserve_fraction * memory_bytes));
  const std::int64_t left = memory_bytes - l.weight_bytes - l.reserve_bytes;
  l.blocks = left > 0 ? left / l.block_bytes() : 0;
  if (l.weight_bytes > memory_bytes)
    l.oom = fmt::format("{} over {} x {} GPUs: {:.1f} GB of weights per GPU do not fit in {:.1f} GB",
                        model.name, tp, pp, l.weight_bytes / 1e9, memory_bytes / 1e9);
  else if (l.blocks == 0)
    l.oom = fmt::format("{} over {} x {} GPUs: {:.1f} GB of weights and a {:.1f} GB reserve leave "
                        "no room for one KV block of {} tokens ({:.2f} MB)",
                        model.name, tp, pp, l.weight_bytes / 1e9, l.reserve_bytes / 1e9,
                        block_tokens, l.block_bytes() / 1e6);
  return l;
}

std::string cap_kv_memory(KvLayout& l, std::int64_t kv_bytes) {
  const std::int64_t left = l.memory_bytes - l.weight_bytes - l.reserve_bytes;
  if (kv_bytes > left)
    return fmt::format("a KV cache of {:.2f} GB per GPU does not fit: {:.1f} GB of memory minus "
                       "{:.1f} GB of weights and a {:.1f} GB reserve leave {:.2f} GB",
                       kv_bytes / 1e9, l.memory_bytes / 1e9, l.weight_bytes / 1e9,
                       l.reserve_bytes / 1e9, std::max<std::int64_t>(0, left) / 1e9);
  l.blocks = kv_bytes / l.block_bytes();
  if (l.blocks == 0 && l.oom.empty())
    l.oom = fmt::format("a KV cache of {} bytes holds no block of {} tokens ({:.2f} MB)", kv_bytes,
                        l.block_tokens, l.block_bytes() / 1e6);
  return "";
}

KvBlockManager::KvBlockManager(std::int64_t blocks, std::int64_t block_tokens)
    : total_(blocks), block_tokens_(block_tokens) {
  if (blocks < 0 || block_tokens < 1)
    throw std::invalid_argument("KvBlockManager: blocks >= 0 and block_tokens >= 1");
}

std::int64_t KvBlockManager::blocks_for(std::int64_t tokens) const {
  return tokens <= 0 ? 0 : (tokens + block_tokens_ - 1) / block_tokens_;
}

std::int64_t KvBlockManager::held_blocks(std::int64_t id) const {
  const auto it = held_.find(id);
  return it == held_.end() ? 0 : it->second;
}

bool KvBlockManager::fits(std::int64_t id, std::int64_t tokens) const {
  return blocks_for(tokens) - held_blocks(id) <= free_blocks();
}

bool KvBlockManager::reserve(std::int64_t id, std::int64_t tokens) {
  const std::int64_t more = blocks_for(tokens) - held_blocks(id);
  if (more <= 0) return true;
  if (more > free_blocks()) return false;
  held_[id] += more;
  used_ += more;
  peak_ = std::max(peak_, used_);
  WARPSIM_INVARIANT(used_ <= total_, "a KV cache handed out more blocks than it has");
  return true;
}

void KvBlockManager::release(std::int64_t id) {
  const auto it = held_.find(id);
  if (it == held_.end()) return;
  used_ -= it->second;
  held_.erase(it);
  WARPSIM_INVARIANT(used_ >= 0, "a KV cache got back more blocks than it handed out");
}

}  // namespace drivers::serving

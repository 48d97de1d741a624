#pragma once
// KV-cache memory of one serving replica, the mechanism every batching policy shares (the
// policies decide who may grow; this says what fits).
//
// Every GPU of a TP x PP replica holds the same share of the cache: its pipeline stage's layers,
// its tensor-parallel share of the KV heads. What is left of a GPU's memory after its shard of
// the weights and an activation reserve is cut into blocks of `block_tokens` tokens (vLLM's
// paging; a policy that pre-allocates a request's whole context, as FasterTransformer and Orca
// do, simply reserves that many tokens at admission). A request holds whole blocks, grown a
// block at a time as its context does, and returns them all when it finishes or is preempted.

#include <cstdint>
#include <string>
#include <unordered_map>

#include "workloads/llm/decoder_spec.hpp"
#include "workloads/op_graph.hpp"

namespace drivers::serving {

// How one GPU of a replica spends its memory.
struct KvLayout {
  std::int64_t memory_bytes = 0;     // the GPU's memory
  std::int64_t weight_bytes = 0;     // its shard of the weights
  std::int64_t reserve_bytes = 0;    // activations and workspace, set aside
  std::int64_t block_tokens = 16;    // tokens per KV block
  std::int64_t bytes_per_token = 0;  // K and V of one token: its stage's layers, its KV heads
  std::int64_t blocks = 0;           // the blocks that fit in what is left (0 when nothing is)
  int layers = 0;                    // layers of the largest stage
  int kv_heads = 0;                  // KV heads on each GPU (replicated when tp > kv_heads)

  std::int64_t block_bytes() const { return block_tokens * bytes_per_token; }
  std::int64_t token_capacity() const { return blocks * block_tokens; }
  // Empty, or why the model does not fit (the weights alone exceed the memory, or no block is
  // left): the run reports it as an out-of-memory result, not a crash.
  std::string oom;
};

// The layout of `model` over `tp` x `pp` GPUs of `memory_bytes` each, in `dtype`, with
// `reserve_fraction` of the memory set aside for activations. Needs tp to divide the heads
// (DecoderSpec::tensor_parallel_error) and 1 <= pp <= layers: otherwise an InputError.
KvLayout kv_layout(const workloads::DecoderSpec& model, int tp, int pp, workloads::DType dtype,
                   std::int64_t memory_bytes, double reserve_fraction, std::int64_t block_tokens);

// Caps the cache at `kv_bytes` per GPU (vLLM's kv-cache memory setting) instead of all that is
// left: empty, or why it cannot be (more than the memory left after the weights and reserve).
std::string cap_kv_memory(KvLayout& layout, std::int64_t kv_bytes);

// The blocks of one GPU's cache and who holds them. Request ids are the caller's.
class KvBlockManager {
 public:
  KvBlockManager(std::int64_t blocks, std::int64_t block_tokens);

  std::int64_t blocks_for(std::int64_t tokens) const;  // whole blocks that hold `tokens`
  // Whether request `id` could grow to hold `tokens` (what it holds counts).
  bool fits(std::int64_t id, std::int64_t tokens) const;
  // Grows request `id`'s blocks to hold `tokens`; false, and nothing changed, when the free
  // blocks do not suffice. Never shrinks a request.
  bool reserve(std::int64_t id, std::int64_t tokens);
  // Returns every block of `id` (finished or preempted); a request holding none is a no-op.
  void release(std::int64_t id);

  std::int64_t total_blocks() const { return total_; }
  std::int64_t used_blocks() const { return used_; }
  std::int64_t free_blocks() const { return total_ - used_; }
  std::int64_t peak_used_blocks() const { return peak_; }
  std::int64_t held_blocks(std::int64_t id) const;
  std::int64_t requests() const { return static_cast<std::int64_t>(held_.size()); }
  double utilization() const { return total_ ? static_cast<double>(used_) / total_ : 0.0; }

 private:
  std::int64_t total_, block_tokens_, used_ = 0, peak_ = 0;
  std::unordered_map<std::int64_t, std::int64_t> held_;  // request -> blocks
};

}  // namespace drivers::serving

#pragma once
// What one serving iteration costs on a replica's GPUs and links: each pipeline stage's time
// for a batch of prompt chunks and decode tokens, from the GPU model (every kernel of
// workloads/llm/decoder_iteration priced alone on it) and the network model (the two TP
// all-reduces per layer and the send to the next stage, run as collectives on the system's
// links). Nothing is typed per model: a different GPU, system or decoder changes every number.
//
// Iterations repeat the same shapes constantly, so each shape is priced once: the token-parallel
// layer work by token count (rounded up to 16, the height of a tensor-core fragment: cuBLAS pads
// its last tile, so the padded count is what the hardware does), a prompt chunk's attention by
// (chunk, cached tokens), the decode attention by (requests, context per request in whole KV
// blocks: the batch's mean context rounded up to the block the paged kernel reads), collectives
// by message size. A repeated shape costs a hash lookup.

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "drivers/collective_pricer.hpp"
#include "interconnect/collective.hpp"
#include "interconnect/system_spec.hpp"
#include "models/kernel_cost.hpp"
#include "models/kernel_pricer.hpp"
#include "sim/time.hpp"
#include "workloads/llm/decoder_iteration.hpp"

namespace drivers::serving {

// One iteration's work as the cost model sees it.
struct IterationBatch {
  std::vector<std::pair<std::int64_t, std::int64_t>> chunks;  // (prompt tokens, cached before)
  std::int64_t decodes = 0;         // decode tokens (one per request)
  std::int64_t decode_context = 0;  // their contexts before this token, summed
  std::int64_t rows = 0;            // requests that emit a token (decodes, finished prompts)

  std::int64_t tokens() const;
  bool empty() const { return chunks.empty() && decodes == 0; }
};

// Time, and the work done by one GPU of the stage (for MFU / MBU).
struct StageCost {
  sim::Time time;
  double flops = 0, dram_bytes = 0;
  StageCost& operator+=(const StageCost& o);
  StageCost times(int n) const;
};

class IterationCost {
 public:
  // A replica of `pp` stages of `shard.tp` GPUs on `system` (its GPU priced with `cost`), TP
  // all-reduces with `all_reduce` (family collective). Stages beyond one node send to the next
  // over the network.
  IterationCost(workloads::DecoderShard shard, int pp, const interconnect::SystemSpec& system,
                const models::KernelCost& cost, const interconnect::Collective& all_reduce,
                std::int64_t block_tokens);
  ~IterationCost();

  int stages() const { return pp_; }
  int stage_layers(int stage) const;
  // Stage `stage`'s part of the iteration: its layers, their TP all-reduces, the embedding on
  // the first stage, the LM head on the last, the activation send to the next.
  StageCost stage(int stage, const IterationBatch& b);
  // Moving `bytes` of KV from one replica to another, spread over their GPUs pairwise
  // (disaggregated serving): `same_node` when both replicas are in one node.
  sim::Time kv_transfer(std::uint64_t bytes, bool same_node);

  const workloads::DecoderShard& shard() const { return shard_; }
  std::size_t shapes_priced() const;  // kernel shapes and message sizes, each run once

 private:
  StageCost kernels(const std::vector<workloads::KernelDesc>& ks);
  StageCost dense(std::int64_t tokens);
  StageCost prefill(std::int64_t chunk, std::int64_t prior);
  StageCost decode(std::int64_t requests, std::int64_t context);
  sim::Time all_reduce(std::int64_t tokens);

  workloads::DecoderShard shard_;
  int pp_;
  std::int64_t block_tokens_;
  bool stages_in_node_;
  sim::Time kernel_gap_;
  models::KernelPricer kernels_;
  std::unique_ptr<CollectivePricer> tp_all_reduce_, stage_send_, kv_same_node_, kv_across_;
  interconnect::SystemSpec system_;
  const interconnect::Collective& all_reduce_algorithm_;
  std::unordered_map<std::int64_t, StageCost> dense_, head_, embed_;
  std::map<std::pair<std::int64_t, std::int64_t>, StageCost> prefill_, decode_;
};

}  // namespace drivers::serving

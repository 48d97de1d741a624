// The KV-cache memory of a serving replica: the per-GPU layout (weights' shard, KV bytes per
// token, blocks) from the model's shapes, and the block manager's accounting.
#include <doctest/doctest.h>

#include <string>

#include "drivers/serving/kv_cache.hpp"
#include "sim/error.hpp"

using drivers::serving::KvBlockManager;
using drivers::serving::kv_layout;
using workloads::DType;

TEST_CASE("kv layout: Llama-2-7B in fp16 on one 40 GB GPU, as vLLM counts it") {
  const auto m = workloads::decoder("llama2-7b");
  const auto l = kv_layout(m, 1, 1, DType::fp16, 40'000'000'000, 0.1, 16);
  // 2 (K, V) x 32 layers x 32 heads x 128 x 2 bytes: half a MiB per token.
  CHECK(l.bytes_per_token == 524288);
  CHECK(l.weight_bytes == m.parameters() * 2);
  CHECK(l.reserve_bytes == 4'000'000'000);
  CHECK(l.blocks == (40'000'000'000 - l.weight_bytes - l.reserve_bytes) / (16 * 524288));
  CHECK(l.token_capacity() > 40'000);  // ~42.9 k tokens of context
  CHECK(l.oom.empty());
}

TEST_CASE("kv layout: tensor and pipeline parallelism split the layers, heads and weights") {
  const auto m = workloads::decoder("llama2-70b");  // 80 layers, 8 KV heads (GQA)
  const auto tp8 = kv_layout(m, 8, 1, DType::fp16, 80'000'000'000, 0.1, 16);
  CHECK(tp8.kv_heads == 1);
  CHECK(tp8.bytes_per_token == 2LL * 80 * 1 * 128 * 2);
  const auto tp4pp2 = kv_layout(m, 4, 2, DType::fp16, 80'000'000'000, 0.1, 16);
  CHECK(tp4pp2.layers == 40);
  CHECK(tp4pp2.kv_heads == 2);
  CHECK(tp4pp2.bytes_per_token == tp8.bytes_per_token);  // half the layers, twice the heads
  CHECK(tp4pp2.weight_bytes < kv_layout(m, 4, 1, DType::fp16, 80'000'000'000, 0.1, 16).weight_bytes);
  // Orca's 175B over PP2 x TP8 on A100-40GB: ~22 GB of weights per GPU, room for KV.
  const auto gpt = kv_layout(workloads::decoder("gpt3-175b"), 8, 2, DType::fp16, 40'000'000'000, 0.1, 16);
  CHECK(gpt.weight_bytes > 20'000'000'000);
  CHECK(gpt.weight_bytes < 25'000'000'000);
  CHECK(gpt.oom.empty());
}

TEST_CASE("kv layout: what does not fit is an out-of-memory result; bad shapes are input errors") {
  const auto m = workloads::decoder("llama2-70b");
  const auto one = kv_layout(m, 1, 1, DType::fp16, 80'000'000'000, 0.1, 16);
  CHECK(one.blocks == 0);
  CHECK(one.oom.find("do not fit in 80.0 GB") != std::string::npos);
  // The weights fit, the reserve leaves nothing.
  const auto tight = kv_layout(workloads::decoder("llama2-7b"), 1, 1, DType::fp16, 14'900'000'000, 0.1, 16);
  CHECK(tight.blocks == 0);
  CHECK(tight.oom.find("no room for one KV block") != std::string::npos);
  CHECK_THROWS_AS(kv_layout(workloads::decoder("llama2-7b"), 3, 1, DType::fp16, 40'000'000'000, 0.1, 16),
                  sim::InputError);
  CHECK_THROWS_AS(kv_layout(m, 8, 81, DType::fp16, 80'000'000'000, 0.1, 16), sim::InputError);
  CHECK_THROWS_AS(kv_layout(m, 8, 1, DType::fp16, 80'000'000'000, 1.0, 16), sim::InputError);
}

TEST_CASE("kv blocks: requests grow a block at a time, a grow that does not fit changes nothing") {
  KvBlockManager kv(10, 16);
  CHECK(kv.blocks_for(0) == 0);
  CHECK(kv.blocks_for(1) == 1);
  CHECK(kv.blocks_for(16) == 1);
  CHECK(kv.blocks_for(17) == 2);
  CHECK(kv.reserve(1, 100));  // 7 blocks
  CHECK(kv.used_blocks() == 7);
  CHECK(kv.reserve(1, 100));  // already held: nothing more
  CHECK(kv.reserve(1, 112));  // still 7
  CHECK(kv.used_blocks() == 7);
  CHECK(kv.fits(2, 48));
  CHECK_FALSE(kv.fits(2, 49));
  CHECK_FALSE(kv.reserve(2, 64));  // 4 blocks, 3 free
  CHECK(kv.used_blocks() == 7);
  CHECK(kv.held_blocks(2) == 0);
  CHECK(kv.reserve(2, 48));
  CHECK(kv.free_blocks() == 0);
  CHECK(kv.utilization() == 1.0);
  kv.release(1);
  kv.release(1);  // twice: a no-op
  CHECK(kv.used_blocks() == 3);
  CHECK(kv.requests() == 1);
  CHECK(kv.peak_used_blocks() == 10);
  CHECK(kv.fits(2, 16 * 10));  // what it holds counts
}

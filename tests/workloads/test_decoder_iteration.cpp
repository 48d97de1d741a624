// The kernels of one serving iteration: their work adds up to the decoder's arithmetic and
// traffic, split over tensor parallelism the way Megatron splits it.
#include <doctest/doctest.h>

#include "workloads/llm/decoder_iteration.hpp"
#include "workloads/llm/decoder_spec.hpp"

namespace {

workloads::DecoderShard shard(const std::string& model, int tp) {
  workloads::LoweringOptions o;
  o.arch_sm = 90;
  o.sms = 132;
  return {workloads::decoder(model), tp, workloads::DType::fp16, o};
}

double flops(const std::vector<workloads::KernelDesc>& ks) {
  double f = 0;
  for (const auto& k : ks) f += k.flops;
  return f;
}

double bytes(const std::vector<workloads::KernelDesc>& ks) {
  double b = 0;
  for (const auto& k : ks) b += k.dram_bytes;
  return b;
}

}  // namespace

TEST_CASE("decoder iteration: a layer's GEMMs are 2 x tokens x its weights, over TP") {
  for (int tp : {1, 2, 4, 8}) {
    const auto s = shard("llama2-70b", tp);
    const std::int64_t tokens = 256;
    const double weights = static_cast<double>(s.model.attention_parameters() +
                                               s.model.mlp_parameters()) / tp;
    // The GEMMs carry 2 x M x N x K; the norms, the activation and the residual adds a few
    // FLOPs per element besides.
    const double f = flops(workloads::layer_dense_kernels(s, tokens));
    CAPTURE(tp);
    CHECK(f >= 2.0 * tokens * weights);
    CHECK(f < 2.0 * tokens * weights * 1.01);
    // One decode token reads every weight of the layer once.
    CHECK(bytes(workloads::layer_dense_kernels(s, 1)) >= weights * 2);
  }
}

TEST_CASE("decoder iteration: attention per request against its own context") {
  const auto s = shard("llama2-7b", 1);
  // A whole prompt of 1024 tokens: causal, on average 512.5 keys per query.
  const auto p = workloads::prefill_attention_kernel(s, 1024, 0);
  CHECK(p.flops == doctest::Approx(4.0 * 1024 * 512.5 * 128 * 32));
  CHECK(p.unit == workloads::MathUnit::tensor_core);
  CHECK(p.grid.x == 8);  // 128 queries per CTA
  // A chunk after 1024 cached tokens sees them all.
  CHECK(workloads::prefill_attention_kernel(s, 512, 1024).flops >
        workloads::prefill_attention_kernel(s, 512, 0).flops);
  // Decode reads the whole cached context of every request: K and V, 32 heads of 128, fp16.
  const auto d = workloads::decode_attention_kernel(s, 16, 2000);
  CHECK(d.dram_bytes >= 16.0 * 2000 * 2 * 32 * 128 * 2);
  CHECK(d.grid.z == 4);  // 512-token partitions
  // Grouped-query attention: 8 KV heads for 64 query heads read a quarter of the bytes... per
  // head, the rest from L2.
  const auto g = workloads::decode_attention_kernel(shard("llama2-70b", 8), 16, 2000);
  CHECK(g.l2_bytes > 0);
  CHECK(workloads::lm_head_kernels(s, 4).size() >= 2);
  CHECK(bytes(workloads::embedding_kernels(s, 100)) == 2.0 * 100 * 4096 * 2);
}

TEST_CASE("decoder iteration: a mixture of experts spreads the tokens over its experts") {
  const auto s = shard("mixtral-8x7b", 1);
  const auto ks = workloads::layer_dense_kernels(s, 64);
  // Each token visits top_k = 2 of 8 experts: the expert GEMMs carry 2 x 64 x 2 x one expert.
  const double expert = 3.0 * s.model.hidden * s.model.ffn;
  CHECK(flops(ks) > 2.0 * 64 * 2 * expert);
  CHECK(flops(ks) < 2.0 * 64 * 2 * expert * 1.6);
}

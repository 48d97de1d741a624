#include "workloads/llm/decoder_iteration.hpp"

#include <algorithm>

#include "workloads/graph_builder.hpp"

namespace workloads {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// A norm is a memory-bound pass over its rows with a per-column weight: as an elementwise
// multiply by the broadcast weight it has the same traffic (x read, weight read, y written).
TensorId norm(GraphBuilder& b, TensorId x, const std::string& name) {
  const std::int64_t width = b.shape(x).back();
  return b.mul(x, b.input(name + ".weight", {1, width}));
}

// The MLP of `tokens` tokens on one GPU: gate and up as one GEMM (vLLM's merged column-parallel
// layer) and SiLU(gate) x up, or up, GELU; then down.
void mlp(GraphBuilder& b, const DecoderShard& s, TensorId x, std::int64_t tokens,
         const std::string& name) {
  const std::int64_t f = s.model.ffn / s.tp;
  const bool bias = s.model.bias;
  TensorId act;
  if (s.model.mlp == DecoderSpec::Mlp::swiglu) {
    b.linear(x, 2 * f, bias);
    const TensorId gate = b.input(name + ".gate", {tokens, f}), up = b.input(name + ".up", {tokens, f});
    act = b.mul(gate, up);
  } else {
    act = b.activation(b.linear(x, f, bias), "gelu");
  }
  b.linear(act, s.model.hidden, bias);
}

std::vector<KernelDesc> lowered(const GraphBuilder& b, const LoweringOptions& o) {
  return lower_graph(b.graph(), o).kernels;
}

}  // namespace

std::vector<KernelDesc> layer_dense_kernels(const DecoderShard& s, std::int64_t tokens) {
  const DecoderSpec& m = s.model;
  GraphBuilder b("decoder_layer", s.dtype);
  // The previous layer's residual add and this layer's input norm are one kernel (vLLM's
  // fused_add_rms_norm; Megatron fuses bias, dropout and add): the MLP output and the residual
  // read, the norm weight applied, the sum written.
  const TensorId x = b.add({b.input("mlp_out", {tokens, m.hidden}), b.input("x", {tokens, m.hidden}),
                            b.input("input_norm.weight", {1, m.hidden})});
  const std::int64_t qkv = (s.heads() + 2 * s.kv_heads()) * m.head_dim;
  b.linear(x, qkv, m.bias);
  if (m.max_positions == 0)  // rotary embeddings rotate the queries and keys in place
  {
    const TensorId qk = b.input("qk", {tokens, (s.heads() + s.kv_heads()) * m.head_dim});
    const TensorId cos_sin = b.input("rope.cos_sin", {tokens, 1});
    b.mul(qk, cos_sin);
  }
  const TensorId attn = b.input("attention_out", {tokens, s.heads() * m.head_dim});
  const TensorId o = b.linear(attn, m.hidden, m.bias);
  // The attention output's residual add and the post-attention norm, fused likewise.
  const TensorId n = b.add({o, x, b.input("post_attention_norm.weight", {1, m.hidden})});
  if (m.experts > 1) {
    b.linear(n, m.experts, false);  // the router
    // Each expert takes its share of the tokens' top_k choices (balanced routing).
    const std::int64_t share = ceil_div(tokens * m.top_k, m.experts);
    for (int e = 0; e < m.experts; ++e) {
      const std::string name = "expert" + std::to_string(e);
      mlp(b, s, b.input(name + ".in", {share, m.hidden}), share, name);
    }
  } else {
    mlp(b, s, n, tokens, "mlp");
  }
  return lowered(b, s.lowering);
}

KernelDesc prefill_attention_kernel(const DecoderShard& s, std::int64_t chunk, std::int64_t prior) {
  const DecoderSpec& m = s.model;
  const double e = static_cast<double>(s.element());
  const double hd = static_cast<double>(m.head_dim);
  const std::int64_t q_blocks = ceil_div(chunk, 128);
  KernelDesc k;
  k.name = "flash_fwd_kernel";  // FlashAttention-2: a CTA of 4 warps per 128 queries and head
  k.grid = {q_blocks, s.heads(), 1};
  k.block = {128, 1, 1};
  k.registers_per_thread = 255;
  k.shared_mem_per_cta = (128 + 2 * 64) * m.head_dim * s.element();  // Q tile + K, V tiles
  k.unit = MathUnit::tensor_core;
  k.dtype = s.dtype;
  // Causal: query i sees prior + i + 1 keys, on average prior + (chunk + 1) / 2.
  const double keys = static_cast<double>(prior) + (static_cast<double>(chunk) + 1) / 2;
  k.flops = 4.0 * static_cast<double>(chunk) * keys * hd * s.heads();
  const double q_and_o = 2.0 * chunk * s.heads() * hd * e;
  const double kv_read = 2.0 * static_cast<double>(prior + chunk) * s.kv_heads() * hd * e;
  const double kv_write = 2.0 * static_cast<double>(chunk) * s.kv_heads() * hd * e;
  k.dram_bytes = q_and_o + kv_read + kv_write;
  // Every (query block, head) CTA streams the keys and values it sees; beyond one read, L2's.
  const double streamed = static_cast<double>(q_blocks) * s.heads() * 2.0 * keys * hd * e;
  k.l2_bytes = std::max(0.0, streamed - kv_read);
  return k;
}

KernelDesc decode_attention_kernel(const DecoderShard& s, std::int64_t requests,
                                   std::int64_t context) {
  const DecoderSpec& m = s.model;
  const double e = static_cast<double>(s.element());
  const double hd = static_cast<double>(m.head_dim);
  KernelDesc k;
  k.name = "paged_attention_v2_kernel";
  k.grid = {s.heads(), requests, ceil_div(context, 512)};
  k.block = {128, 1, 1};
  k.registers_per_thread = 128;
  k.shared_mem_per_cta = 512 * 4 + m.head_dim * 4;  // the partition's logits, the query
  k.unit = MathUnit::fp32_core;                     // dot products on the CUDA cores
  k.dtype = s.dtype;
  const double n = static_cast<double>(requests), ctx = static_cast<double>(context);
  k.flops = 4.0 * n * ctx * hd * s.heads();
  const double kv = n * ctx * 2.0 * s.kv_heads() * hd * e;
  k.dram_bytes = kv + 2.0 * n * s.heads() * hd * e;
  // Grouped-query attention: the heads sharing a KV head read its blocks again, from L2.
  k.l2_bytes = kv * (static_cast<double>(s.heads()) / s.kv_heads() - 1);
  return k;
}

std::vector<KernelDesc> embedding_kernels(const DecoderShard& s, std::int64_t tokens) {
  // A gather of `tokens` rows (plus the position rows) written to the activations: one pass
  // of memory, PyTorch's indexSelect launch (128 threads, 4 elements each).
  const std::int64_t h = s.model.hidden;
  const std::int64_t rows = tokens * (s.model.max_positions > 0 ? 2 : 1);
  KernelDesc k;
  k.name = "indexSelectLargeIndex";
  k.grid = {ceil_div(tokens * h, 512), 1, 1};
  k.block = {128, 1, 1};
  k.dtype = s.dtype;
  k.flops = s.model.max_positions > 0 ? static_cast<double>(tokens * h) : 0.0;
  k.dram_bytes = static_cast<double>((rows + tokens) * h * s.element());
  return {k};
}

std::vector<KernelDesc> lm_head_kernels(const DecoderShard& s, std::int64_t rows) {
  GraphBuilder b("lm_head", s.dtype);
  const TensorId x = b.input("x", {rows, s.model.hidden});
  b.softmax(b.linear(norm(b, x, "final_norm"), s.model.vocab / s.tp, false), 1);
  return lowered(b, s.lowering);
}

}  // namespace workloads

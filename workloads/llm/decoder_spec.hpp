#pragma once
// A decoder-only transformer as LLM serving sees it: the shapes that fix its weights, its
// per-token KV cache and each iteration's GEMMs, rather than an op graph of one batch (serving
// batches change every iteration). Dense GPT-3-style models (learned positions, GELU MLP,
// LayerNorm, biases, tied embeddings: Orca's 13B/101B/175B/341B) and Llama-style models
// (RoPE, SwiGLU, RMSNorm, grouped-query attention, untied embeddings; Mixtral's mixture of
// experts) are the same struct with other switches. Parameter counts are exact for the
// published architectures (tests/workloads/test_decoder_spec.cpp).

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "sim/registry.hpp"

namespace workloads {

struct DecoderSpec {
  enum class Mlp { gelu, swiglu };  // 2 matrices (up, down) or 3 (gate, up, down)
  enum class Norm { layernorm, rmsnorm };  // weight + bias, or weight only

  std::string name;
  int layers = 0;
  std::int64_t hidden = 0;
  int heads = 0;
  int kv_heads = 0;           // = heads: multi-head attention; fewer: grouped-query
  std::int64_t head_dim = 0;  // hidden / heads unless set
  std::int64_t ffn = 0;       // MLP inner width (per expert)
  std::int64_t vocab = 0;
  std::int64_t max_positions = 0;  // learned position embeddings; 0: rotary (RoPE)
  Mlp mlp = Mlp::gelu;
  Norm norm = Norm::layernorm;
  bool bias = true;            // biases on the projections
  bool tied_embeddings = true; // the LM head shares the token embedding
  int experts = 1;             // MoE: experts per layer (1: dense)
  int top_k = 1;               // MoE: experts each token visits

  // Weights of one layer's attention (Q, K, V, O), MLP (all experts, plus the router), norms.
  std::int64_t attention_parameters() const;
  std::int64_t mlp_parameters() const;
  std::int64_t norm_parameters() const;  // one norm
  std::int64_t layer_parameters() const;
  std::int64_t embedding_parameters() const;  // token (+ position) embeddings, LM head if untied
  std::int64_t parameters() const;            // the whole model
  // Per token of context: keys and values of every layer.
  std::int64_t kv_elements_per_token() const { return 2LL * layers * kv_heads * head_dim; }
  std::int64_t kv_dim() const { return kv_heads * head_dim; }

  // Tensor parallelism over `tp` GPUs (Megatron: heads and MLP columns split) is possible:
  // empty, or why not.
  std::string tensor_parallel_error(int tp) const;

  static const sim::ParamSchema& schema();
  // A map of the keys above (a user's own model), checked: positive sizes, heads dividing the
  // hidden size unless head_dim is given, kv_heads dividing heads, top_k <= experts.
  static DecoderSpec from_config(const sim::Config& c);
};

// The built-in architectures, by name: gpt3-13b, gpt3-101b, gpt3-175b, gpt3-341b (Orca),
// llama2-7b, llama2-13b, llama2-70b, llama3-8b, llama3-70b, mixtral-8x7b.
std::vector<std::string> decoder_names();
// A built-in by name (an unknown one is an InputError naming the nearest), or, for a config
// node, a name or a map (DecoderSpec::from_config).
DecoderSpec decoder(const std::string& name);
DecoderSpec read_decoder(const sim::Config& c);

}  // namespace workloads

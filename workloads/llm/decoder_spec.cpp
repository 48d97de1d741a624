#include "workloads/llm/decoder_spec.hpp"

#include <fmt/format.h>

#include "sim/error.hpp"
#include "sim/nearest.hpp"
#include "sim/params.hpp"

namespace workloads {

std::int64_t DecoderSpec::attention_parameters() const {
  const std::int64_t q = hidden * heads * head_dim, kv = 2 * hidden * kv_dim(),
                     o = heads * head_dim * hidden;
  const std::int64_t b = bias ? heads * head_dim + 2 * kv_dim() + hidden : 0;
  return q + kv + o + b;
}

std::int64_t DecoderSpec::mlp_parameters() const {
  const std::int64_t matrices = mlp == Mlp::swiglu ? 3 : 2;
  const std::int64_t per_expert =
      matrices * hidden * ffn + (bias ? (matrices - 1) * ffn + hidden : 0);
  const std::int64_t router = experts > 1 ? hidden * experts : 0;
  return experts * per_expert + router;
}

std::int64_t DecoderSpec::norm_parameters() const {
  return norm == Norm::layernorm ? 2 * hidden : hidden;
}

std::int64_t DecoderSpec::layer_parameters() const {
  return attention_parameters() + mlp_parameters() + 2 * norm_parameters();
}

std::int64_t DecoderSpec::embedding_parameters() const {
  return vocab * hidden * (tied_embeddings ? 1 : 2) + max_positions * hidden;
}

std::int64_t DecoderSpec::parameters() const {
  return layers * layer_parameters() + embedding_parameters() + norm_parameters();
}

std::string DecoderSpec::tensor_parallel_error(int tp) const {
  if (tp < 1) return fmt::format("tensor parallelism must be >= 1, got {}", tp);
  if (heads % tp != 0)
    return fmt::format("TP {} does not divide {}'s {} attention heads", tp, name, heads);
  // Fewer KV heads than GPUs: each GPU keeps a copy of one (vLLM, Megatron), which needs TP to
  // be a multiple of them.
  if (kv_heads % tp != 0 && tp % kv_heads != 0)
    return fmt::format("TP {} neither divides nor is a multiple of {}'s {} KV heads", tp, name,
                       kv_heads);
  if (ffn % tp != 0) return fmt::format("TP {} does not divide {}'s MLP width {}", tp, name, ffn);
  return "";
}

const sim::ParamSchema& DecoderSpec::schema() {
  static const sim::ParamSchema s = sim::schema(R"(
name            | string |           | the model's name
layers          | int    |           | decoder layers
hidden          | int    |           | model width
heads           | int    |           | attention heads
kv_heads        | int    |           | key/value heads (absent: = heads; fewer: grouped-query)
head_dim        | int    |           | per head (absent: hidden / heads)
ffn             | int    |           | MLP inner width (per expert)
vocab           | int    |           | vocabulary
max_positions   | int    | 0         | learned position embeddings (0: rotary)
mlp             | string | gelu      | gelu (up, down) | swiglu (gate, up, down)
norm            | string | layernorm | layernorm (weight + bias) | rmsnorm (weight)
bias            | bool   | true      | biases on the projections
tied_embeddings | bool   | true      | the LM head shares the token embedding
experts         | int    | 1         | mixture of experts: experts per layer (1: dense)
top_k           | int    | 1         | experts each token visits
)");
  return s;
}

DecoderSpec DecoderSpec::from_config(const sim::Config& c) {
  const sim::Params p(c, schema());
  DecoderSpec d;
  constexpr std::int64_t kBig = std::int64_t{1} << 40;
  d.name = p.string("name");
  d.layers = static_cast<int>(p.integer("layers", 1, 100000));
  d.hidden = p.integer("hidden", 1, kBig);
  d.heads = static_cast<int>(p.integer("heads", 1, 1 << 20));
  d.kv_heads = p.has("kv_heads") ? static_cast<int>(p.integer("kv_heads", 1, d.heads)) : d.heads;
  if (d.heads % d.kv_heads != 0)
    p.value("kv_heads").fail(fmt::format("must divide the {} heads", d.heads));
  if (p.has("head_dim")) {
    d.head_dim = p.integer("head_dim", 1, kBig);
  } else {
    if (d.hidden % d.heads != 0)
      p.value("heads").fail(fmt::format("does not divide hidden {} (give head_dim)", d.hidden));
    d.head_dim = d.hidden / d.heads;
  }
  d.ffn = p.integer("ffn", 1, kBig);
  d.vocab = p.integer("vocab", 1, kBig);
  d.max_positions = p.integer("max_positions", 0, kBig);
  const std::string mlp = p.string("mlp");
  if (mlp != "gelu" && mlp != "swiglu") p.value("mlp").fail("mlp is gelu or swiglu");
  d.mlp = mlp == "swiglu" ? Mlp::swiglu : Mlp::gelu;
  const std::string norm = p.string("norm");
  if (norm != "layernorm" && norm != "rmsnorm") p.value("norm").fail("norm is layernorm or rmsnorm");
  d.norm = norm == "rmsnorm" ? Norm::rmsnorm : Norm::layernorm;
  d.bias = p.flag("bias");
  d.tied_embeddings = p.flag("tied_embeddings");
  d.experts = static_cast<int>(p.integer("experts", 1, 4096));
  d.top_k = static_cast<int>(p.integer("top_k", 1, d.experts));
  return d;
}

namespace {

// The shape every decoder has; the families below set their switches on it.
DecoderSpec shape(const char* name, int layers, std::int64_t hidden, int heads, int kv_heads,
                  std::int64_t ffn, std::int64_t vocab) {
  DecoderSpec d;
  d.name = name;
  d.layers = layers;
  d.hidden = hidden;
  d.heads = heads;
  d.kv_heads = kv_heads;
  d.head_dim = hidden / heads;
  d.ffn = ffn;
  d.vocab = vocab;
  return d;
}

// GPT-3 (Brown et al. 2020) as Orca ran it: 128-wide heads, 4x MLP, 2048 learned positions,
// the GPT-2 vocabulary; the struct's defaults are its switches (GELU, LayerNorm, biases, tied).
DecoderSpec gpt3(const char* name, int layers, std::int64_t hidden) {
  const int heads = static_cast<int>(hidden / 128);
  DecoderSpec d = shape(name, layers, hidden, heads, heads, 4 * hidden, 50257);
  d.max_positions = 2048;
  return d;
}

// Llama 2 / 3 (Touvron et al. 2023; Meta 2024): RMSNorm, SwiGLU, RoPE, no biases, untied head.
DecoderSpec llama(const char* name, int layers, std::int64_t hidden, int heads, int kv_heads,
                  std::int64_t ffn, std::int64_t vocab) {
  DecoderSpec d = shape(name, layers, hidden, heads, kv_heads, ffn, vocab);
  d.mlp = DecoderSpec::Mlp::swiglu;
  d.norm = DecoderSpec::Norm::rmsnorm;
  d.bias = false;
  d.tied_embeddings = false;
  return d;
}

std::vector<DecoderSpec> builtins() {
  DecoderSpec mixtral = llama("mixtral-8x7b", 32, 4096, 32, 8, 14336, 32000);
  mixtral.experts = 8;
  mixtral.top_k = 2;
  return {gpt3("gpt3-13b", 40, 5120),
          gpt3("gpt3-101b", 80, 10240),
          gpt3("gpt3-175b", 96, 12288),
          gpt3("gpt3-341b", 120, 15360),
          llama("llama2-7b", 32, 4096, 32, 32, 11008, 32000),
          llama("llama2-13b", 40, 5120, 40, 40, 13824, 32000),
          llama("llama2-70b", 80, 8192, 64, 8, 28672, 32000),
          llama("llama3-8b", 32, 4096, 32, 8, 14336, 128256),
          llama("llama3-70b", 80, 8192, 64, 8, 28672, 128256),
          mixtral};
}

}  // namespace

std::vector<std::string> decoder_names() {
  std::vector<std::string> out;
  for (const DecoderSpec& d : builtins()) out.push_back(d.name);
  return out;
}

DecoderSpec decoder(const std::string& name) {
  for (const DecoderSpec& d : builtins())
    if (d.name == name) return d;
  const auto names = decoder_names();
  throw sim::InputError(fmt::format("unknown model '{}'{}; known: {}", name,
                                    sim::did_you_mean(name, names), fmt::join(names, ", ")));
}

DecoderSpec read_decoder(const sim::Config& c) {
  if (!c.is_scalar()) return DecoderSpec::from_config(c);
  try {
    return decoder(c.as_string());
  } catch (const sim::InputError& e) {
    c.fail(e.what());
  }
}

}  // namespace workloads

// Transformer stacks for data-parallel training: BERT (Devlin et al. 2019, post-norm encoder)
// and GPT-2 (Radford et al. 2019, pre-norm decoder), at their published sizes.
//
// Activations are token matrices [batch x sequence, hidden] so that every weight is an ordinary
// fully connected layer (exact parameter counts and projection/MLP FLOPs). What the op graph
// cannot express is left out and said here: the op graph has no reshape into heads, so the
// attention score and context products (QK^T, softmax, AV: 4 x seq x hidden FLOPs per token per
// layer, about seq / (6 x hidden) of the layer -- 11% for GPT-2 XL at 1024 tokens) are not
// modelled: the core is only the memory traffic of a fused attention kernel; LayerNorm is priced as the normalisation op of the same shape (batch_norm kind,
// with gamma and beta per feature, as LayerNorm); dropout is not modelled; the embedding lookup
// is the graph input, and the output projection onto the vocabulary stands for the tied
// embedding matrix (its gradient is the one DDP reduces).

#include "workloads/zoo/zoo.hpp"

namespace workloads::zoo {

TensorId transformer(GraphBuilder& b, TensorId tokens, const TransformerConfig& c) {
  TensorId x = tokens;
  for (int l = 0; l < c.layers; ++l) {
    auto scope = b.scope("layer" + std::to_string(l));
    // Attention block: Q, K, V projections; the core as a fused attention kernel's memory
    // traffic (read Q, K, V, write the context: a 3-input elementwise op, no score FLOPs); the
    // output projection.
    const TensorId a_in = c.pre_norm ? b.batch_norm(x) : x;
    const TensorId q = b.linear(a_in, c.hidden);
    const TensorId k = b.linear(a_in, c.hidden);
    const TensorId v = b.linear(a_in, c.hidden);
    const TensorId attn = b.linear(b.add(std::vector<TensorId>{q, k, v}), c.hidden);
    x = b.add(x, attn);
    if (!c.pre_norm) x = b.batch_norm(x);
    // MLP block.
    const TensorId m_in = c.pre_norm ? b.batch_norm(x) : x;
    const TensorId h = b.activation(b.linear(m_in, c.ffn), "gelu");
    x = b.add(x, b.linear(h, c.hidden));
    if (!c.pre_norm) x = b.batch_norm(x);
  }
  if (c.pre_norm) x = b.batch_norm(x);
  auto scope = b.scope("head");
  return b.linear(x, c.vocab, false);
}

}  // namespace workloads::zoo

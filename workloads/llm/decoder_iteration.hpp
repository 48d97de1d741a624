#pragma once
// The kernels one GPU of a tensor-parallel group launches for one serving iteration of a
// decoder, as pure descriptions (the hardware model prices them). An iteration is a batch of
// prompt chunks and decode tokens; the token-parallel work (norms, the QKV/O projections, the
// MLP, residual adds) runs as GEMMs over all of the batch's tokens flattened (Orca's selective
// batching), lowered like cuBLAS would tile them; attention runs per request against its own
// context: a FlashAttention-style kernel per prompt chunk, and one paged-attention kernel for
// every decode token of the batch (vLLM's PagedAttention v2 launch shape: a CTA per head,
// request and 512-token partition of the context, reading the KV blocks from DRAM).
//
// Megatron's split over `tp` GPUs: heads and MLP columns divided; with fewer KV heads than
// GPUs (grouped-query attention) each GPU holds a copy of one. The TP all-reduces and the
// pipeline sends are the interconnect's, not kernels here.

#include <cstdint>
#include <vector>

#include "workloads/kernel.hpp"
#include "workloads/llm/decoder_spec.hpp"
#include "workloads/lowering.hpp"
#include "workloads/op_graph.hpp"

namespace workloads {

struct DecoderShard {
  DecoderSpec model;
  int tp = 1;
  DType dtype = DType::fp16;
  LoweringOptions lowering;  // the GPU's (GpuSpec::lowering)

  int heads() const { return model.heads / tp; }                         // per GPU
  int kv_heads() const { return model.kv_heads >= tp ? model.kv_heads / tp : 1; }  // per GPU
  std::int64_t element() const { return dtype_size(dtype); }
};

// One layer's token-parallel work over `tokens` flattened tokens, in launch order: the residual
// add fused with the input norm, the QKV projection, rotary embedding (RoPE models), the output
// projection, the residual add fused with the post-attention norm, the MLP (dense, or the
// router and each expert's share of the tokens for a mixture of experts).
std::vector<KernelDesc> layer_dense_kernels(const DecoderShard& s, std::int64_t tokens);
// Attention of one prompt chunk of `chunk` tokens after `prior` tokens of its context already
// cached (0 for a whole prompt): causal, Q x K^T and P x V on tensor cores, the chunk's K and V
// written to the cache.
KernelDesc prefill_attention_kernel(const DecoderShard& s, std::int64_t chunk, std::int64_t prior);
// Attention of one decode token for each of `requests` requests with `context` tokens of
// context each, read from the paged cache.
KernelDesc decode_attention_kernel(const DecoderShard& s, std::int64_t requests,
                                   std::int64_t context);
// The token (and learned position) embedding lookup of `tokens` tokens (the first stage).
std::vector<KernelDesc> embedding_kernels(const DecoderShard& s, std::int64_t tokens);
// The final norm, the LM head's vocabulary shard and sampling for `rows` rows that emit a token
// (the last stage).
std::vector<KernelDesc> lm_head_kernels(const DecoderShard& s, std::int64_t rows);

}  // namespace workloads

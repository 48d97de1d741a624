// Decoder architectures (workloads/llm): parameter counts equal the published ones, the KV cache
// per token, tensor-parallel checks, and a user's own model from YAML.
#include <doctest/doctest.h>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "workloads/llm/decoder_spec.hpp"

using workloads::decoder;

TEST_CASE("Llama and Mixtral parameter counts equal the published ones exactly") {
  // The counts their model cards and checkpoints report (safetensors index totals).
  CHECK(decoder("llama2-7b").parameters() == 6'738'415'616);
  CHECK(decoder("llama2-13b").parameters() == 13'015'864'320);
  CHECK(decoder("llama2-70b").parameters() == 68'976'648'192);
  CHECK(decoder("llama3-8b").parameters() == 8'030'261'248);
  CHECK(decoder("llama3-70b").parameters() == 70'553'706'496);
  CHECK(decoder("mixtral-8x7b").parameters() == 46'702'792'704);
}

TEST_CASE("Orca's GPT-3-style models come to their nominal sizes") {
  // Published as rounded sizes (Orca, OSDI 2022, Table 2; GPT-3 175B: 174.6 B by the formula
  // 12 L h^2 + 13 L h + (V + 2048) h + 2h).
  CHECK(decoder("gpt3-175b").parameters() == 174'604'259'328);
  auto within = [](const char* name, double nominal) {
    CAPTURE(name);
    CHECK(static_cast<double>(decoder(name).parameters()) / nominal == doctest::Approx(1).epsilon(0.02));
  };
  within("gpt3-13b", 13e9);
  within("gpt3-101b", 101e9);
  within("gpt3-175b", 175e9);
  within("gpt3-341b", 341e9);
}

TEST_CASE("KV cache per token and tensor parallelism") {
  // Llama-2-70B: 80 layers x 8 KV heads x 128 x (K, V) = 163,840 values a token.
  CHECK(decoder("llama2-70b").kv_elements_per_token() == 163'840);
  CHECK(decoder("llama2-7b").kv_elements_per_token() == 2 * 32 * 4096);
  CHECK(decoder("llama2-70b").tensor_parallel_error(8).empty());
  CHECK(decoder("llama2-70b").tensor_parallel_error(16).empty());  // 8 KV heads, replicated
  CHECK(decoder("llama2-70b").tensor_parallel_error(3).find("64 attention heads") !=
        std::string::npos);
  CHECK_FALSE(decoder("gpt3-13b").tensor_parallel_error(3).empty());
}

TEST_CASE("a user's own decoder from YAML, checked; unknown names suggest the nearest") {
  auto cfg = [](const char* yaml) { return sim::Config(sim::parse_yaml(yaml, "m.yaml"), "model"); };
  const auto d = workloads::read_decoder(
      cfg("{name: tiny, layers: 2, hidden: 256, heads: 4, kv_heads: 2, ffn: 512, vocab: 1000,"
          " mlp: swiglu, norm: rmsnorm, bias: false, tied_embeddings: false}"));
  CHECK(d.head_dim == 64);
  CHECK(d.kv_dim() == 128);
  // attention 2 x 256^2 + 2 x 256 x 128, MLP 3 x 256 x 512, norms 2 x 256; 2 layers; two
  // embeddings of 1000 x 256; the final norm.
  CHECK(d.parameters() == 2 * (2 * 65536 + 2 * 32768 + 3 * 131072 + 512) + 2 * 256000 + 256);
  CHECK_THROWS_WITH_AS(workloads::read_decoder(cfg("{name: x, layers: 2, hidden: 250, heads: 4,"
                                                   " ffn: 8, vocab: 8}")),
                       doctest::Contains("does not divide hidden 250"), sim::InputError);
  CHECK_THROWS_WITH_AS(workloads::read_decoder(cfg("{name: x, layers: 2, hidden: 256, heads: 4,"
                                                   " kv_heads: 3, ffn: 8, vocab: 8}")),
                       doctest::Contains("m.yaml:1:"), sim::InputError);
  CHECK_THROWS_WITH_AS(workloads::decoder("llama2-70"), doctest::Contains("llama2-70b"),
                       sim::InputError);
}

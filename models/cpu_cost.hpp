#pragma once
// What a classical-ML pipeline operator costs on one core of a server CPU (PRETZEL's setting:
// the featurizers and linear models of workloads/ml_pipeline.hpp run on the host). Costs come
// from the work an operator does on its input -- characters scanned, n-grams hashed and looked
// up, features multiplied, tree nodes visited -- at per-item costs of the core and its memory
// hierarchy, never from a per-pipeline constant:
//   - a dictionary lookup or a weight read is a random access: an LLC hit or a DRAM miss. The
//     hit rate comes from the cache the dictionary's copy gets: n-gram frequencies are Zipfian,
//     so a copy holding its k most frequent of E entries in cache hits ln(1+k)/ln(1+E) of the
//     lookups, and k shrinks as more copies (black box: one per model) share the LLC;
//   - an interpreted operator (a black-box runtime: ML.NET's per-operator cursors) pays a
//     dispatch cost and materializes its output; a fused stage (white box) pays one dispatch
//     and keeps intermediates in registers/L1.
// Parameters are estimates for a 2017-era Xeon (PRETZEL's machine is not in the text we could
// read); docs/pretzel.md gives each its reasoning.

#include <cstdint>

#include "sim/params.hpp"
#include "sim/time.hpp"
#include "workloads/ml_pipeline.hpp"

namespace models {

struct CpuSpec {
  int cores = 16;
  double llc_bytes = 40e6;        // last-level cache shared by the cores
  double scan_per_char = 1.5e-9;  // tokenizing: a character scanned and classified
  double hash_per_ngram = 8e-9;   // hashing one n-gram (n characters or words)
  double llc_hit = 30e-9;         // a random access served by the LLC
  double dram_miss = 95e-9;       // one served by DRAM
  double fma = 0.5e-9;            // a multiply-add on a resident value
  double copy_bandwidth = 5e9;    // bytes/s materializing an intermediate (allocate + write)
  double op_dispatch = 2e-6;      // an interpreted operator's per-prediction setup
  double stage_dispatch = 0.3e-6; // a fused stage's
  double disk_bandwidth = 1e9;    // loading parameters on a cold start
  double jit_per_op = 5e-3;       // compiling an operator's code on first use (black box)

  // The `cpu:` section of a scenario (keys in cpu_params(), under `cpu.`).
  static CpuSpec from_params(const sim::Params& cpu_section);
};
const sim::ParamSchema& cpu_params();

// One operator's run for one request: how long, and how many items (tokens, sparse features,
// dense features) it hands on.
struct OpRun {
  double seconds = 0;
  std::int64_t items = 0;
};

// `op` on a request of `characters` whose inputs produced `input_items` in all. `hit_rate`:
// the fraction of its random accesses (dictionary, weights, tree nodes) the LLC serves;
// `fused`: it runs inside a white-box stage (no dispatch of its own, nothing materialized).
OpRun run_op(const CpuSpec& cpu, const workloads::PipelineOp& op, std::int64_t characters,
             std::int64_t input_items, double hit_rate, bool fused);

// Writing `items` sparse entries of an intermediate out (allocated, then written).
double materialize_seconds(const CpuSpec& cpu, std::int64_t items);

// Zipfian hit rate of a table of `entries` whose copy gets `cached_entries` of the LLC.
double zipf_hit_rate(double entries, double cached_entries);

}  // namespace models

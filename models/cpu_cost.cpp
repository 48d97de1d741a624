#include "models/cpu_cost.hpp"

#include <algorithm>
#include <cmath>

namespace models {

namespace {
// A word and its separator in English review text (about 5.5 characters).
constexpr double kCharsPerWord = 5.5;
constexpr double kSparseEntryBytes = 8;  // (feature id, value) of a sparse vector
}  // namespace

const sim::ParamSchema& cpu_params() {
  static const sim::ParamSchema s = sim::schema(R"(
cpu                | map       | {}       | the serving host's CPU (estimates: docs/pretzel.md)
cpu.cores          | int       | 16       | cores of the serving host
cpu.llc            | size      | 40 MiB   | last-level cache the cores share
cpu.scan_per_char  | duration  | 1.5 ns   | tokenizing: one character scanned and classified
cpu.hash_per_ngram | duration  | 8 ns     | hashing one n-gram
cpu.llc_hit        | duration  | 30 ns    | a random access the LLC serves
cpu.dram_miss      | duration  | 95 ns    | a random access DRAM serves
cpu.fma            | duration  | 0.5 ns   | a multiply-add on a resident value
cpu.copy_bandwidth | bandwidth | 5 GB/s   | materializing an intermediate (allocate and write)
cpu.op_dispatch    | duration  | 2 us     | an interpreted operator's per-prediction setup (black box)
cpu.stage_dispatch | duration  | 0.3 us   | a fused stage's (white box)
cpu.disk_bandwidth | bandwidth | 1 GB/s   | loading parameters on a cold start
cpu.jit_per_op     | duration  | 5 ms     | compiling an operator's code on its first use (black box)
)");
  return s;
}

CpuSpec CpuSpec::from_params(const sim::Params& p) {
  CpuSpec c;
  c.cores = static_cast<int>(p.integer("cores", 1, 4096));
  c.llc_bytes = static_cast<double>(p.size("llc"));
  c.scan_per_char = p.duration("scan_per_char").seconds();
  c.hash_per_ngram = p.duration("hash_per_ngram").seconds();
  c.llc_hit = p.duration("llc_hit").seconds();
  c.dram_miss = p.duration("dram_miss").seconds();
  c.fma = p.duration("fma").seconds();
  c.copy_bandwidth = p.bandwidth("copy_bandwidth");
  c.op_dispatch = p.duration("op_dispatch").seconds();
  c.stage_dispatch = p.duration("stage_dispatch").seconds();
  c.disk_bandwidth = p.bandwidth("disk_bandwidth");
  c.jit_per_op = p.duration("jit_per_op").seconds();
  if (c.copy_bandwidth <= 0 || c.disk_bandwidth <= 0)
    p.value("copy_bandwidth").fail("bandwidths must be > 0");
  return c;
}

double materialize_seconds(const CpuSpec& cpu, std::int64_t items) {
  return static_cast<double>(items) * kSparseEntryBytes / cpu.copy_bandwidth;
}

double zipf_hit_rate(double entries, double cached_entries) {
  if (entries <= 0) return 1;
  const double k = std::clamp(cached_entries, 0.0, entries);
  return std::log1p(k) / std::log1p(entries);
}

OpRun run_op(const CpuSpec& cpu, const workloads::PipelineOp& op, std::int64_t characters,
             std::int64_t input_items, double hit_rate, bool fused) {
  using workloads::PipelineOpKind;
  const double chars = static_cast<double>(characters);
  const double words = std::max(1.0, std::round(chars / kCharsPerWord));
  const double access = hit_rate * cpu.llc_hit + (1 - hit_rate) * cpu.dram_miss;
  OpRun r;
  switch (op.kind) {
    case PipelineOpKind::tokenize:
      r.seconds = chars * cpu.scan_per_char;
      r.items = static_cast<std::int64_t>(words);
      break;
    case PipelineOpKind::char_ngram: {
      const double ngrams = std::max(1.0, chars - op.ngram + 1);
      r.seconds = ngrams * (cpu.hash_per_ngram + access);
      r.items = static_cast<std::int64_t>(ngrams);
      break;
    }
    case PipelineOpKind::word_ngram: {
      // Every 1..n-gram starting at each word.
      const double ngrams = words * op.ngram;
      r.seconds = ngrams * (cpu.hash_per_ngram + access);
      r.items = static_cast<std::int64_t>(ngrams);
      break;
    }
    case PipelineOpKind::concat:
      r.items = input_items;
      break;  // its cost is the copy below; fused, it is an index offset
    case PipelineOpKind::normalize:
      r.seconds = 2 * static_cast<double>(op.entries) * cpu.fma;
      r.items = op.entries;
      break;
    case PipelineOpKind::linear: {
      // One weight read (a random access into the model's vector) and a multiply-add per
      // input feature.
      const double features = static_cast<double>(input_items > 0 ? input_items : op.entries);
      r.seconds = features * (access + cpu.fma);
      r.items = 1;
      break;
    }
    case PipelineOpKind::trees:
      r.seconds = static_cast<double>(op.trees) * op.depth * access;
      r.items = 1;
      break;
  }
  if (!fused) {
    r.seconds += cpu.op_dispatch;
    const bool copies = op.kind != PipelineOpKind::linear && op.kind != PipelineOpKind::trees;
    if (copies) r.seconds += materialize_seconds(cpu, r.items);
  }
  return r;
}

}  // namespace models

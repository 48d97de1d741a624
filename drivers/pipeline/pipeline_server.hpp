#pragma once
// A prediction server for classical-ML pipelines on the cores of one host (PRETZEL, Lee et al.,
// OSDI 2018), in two modes:
//   black_box  each pipeline is an opaque model (ML.NET: a loaded model per pipeline, or a
//              container each): its own copy of every parameter, an interpreted operator per
//              op (dispatch + a materialized intermediate), a cold start on its first request
//              (parameters from disk, operators compiled); requests queue FCFS on all cores;
//   white_box  pipelines are plans over shared objects: an object store holds identical
//              parameters once (loaded on first use of the object, not of the pipeline), plans
//              are compiled ahead of time into stages (a stage ends where an output has several
//              readers; inside it nothing is materialized), sub-plans common to the pipelines
//              one input is scored by run once per input, and latency-critical pipelines get
//              reserved cores while the rest share the others.
// Operator costs come from models/cpu_cost.hpp; the LLC each table copy gets depends on how
// many copies are hot, so deduplication also shows up in the hit rates.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "drivers/system.hpp"
#include "models/cpu_cost.hpp"
#include "sim/time.hpp"
#include "workloads/ml_pipeline.hpp"

namespace drivers {

enum class PipelineServing { black_box, white_box };

struct PipelineServerOptions {
  PipelineServing mode = PipelineServing::black_box;
  models::CpuSpec cpu;
  double runtime_bytes = 150e6;       // the serving process (CLR, ML.NET, the server), once
  double model_runtime_bytes = 8e6;   // black box: a loaded model's operator objects and code
  double container_bytes = 0;         // black box: a container per model (Clipper-style)
  double plan_bytes = 64e3;           // white box: a compiled plan
  int reserved_cores = 2;             // white box: cores only latency-critical pipelines use
  bool warm = false;                  // everything loaded before the first request
  // Seconds per prediction of the on-GPU operators, by gpu_operator_key (gpu_operators.hpp);
  // they run on one GPU in the order their jobs start on the cores, while the core waits.
  std::map<std::string, double> gpu_seconds;
};

using workloads::PipelineRequest;

struct PipelineServingResult {
  double memory_bytes = 0;               // all the zoo's pipelines loaded
  std::vector<double> latency_seconds;   // per (request, pipeline), in request order
  double p50 = 0, p99 = 0, mean = 0;     // seconds
  double throughput = 0;                 // predictions per second, first arrival to last done
  std::int64_t cold_starts = 0;          // pipelines (black box) or objects (white box) loaded
  double mean_hit_rate = 0;              // LLC hit rate of the random accesses, time-weighted
  double gpu_busy = 0;                   // fraction of the run the GPU computed
  RunSummary run;
};

// Bytes the server holds with every pipeline of `zoo` loaded.
double serving_memory(const std::vector<workloads::Pipeline>& zoo,
                      const PipelineServerOptions& o);
// How many pipelines like the zoo's fit in `capacity`: the fixed part once, then each
// pipeline's own bytes (black box: everything; white box: its plan and the objects no other
// pipeline of the zoo shares), on average over the zoo.
double pipelines_per_device(const std::vector<workloads::Pipeline>& zoo,
                            const PipelineServerOptions& o, double capacity);

// Parameter objects that more than one pipeline of `zoo` holds.
std::size_t shared_parameter_objects(const std::vector<workloads::Pipeline>& zoo);

PipelineServingResult serve_pipelines(const std::vector<workloads::Pipeline>& zoo,
                                      const std::vector<PipelineRequest>& requests,
                                      const PipelineServerOptions& o);

}  // namespace drivers

#pragma once
// Classical-ML prediction pipelines (ML.NET style) as DAGs of operators, the workload of
// PRETZEL (Lee et al., OSDI 2018): a sentiment pipeline tokenizes a review, featurizes it with
// character and word n-gram dictionaries, concatenates the sparse features and scores them with
// a linear model; a regression pipeline normalizes dense features and scores them with a linear
// model or a tree ensemble. An operator's parameters (a dictionary, a weight vector) are an
// object with an id: two pipelines naming the same id hold identical parameters, which a
// white-box server stores once. Pure description: the CPU cost model (models/cpu_cost.hpp)
// prices the operators, the pipeline server (drivers/pipeline) runs them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config.hpp"
#include "sim/rng.hpp"
#include "sim/time.hpp"
#include "workloads/request_stream.hpp"

namespace workloads {

enum class PipelineOpKind { tokenize, char_ngram, word_ngram, concat, normalize, linear, trees };

std::string_view pipeline_op_name(PipelineOpKind k);
std::vector<std::string> pipeline_op_names();

struct PipelineOp {
  std::string name;
  PipelineOpKind kind = PipelineOpKind::tokenize;
  std::vector<int> inputs;  // indices of earlier-or-later ops of the pipeline; none: the request
  // The parameter object: "" for none (tokenize, concat). Same id = identical parameters.
  std::string params;
  std::int64_t param_bytes = 0;
  std::int64_t entries = 0;  // dictionary entries (n-grams) or weights / features
  int ngram = 1;             // n-gram length (char_ngram, word_ngram)
  int trees = 0, depth = 0;  // trees
  // Where it runs. Tree ensembles may run on the GPU, compiled to a tensor program
  // (tree_ensemble.hpp); every other operator runs on the host's cores.
  bool on_gpu = false;
};

struct Pipeline {
  std::string name;
  std::vector<PipelineOp> ops;
  bool latency_critical = false;  // a white-box server gives these reserved executors

  std::int64_t parameter_bytes() const;
};

// The ops in dependency order (inputs first; among ready ops the lowest index). Throws
// sim::InputError naming the pipeline and an op on a cycle, or an input index out of range.
std::vector<int> pipeline_order(const Pipeline& p);

// Indices in [0, n) drawn with probability proportional to 1 / (index + 1)^exponent: item 0
// the most popular (popularity in a model zoo, n-gram frequencies). The cumulative weights are
// computed once.
class ZipfSampler {
 public:
  ZipfSampler(int n, double exponent = 1);
  int draw(sim::RngStream& rng) const;
  // `k` distinct indices: each drawn as above among those not drawn yet.
  std::vector<int> draw_distinct(sim::RngStream& rng, int k) const;
  int size() const { return static_cast<int>(cumulative_.size()); }

 private:
  std::vector<double> weight_, cumulative_;
};

// The zoo PRETZEL evaluates: `sentiment` sentiment pipelines and `regression` regression
// pipelines. Sentiment pipelines draw their char and word dictionaries from small families of
// distinct ones (Zipf-popular: a few dictionaries are reused by most pipelines, as a model zoo
// trained from a handful of featurizer configurations is); each has its own linear weights.
// Regression pipelines share normalizers and own their model. Seeded and deterministic.
struct PipelineZooSpec {
  int sentiment = 250;
  int regression = 50;
  int char_dictionaries = 8;   // distinct char n-gram dictionaries in the zoo
  int word_dictionaries = 8;   // distinct word n-gram dictionaries
  int latency_critical = 10;   // the first N pipelines are latency-critical
  bool trees_on_gpu = false;   // the regression pipelines' tree ensembles run on the GPU
};
std::vector<Pipeline> make_pipeline_zoo(const PipelineZooSpec& spec, sim::RngStream& rng);

// One input (a review of `characters`) scored by one or more pipelines (indices into a zoo).
struct PipelineRequest {
  sim::Time arrival;
  std::vector<int> pipelines;
  std::int64_t characters = 0;
};

// Popularity rank -> pipeline: a seeded permutation of a zoo of `pipelines`, so popularity does
// not follow the zoo's order (its first pipelines are the latency-critical ones).
std::vector<int> popularity_ranks(int pipelines, sim::RngStream& rng);
// The stream's requests (their prompt lengths are the characters) each scored by `fanout`
// distinct pipelines drawn Zipf-popular with `popularity` over `ranks`, from `picks`.
std::vector<PipelineRequest> assign_pipelines(const std::vector<Request>& requests,
                                              const std::vector<int>& ranks, double popularity,
                                              int fanout, sim::RngStream& picks);

// Pipelines written out in a scenario's `pipelines:` list (docs/pretzel.md gives the keys);
// bad input (an unknown kind or op, a cycle, a negative size) is an InputError at the value.
std::vector<Pipeline> read_pipelines(const sim::Config& list);

}  // namespace workloads

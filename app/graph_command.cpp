#include "app/graph_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "workloads/model_zoo.hpp"
#include "workloads/op_graph_io.hpp"
#include "workloads/tree_ensemble.hpp"

namespace app {
namespace {

struct GraphExportOptions {
  std::string model;
  int batch = 1;
  int image_size = 0;
  int sequence = 0;
  int classes = 0;  // 0: the model's published classifier
  std::string dtype = "fp32";
  bool training = false;
  std::string out;  // .yaml, .yml or .json; empty: YAML on stdout
};

struct TreeExportOptions {
  workloads::TreeEnsemble ensemble;
  std::string strategy = "heuristic";
  std::string kind = "random_forest";
  std::int64_t batch = 1;
  std::string dtype = "fp32";
  bool training = false;
  std::string out;
};

// Writes `g` to `out_file`, or as YAML to the console when none is given.
int write_graph(const workloads::OpGraph& g, const std::string& out_file, std::ostream& out) {
  if (out_file.empty()) {
    out << workloads::format_op_graph(g, workloads::GraphFormat::yaml);
    return kExitOk;
  }
  workloads::write_op_graph(g, out_file);
  out << fmt::format("{}: {} ({} ops, {} tensors, {} parameters)\n", out_file, g.name(),
                     g.op_count(), g.tensor_count(), g.parameter_count());
  return kExitOk;
}

workloads::DType dtype_option(const std::string& text) {
  workloads::DType d;
  try {
    d = workloads::parse_dtype(text);
  } catch (const sim::InputError& e) {
    throw sim::InputError(fmt::format("--dtype: {}", e.what()));
  }
  if (d == workloads::DType::int64)
    throw sim::InputError("--dtype: int64 is an index type, not a model's precision");
  return d;
}

// A command-line value as a config value, so the readers' errors name the flag.
sim::Config flag_value(const std::string& value, const char* flag) {
  auto node = std::make_shared<sim::ConfigNode>();
  node->kind = sim::ConfigNode::Kind::kScalar;
  node->scalar = value;
  node->pos = sim::SourcePos{flag};
  return sim::Config(node, std::string(flag).substr(2));
}

int trees_export(const TreeExportOptions& o, std::ostream& out) {
  workloads::TreeEnsemble e = o.ensemble;
  e.kind = workloads::read_ensemble_kind(flag_value(o.kind, "--kind"));
  workloads::TreeGraphOptions to;
  to.batch = o.batch;
  to.dtype = dtype_option(o.dtype);
  to.training = o.training;
  if (o.strategy == "heuristic") {
    // Only the gemm form trains; inference takes the depth heuristic's pick.
    to.strategy = o.training ? workloads::TreeStrategy::gemm
                             : workloads::heuristic_tree_strategy(o.ensemble.depth);
  } else {
    to.strategy = workloads::read_tree_strategy(flag_value(o.strategy, "--strategy"));
  }
  return write_graph(workloads::make_tree_graph(e, to), o.out, out);
}

int graph_export(const GraphExportOptions& o, std::ostream& out) {
  workloads::ModelOptions mo;
  mo.batch = o.batch;
  mo.image_size = o.image_size;
  mo.sequence = o.sequence;
  mo.training = o.training;
  if (o.classes != 0) mo.num_classes = o.classes;
  mo.dtype = dtype_option(o.dtype);
  const std::string name = workloads::read_model_name(flag_value(o.model, "--model"));
  return write_graph(workloads::make_model(name, mo), o.out, out);
}

}  // namespace

Command add_graph_command(CLI::App& cli) {
  auto* graph = cli.add_subcommand(
      "graph", "op graphs: write a zoo model or a tree ensemble's tensor program as a file to edit");
  graph->require_subcommand(1);
  auto opts = std::make_shared<GraphExportOptions>();
  GraphExportOptions& o = *opts;
  auto* sub = graph->add_subcommand(
      "export", "write a zoo model as an op-graph file (docs/op-graph-format.md)");
  sub->add_option("--model,-m", o.model, "a zoo model (`warpsim list model`)")->required();
  sub->add_option("--batch,-b", o.batch, "samples per step")->capture_default_str();
  sub->add_option("--image-size", o.image_size, "input height and width (0: the model's)");
  sub->add_option("--sequence", o.sequence, "transformers: tokens per sample (0: the model's)");
  sub->add_option("--classes", o.classes, "classifier outputs (0: the model's published ones)");
  sub->add_option("--dtype", o.dtype, "fp32 | fp16 | bf16 ...")->capture_default_str();
  sub->add_flag("--training", o.training, "one training step (forward, backward, optimizer)");
  sub->add_option("--out,-o", o.out, "file to write (.yaml, .yml or .json; default: YAML on stdout)");
  auto topts = std::make_shared<TreeExportOptions>();
  TreeExportOptions& t = *topts;
  auto* trees = graph->add_subcommand(
      "trees", "write a tree ensemble compiled to a tensor program (Hummingbird) as an op-graph file");
  trees->add_option("--kind", t.kind, "random_forest | gradient_boosting")->capture_default_str();
  trees->add_option("--trees", t.ensemble.trees, "trees (boosting with > 2 classes: rounds)")
      ->capture_default_str();
  trees->add_option("--depth", t.ensemble.depth, "depth of each (complete) tree")->capture_default_str();
  trees->add_option("--features", t.ensemble.features, "features per sample")->capture_default_str();
  trees->add_option("--classes", t.ensemble.classes, "outputs per sample")->capture_default_str();
  trees->add_option("--strategy", t.strategy,
                    "gemm | tree_traversal | perfect_tree_traversal | heuristic (by depth)")
      ->capture_default_str();
  trees->add_option("--batch,-b", t.batch, "samples")->capture_default_str();
  trees->add_option("--dtype", t.dtype, "fp32 | fp16 | bf16 ...")->capture_default_str();
  trees->add_flag("--training", t.training, "a fine-tuning step of the relaxed gemm form");
  trees->add_option("--out,-o", t.out, "file to write (.yaml, .yml or .json; default: YAML on stdout)");
  return {graph, [opts, sub, topts, trees](sim::PluginCatalog&, std::ostream& out) {
            if (*trees) return trees_export(*topts, out);
            if (!*sub) throw sim::InputError("graph: say what to do (export, trees)");
            return graph_export(*opts, out);
          }};
}

}  // namespace app

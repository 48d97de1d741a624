#include "app/graph_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "workloads/model_zoo.hpp"
#include "workloads/op_graph_io.hpp"

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

int graph_export(const GraphExportOptions& o, std::ostream& out) {
  const auto where = sim::SourcePos{"--model"};
  workloads::ModelOptions mo;
  mo.batch = o.batch;
  mo.image_size = o.image_size;
  mo.sequence = o.sequence;
  mo.training = o.training;
  if (o.classes != 0) mo.num_classes = o.classes;
  try {
    mo.dtype = workloads::parse_dtype(o.dtype);
  } catch (const sim::InputError& e) {
    throw sim::InputError(fmt::format("--dtype: {}", e.what()));
  }
  auto node = std::make_shared<sim::ConfigNode>();
  node->kind = sim::ConfigNode::Kind::kScalar;
  node->scalar = o.model;
  node->pos = where;
  const std::string name = workloads::read_model_name(sim::Config(node, "model"));
  const workloads::OpGraph g = workloads::make_model(name, mo);
  if (o.out.empty()) {
    out << workloads::format_op_graph(g, workloads::GraphFormat::yaml);
    return kExitOk;
  }
  workloads::write_op_graph(g, o.out);
  out << fmt::format("{}: {} ({} ops, {} tensors, {} parameters)\n", o.out, g.name(),
                     g.op_count(), g.tensor_count(), g.parameter_count());
  return kExitOk;
}

}  // namespace

Command add_graph_command(CLI::App& cli) {
  auto* graph = cli.add_subcommand("graph", "op graphs: write a zoo model as a file to edit");
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
  return {graph, [opts, sub](sim::PluginCatalog&, std::ostream& out) {
            if (!*sub) throw sim::InputError("graph: say what to do (export)");
            return graph_export(*opts, out);
          }};
}

}  // namespace app

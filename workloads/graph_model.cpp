#include "workloads/graph_model.hpp"

#include <fmt/format.h>

#include <vector>

#include "sim/error.hpp"
#include "workloads/op_graph_io.hpp"
#include "workloads/training_step.hpp"

namespace workloads {

bool is_graph_file_name(std::string_view name) {
  return name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
}

std::int64_t graph_batch(const OpGraph& g) {
  if (g.batch() > 0) return g.batch();
  for (std::size_t i = 0; i < g.tensor_count(); ++i) {
    const auto id = static_cast<TensorId>(i);
    const Tensor& t = g.tensor(id);
    if (g.producer(id) < 0 && !t.parameter && !t.shape.empty()) return t.shape.front();
  }
  return 0;
}

OpGraph load_graph_model(const std::filesystem::path& file, const ModelOptions& options) {
  OpGraph g = read_op_graph(file);
  const std::int64_t batch = graph_batch(g);
  if (batch != 0 && batch != options.batch)
    throw sim::InputError(fmt::format(
        "{}: the graph is written for batch {} (its `batch`, or its first input's leading "
        "dimension), the run "
        "asks for batch {}: export it at that batch (warpsim graph export --batch {}) or run "
        "at batch {}",
        file.string(), batch, options.batch, options.batch, batch));
  if (!options.training || g.count_ops(OpKind::optimizer_update) > 0) return g;
  // A forward graph: the training step goes on its one output (a tensor nobody reads).
  std::vector<TensorId> outputs;
  for (std::size_t i = 0; i < g.tensor_count(); ++i) {
    const auto id = static_cast<TensorId>(i);
    if (g.producer(id) >= 0 && g.consumers(id).empty()) outputs.push_back(id);
  }
  if (outputs.size() != 1)
    throw sim::InputError(fmt::format(
        "{}: training needs a forward graph with one output (its logits) to append the "
        "backward pass to; this one has {}",
        file.string(), outputs.size()));
  try {
    append_training_step(g, outputs.front());
  } catch (const sim::InputError& e) {
    throw sim::InputError(fmt::format("{}: {}", file.string(), e.what()));
  }
  return g;
}

}  // namespace workloads

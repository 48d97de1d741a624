#pragma once
// A model of the user's own: an op-graph file (docs/op-graph-format.md) written by
// `warpsim graph export`, edited by hand, or produced by another tool (scripts/
// export_torch_graph.py). Every place that takes a zoo model name takes such a file too
// (model_zoo.hpp: read_model_name, make_model).
//
// The file is taken as written: its shapes fix its batch, so a run at another batch is bad
// input (export it again at that batch). For training, a forward graph gets the training step
// appended (training_step.hpp) at its one output; a graph that already has optimizer updates is
// a training step as it stands.

#include <filesystem>
#include <string_view>

#include "workloads/model_zoo.hpp"
#include "workloads/op_graph.hpp"

namespace workloads {

// Whether a model name is a graph file (it ends in .yaml, .yml or .json).
bool is_graph_file_name(std::string_view name);

// The graph of `file` for a run with `options` (batch, training; the file's own dtypes and
// sizes stand, so image_size and dtype are not used). Bad input names the file.
OpGraph load_graph_model(const std::filesystem::path& file, const ModelOptions& options);

// The batch a graph is written for: its `batch` when the file says, else the leading
// dimension of its first input (a tensor no op produces that is not a parameter); 0 when it
// has no input.
std::int64_t graph_batch(const OpGraph& g);

}  // namespace workloads

#pragma once
// Reading and writing op graphs as YAML or JSON (the format: docs/op-graph-format.md).
//
// Both forms share one reader built on sim::Config, so mistakes are sim::InputErrors at
// "file:line:col": unknown keys (with the nearest valid key), wrong types, negative shapes,
// unknown op kinds, tensors or ops referred to by a name nobody defined, and everything
// OpGraph::check() finds (shape mismatches, cycles) at the op concerned.

#include <filesystem>
#include <string>

#include "workloads/op_graph.hpp"

namespace workloads {

enum class GraphFormat { yaml, json };

// ".json" -> json; ".yaml"/".yml" -> yaml; anything else is an InputError.
GraphFormat graph_format_for(const std::filesystem::path& file);

OpGraph read_op_graph(const std::filesystem::path& file);
OpGraph parse_op_graph(const std::string& text, GraphFormat format,
                       const std::string& source_name = "<op graph>");

std::string format_op_graph(const OpGraph& g, GraphFormat format);
// Written whole or not at all (sim::write_file_atomic).
void write_op_graph(const OpGraph& g, const std::filesystem::path& file);

}  // namespace workloads

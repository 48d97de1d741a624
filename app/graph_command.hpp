#pragma once
// `warpsim graph export`: a zoo model written as an op-graph file (docs/op-graph-format.md), to
// edit and run as a model of one's own (`model: my.yaml` wherever a zoo name goes).

#include "app/command.hpp"

namespace app {

Command add_graph_command(CLI::App& cli);

}  // namespace app

#pragma once
// `warpsim serve`: one LLM serving run from flags -- the `serving` experiment's point
// (configs/experiments/serving.yaml) with the flags as overrides, run and written like
// `warpsim run --point`, so its results folder re-runs with `warpsim run`.

#include "app/command.hpp"

namespace app {

Command add_serve_command(CLI::App& cli);

}  // namespace app

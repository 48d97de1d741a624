#pragma once
// Where the program finds its configuration library (configs/gpus, configs/systems, ...).

#include <filesystem>
#include <vector>

#include "sim/config.hpp"

namespace app {

// In order: $WARPSIM_CONFIG_PATH (colon-separated), the source tree's configs/ beside the
// build folder (build/app/warpsim -> configs/), an installed share/warpsim/configs, ./configs.
std::vector<std::filesystem::path> config_search_dirs();

// The loader every command uses: those dirs, and the reference keys (gpu: -> gpus/,
// host: -> hosts/, system: -> systems/).
sim::ConfigLoader config_loader();

}  // namespace app

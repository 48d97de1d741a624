#pragma once
// Where the program finds its configuration library (configs/gpus, configs/systems, ...).

#include <filesystem>
#include <vector>

namespace app {

// In order: $WARPSIM_CONFIG_PATH (colon-separated), the source tree's configs/ beside the
// build folder (build/app/warpsim -> configs/), an installed share/warpsim/configs, ./configs.
std::vector<std::filesystem::path> config_search_dirs();

}  // namespace app

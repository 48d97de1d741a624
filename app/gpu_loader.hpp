#pragma once
// `--gpu NAME` as every command takes it: a preset in configs/gpus or a GPU yaml, with
// `--set` overrides, every key checked.

#include <filesystem>
#include <string>
#include <vector>

#include "models/gpu_spec.hpp"

namespace app {

// The GPU yaml `gpu` names: a path as given, or configs/gpus/<gpu>.yaml. Unknown names are
// InputErrors with a did-you-mean.
std::filesystem::path resolve_gpu_file(const std::string& gpu);

models::GpuSpec load_gpu_spec(const std::string& gpu, const std::vector<std::string>& overrides);

}  // namespace app

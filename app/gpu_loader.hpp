#pragma once
// `--gpu NAME` as every command takes it: a preset in configs/gpus or a GPU yaml, with
// `--set` overrides, every key checked.

#include <string>
#include <vector>

#include "models/gpu_spec.hpp"

namespace app {

models::GpuSpec load_gpu_spec(const std::string& gpu, const std::vector<std::string>& overrides);

}  // namespace app

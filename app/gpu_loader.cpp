#include "app/gpu_loader.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "app/paths.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/nearest.hpp"

namespace app {
namespace fs = std::filesystem;

fs::path resolve_gpu_file(const std::string& gpu) {
  if (gpu.empty()) throw sim::InputError("--gpu is required (a name in configs/gpus or a yaml)");
  const bool is_path =
      gpu.find('/') != std::string::npos || gpu.ends_with(".yaml") || gpu.ends_with(".yml");
  if (is_path) {
    if (!sim::is_file(gpu))
      throw sim::InputError(fmt::format("--gpu: no such file '{}'", gpu));
    return gpu;
  }
  const sim::ConfigLoader loader = config_loader();
  if (auto found = loader.find("gpus", gpu)) return *found;
  const auto names = loader.names("gpus");
  throw sim::InputError(fmt::format("unknown gpu '{}'{}; known: {}", gpu,
                                    sim::did_you_mean(gpu, names), fmt::join(names, ", ")));
}

models::GpuSpec load_gpu_spec(const std::string& gpu, const std::vector<std::string>& overrides) {
  const fs::path file = resolve_gpu_file(gpu);
  const sim::ConfigLoader loader = config_loader();
  auto root = std::make_shared<sim::ConfigNode>();
  root->kind = sim::ConfigNode::Kind::kMap;
  root->pos = sim::SourcePos{file.string()};
  root->entries.emplace_back("gpu", loader.load(file));
  for (const std::string& s : overrides)
    sim::apply_override(root, s.starts_with("gpu.") ? s : "gpu." + s);
  models::GpuSpec spec = models::GpuSpec::from_config(sim::Config(root, "").at("gpu"));
  sim::check_unused(root);
  return spec;
}

}  // namespace app

#include "sim/registry.hpp"

#include <boost/dll/shared_library.hpp>

#include "sim/files.hpp"
#include "sim/rng.hpp"

namespace sim {

std::vector<std::string> RegistryBase::names() const {
  std::vector<std::string> out;
  for (const auto& i : list()) out.push_back(i.name);
  return out;
}

struct PluginCatalog::Libraries {
  std::vector<boost::dll::shared_library> loaded;
};

PluginCatalog::PluginCatalog() : libraries_(std::make_unique<Libraries>()) {}

// Families are destroyed before the libraries that may own code for their factories.
PluginCatalog::~PluginCatalog() { families_.clear(); }

const RegistryBase* PluginCatalog::find(const std::string& name) const {
  auto it = families_.find(name);
  return it == families_.end() ? nullptr : it->second.get();
}

std::vector<const RegistryBase*> PluginCatalog::families() const {
  std::vector<const RegistryBase*> out;
  for (const auto& [k, f] : families_) out.push_back(f.get());
  return out;
}

std::vector<std::filesystem::path> PluginCatalog::plugin_paths() const {
  std::vector<std::filesystem::path> out;
  for (const LoadedPlugin& p : plugins_) out.push_back(p.path);
  return out;
}

std::uint64_t PluginCatalog::load_plugin(const std::filesystem::path& library) {
  if (!path_exists(library))
    throw InputError(SourcePos{library.string()}, "plugin library not found");
  const std::uint64_t hash = stable_hash(read_file(library));
  for (const LoadedPlugin& p : plugins_)
    if (p.hash == hash) return hash;  // loaded already (or a copy of it): its entries are in
  boost::dll::shared_library lib;
  try {
    lib.load(library, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_global);
  } catch (const std::exception& e) {
    throw InputError(SourcePos{library.string()}, std::string("cannot load plugin: ") + e.what());
  }
  if (!lib.has("warpsim_register_plugins"))
    throw InputError(SourcePos{library.string()},
                     "not a warpsim plugin: it exports no warpsim_register_plugins");
  const std::string abi =
      lib.has("warpsim_plugin_abi") ? lib.get<const char*()>("warpsim_plugin_abi")() : "";
  if (abi != WARPSIM_PLUGIN_ABI)
    throw InputError(SourcePos{library.string()},
                     fmt::format("built against {}, not {}: rebuild it against this warpsim",
                                 abi.empty() ? "a warpsim without a version stamp" : abi,
                                 WARPSIM_PLUGIN_ABI));
  auto& entry = lib.get<void(PluginCatalog&)>("warpsim_register_plugins");
  // Attribute what the library adds to it in `warpsim list`.
  auto attribute = [&](const std::string& origin) {
    origin_ = origin;
    for (auto& [k, f] : families_) f->set_origin(origin);
  };
  attribute(library.filename().string());
  try {
    entry(*this);
  } catch (...) {
    attribute("built-in");
    throw;
  }
  attribute("built-in");
  libraries_->loaded.push_back(std::move(lib));
  plugins_.push_back({std::filesystem::absolute(library).lexically_normal(), hash});
  return hash;
}

}  // namespace sim

#pragma once
// Plugin families: an abstract interface plus a Registry of named factories, each entry with a
// one-line description and a params schema (SST's ELI idea: the documentation lives beside the
// factory, and `warpsim list` prints it).
//
// Registration is explicit: each folder exports `register_<folder>_plugins(PluginCatalog&)`,
// called by the program and the tests (static self-registration is dropped by the linker from
// static libraries). An out-of-tree plugin is a shared library exporting
//   extern "C" void warpsim_register_plugins(sim::PluginCatalog&);
// loaded with `--plugin lib.so` (Boost.DLL); it adds entries to the same families.

#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/nearest.hpp"
#include "sim/version.hpp"

namespace sim {

struct ParamSpec {
  std::string name;
  std::string type;           // "size", "bandwidth", "duration", "int", "string", ...
  std::string default_value;  // "" when required
  std::string description;
};
using ParamSchema = std::vector<ParamSpec>;

struct PluginInfo {
  std::string name;
  std::string description;
  ParamSchema params;
  std::string origin;  // "built-in" or the shared library that added it
};

class RegistryBase {
 public:
  RegistryBase(std::string family, std::string description)
      : family_(std::move(family)), description_(std::move(description)) {}
  virtual ~RegistryBase() = default;
  const std::string& family() const { return family_; }
  const std::string& description() const { return description_; }
  virtual std::vector<PluginInfo> list() const = 0;
  std::vector<std::string> names() const;
  // Entries added from now on are attributed to `origin` (set while a plugin registers).
  void set_origin(std::string origin) { origin_ = std::move(origin); }

 protected:
  std::string family_, description_;
  std::string origin_ = "built-in";
};

template <class Interface, class... Args>
class Registry : public RegistryBase {
 public:
  using Factory = std::function<std::unique_ptr<Interface>(Args...)>;
  using RegistryBase::RegistryBase;

  void add(std::string name, std::string description, ParamSchema params, Factory factory) {
    if (auto it = entries_.find(name); it != entries_.end())
      throw InputError(fmt::format("{} '{}' is registered twice: by {} and by {}; rename one",
                                   family_, name, it->second.info.origin, origin_));
    entries_.emplace(name, Entry{PluginInfo{name, std::move(description), std::move(params),
                                            origin_},
                                 std::move(factory)});
  }
  bool contains(std::string_view name) const { return entries_.count(std::string(name)) > 0; }

  // Builds `name`; an unknown name is an InputError listing the known ones.
  std::unique_ptr<Interface> create(std::string_view name, Args... args) const {
    auto it = entries_.find(std::string(name));
    if (it == entries_.end()) throw InputError(unknown(name));
    return it->second.factory(std::forward<Args>(args)...);
  }
  // As create(), with the name read from a config value, so errors point at it.
  std::unique_ptr<Interface> create(const Config& name_node, Args... args) const {
    const std::string name = name_node.as_string();
    if (!contains(name)) name_node.fail(unknown(name));
    return create(name, std::forward<Args>(args)...);
  }
  // For families whose factory takes the plugin's own config: a plugin written as a bare name
  // (`lru`) or as a map of its parameters with its name ({name: lru, ...}).
  std::unique_ptr<Interface> create_from(const Config& spec) const
    requires std::is_same_v<std::tuple<Args...>, std::tuple<const Config&>>
  {
    // A bare name becomes {name: <it>} in place, so the defaults its parameters take are
    // written into the resolved config like everyone else's.
    if (spec.is_scalar()) spec.make_map_of("name");
    return create(spec.at("name"), spec);
  }

  std::vector<PluginInfo> list() const override {
    std::vector<PluginInfo> out;
    for (const auto& [k, e] : entries_) out.push_back(e.info);
    return out;
  }
 private:
  struct Entry {
    PluginInfo info;
    Factory factory;
  };
  std::string unknown(std::string_view name) const {
    return fmt::format("unknown {} '{}'{}; known: {}", family_, name, did_you_mean(name, names()),
                       fmt::join(names(), ", "));
  }
  std::map<std::string, Entry> entries_;  // sorted: listing order never depends on registration
};

// What a plugin written as in Registry::create_from is called in results: its `label`, else its
// name.
inline std::string plugin_label(const Config& spec) {
  if (spec.is_scalar()) return spec.as_string();
  if (auto label = spec.find("label")) return label->as_string();  // a name, not a parameter
  return spec.get_string("name");
}

// Every plugin family of one program, by name.
class PluginCatalog {
 public:
  PluginCatalog();
  ~PluginCatalog();
  PluginCatalog(const PluginCatalog&) = delete;
  PluginCatalog& operator=(const PluginCatalog&) = delete;

  // The family `name`, created on first use. Asking with another interface type is an error.
  template <class R>
  R& family(const std::string& name, const std::string& description = "") {
    auto it = families_.find(name);
    if (it == families_.end()) {
      it = families_.emplace(name, std::make_unique<R>(name, description)).first;
      it->second->set_origin(origin_);
    }
    auto* r = dynamic_cast<R*>(it->second.get());
    if (!r) throw std::logic_error("plugin family '" + name + "' requested with the wrong type");
    return *r;
  }
  const RegistryBase* find(const std::string& name) const;
  std::vector<const RegistryBase*> families() const;

  struct LoadedPlugin {
    std::filesystem::path path;  // absolute
    std::uint64_t hash;          // of the file's bytes (sim::stable_hash)
  };
  // Loads a shared library and calls its warpsim_register_plugins(*this). A library already
  // loaded (the same file, or a copy with the same bytes) is skipped. Bad input: a missing
  // file, one that is not a plugin, one stamped with another warpsim version, or one that
  // registers a name already taken (the message names both origins). Returns the hash of the
  // file's bytes.
  std::uint64_t load_plugin(const std::filesystem::path& library);
  // The libraries loaded so far, in order (a sweep's workers load the same ones; a run's saved
  // config records them).
  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }
  std::vector<std::filesystem::path> plugin_paths() const;

 private:
  std::map<std::string, std::unique_ptr<RegistryBase>> families_;
  std::string origin_ = "built-in";
  struct Libraries;
  std::unique_ptr<Libraries> libraries_;  // kept loaded while the catalog lives
  std::vector<LoadedPlugin> plugins_;
};

}  // namespace sim

// The entry point a plugin library exports, with the version it was built against.
// (A function, not a variable: every plugin defines one, and several loaded with RTLD_GLOBAL
// would be duplicate globals, which ASan reports as an ODR violation.)
#define WARPSIM_PLUGIN_ENTRY                                                            \
  extern "C" __attribute__((visibility("default"))) const char* warpsim_plugin_abi() {  \
    return WARPSIM_PLUGIN_ABI;                                                          \
  }                                                                                     \
  extern "C" __attribute__((visibility("default"))) void warpsim_register_plugins(      \
      ::sim::PluginCatalog& catalog)

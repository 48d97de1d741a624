#include "app/list_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "app/paths.hpp"
#include "sim/error.hpp"

namespace app {

bool list_plugins(const sim::PluginCatalog& catalog, const std::string& family,
                  std::ostream& out) {
  const sim::ConfigLoader loader = config_loader();
  bool found = false;
  for (const sim::RegistryBase* f : catalog.families()) {
    if (!family.empty() && f->family() != family) continue;
    found = true;
    out << fmt::format("{} — {}\n", f->family(), f->description());
    for (const sim::PluginInfo& e : f->list()) {
      out << fmt::format("  {:<18} {}{}\n", e.name, e.description,
                         e.origin == "built-in" ? "" : " [" + e.origin + "]");
      if (!family.empty())
        for (const sim::ParamSpec& p : e.params)
          out << fmt::format("      {:<16} {:<10} {}{}\n", p.name, p.type, p.description,
                             p.default_value.empty() ? "" : " (default " + p.default_value + ")");
    }
  }
  for (const char* folder : {"gpus", "hosts", "systems", "experiments", "sweeps"}) {
    if (!family.empty() && family != folder) continue;
    const auto names = loader.names(folder);
    if (names.empty()) continue;
    found = true;
    out << fmt::format("{} (configs/{}/)\n  {}\n", folder, folder, fmt::join(names, "  "));
  }
  return found;
}

Command add_list_command(CLI::App& cli) {
  auto family = std::make_shared<std::string>();
  auto* sub = cli.add_subcommand("list", "list plugin families, their entries and configs");
  sub->add_option("family", *family, "only this family (e.g. experiment, gpus)");
  return {sub, [family](sim::PluginCatalog& catalog, std::ostream& out) {
            if (!list_plugins(catalog, *family, out))
              throw sim::InputError(fmt::format("nothing named '{}' to list", *family));
            return kExitOk;
          }};
}

}  // namespace app

#include "app/paths.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <cstdlib>
#include <sstream>
#include <string>

namespace app {
namespace fs = std::filesystem;

std::vector<fs::path> config_search_dirs() {
  std::vector<fs::path> dirs;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      const fs::path c = fs::weakly_canonical(p, ec);
      for (const auto& d : dirs)
        if (d == c) return;
      dirs.push_back(c);
    }
  };
  if (const char* env = std::getenv("WARPSIM_CONFIG_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) add(item);
  }
  std::error_code ec;
  const fs::path exe = boost::dll::program_location(ec);
  if (!ec) {
    for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      if (fs::exists(p / "meson.build") && fs::is_directory(p / "configs")) {
        add(p / "configs");
        break;
      }
    }
    add(exe.parent_path().parent_path() / "share" / "warpsim" / "configs");
  }
  add(fs::current_path(ec) / "configs");
  return dirs;
}

sim::ConfigLoader config_loader() {
  sim::ConfigLoader loader(config_search_dirs());
  loader.add_reference("gpu", "gpus");
  loader.add_reference("system", "systems");
  loader.add_reference("host", "hosts");
  loader.add_reference("uvm", "uvm");  // unified-memory driver parameters per GPU
  return loader;
}

}  // namespace app

// A plugin built against another warpsim version: its stamp says so, and --plugin refuses it
// before calling it.
#include "sim/registry.hpp"

extern "C" __attribute__((visibility("default"))) const char* warpsim_plugin_abi() {
  return "warpsim 0.0.1";
}
extern "C" __attribute__((visibility("default"))) void warpsim_register_plugins(
    sim::PluginCatalog&) {}

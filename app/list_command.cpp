#include "app/list_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "app/paths.hpp"
#include "interconnect/system_spec.hpp"
#include "models/gpu_spec.hpp"
#include "models/host_runtime.hpp"
#include "models/memory/unified_memory.hpp"
#include "sim/error.hpp"
#include "workloads/llm/decoder_spec.hpp"

namespace app {

namespace {

// The hardware and host specs a scenario names, each with the schema its reader declares.
struct SpecSchema {
  const char* name;
  const char* what;
  const sim::ParamSchema& (*schema)();
};
constexpr SpecSchema kSpecs[] = {
    {"gpu", "a GPU preset (configs/gpus/)", &models::GpuSpec::schema},
    {"system", "a multi-GPU system preset (configs/systems/)", &interconnect::SystemSpec::schema},
    {"link", "a full-duplex link of a system", &interconnect::LinkSpec::schema},
    {"reduction", "a switch's in-network reduction engine", &interconnect::ReductionSpec::schema},
    {"uvm", "unified-memory driver costs (configs/uvm/)", &models::memory::UvmParams::schema},
    {"host", "one mode of a host preset (configs/hosts/): eager, scripted, graph",
     &models::HostCosts::schema},
    {"decoder", "a decoder-only transformer for serving (a built-in name or these keys)",
     &workloads::DecoderSpec::schema},
};

void print_params(const sim::ParamSchema& params, std::ostream& out) {
  for (const sim::ParamSpec& p : params)
    out << fmt::format("      {:<16} {:<10} {}{}\n", p.name, p.type, p.description,
                       p.default_value.empty() ? "" : " (default " + p.default_value + ")");
}

}  // namespace

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
      if (!family.empty()) print_params(e.params, out);
    }
  }
  for (const SpecSchema& s : kSpecs) {
    if (!family.empty() && family != s.name) continue;
    if (family.empty()) {
      if (&s == &kSpecs[0]) out << "specs (their keys: warpsim list <spec>)\n";
      out << fmt::format("  {:<18} {}\n", s.name, s.what);
      continue;
    }
    found = true;
    out << fmt::format("{} — {}\n", s.name, s.what);
    print_params(s.schema(), out);
  }
  if (family.empty() || family == "decoder" || family == "decoders") {
    if (family == "decoders") found = true;
    out << "decoders (built in; `model:` of the serving experiment)\n";
    for (const std::string& n : workloads::decoder_names()) {
      const workloads::DecoderSpec d = workloads::decoder(n);
      out << fmt::format("  {:<14} {:>6.2f} B parameters, {} layers, hidden {}, {} heads ({} KV), "
                         "MLP {}{}\n",
                         n, static_cast<double>(d.parameters()) / 1e9, d.layers, d.hidden, d.heads,
                         d.kv_heads, d.ffn,
                         d.experts > 1 ? fmt::format(", {} experts (top {})", d.experts, d.top_k)
                                       : "");
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

// The warpsim program: subcommands over the simulator. Exit codes: 0 success, 2 bad input
// (the message names file:line:col), 1 internal error.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>

#include "app/kernel_command.hpp"
#include "app/list_command.hpp"
#include "app/plugins.hpp"
#include "app/run_command.hpp"
#include "sim/error.hpp"

namespace {

constexpr int kOk = 0, kInternal = 1, kBadInput = 2;

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"warpsim — a discrete-event simulator of GPUs and multi-GPU systems"};
  cli.set_version_flag("--version", std::string("warpsim ") + WARPSIM_VERSION);
  cli.require_subcommand(1);
  std::vector<std::string> plugins;
  cli.add_option("--plugin", plugins, "load plugins from a shared library (repeatable)")
      ->check(CLI::ExistingFile);

  app::RunOptions run;
  std::uint64_t seed = 0;
  auto* run_cmd = cli.add_subcommand("run", "run a scenario (an experiment YAML)");
  run_cmd->add_option("scenario", run.scenario, "scenario YAML file")->required();
  run_cmd->add_option("--set", run.overrides, "override a config key: a.b.c=value (repeatable)");
  run_cmd->add_option("--out", run.out, "results folder (default results/<name>)");
  run_cmd->add_option("--timeline", run.timeline, "write a Chrome/Perfetto trace JSON here");
  auto* seed_opt = run_cmd->add_option("--seed", seed, "random seed (overrides the scenario)");
  run_cmd->add_flag("--quiet", run.quiet, "print nothing on success");

  std::string family;
  auto* list_cmd = cli.add_subcommand("list", "list plugin families, their entries and configs");
  list_cmd->add_option("family", family, "only this family (e.g. experiment, gpus)");

  app::KernelOptions kernel;
  auto* kernel_cmd = cli.add_subcommand(
      "kernel", "predict one kernel's time and explain it (occupancy, waves, roofline bound)");
  kernel_cmd->add_option("--gpu", kernel.gpu, "a GPU in configs/gpus, or a GPU yaml")->required();
  kernel_cmd
      ->add_option("--op", kernel.op,
                   "gemm | conv | depthwise_conv | pool_max (pool) | pool_avg | elementwise")
      ->capture_default_str();
  kernel_cmd->add_option("--dtype", kernel.dtype, "fp32 | fp16 | bf16 | tf32 | int8")
      ->capture_default_str();
  kernel_cmd->add_option("--cost", kernel.cost, "kernel-cost plugin")->capture_default_str();
  kernel_cmd->add_option("--set", kernel.overrides, "override a GPU key: gpu.sm_count=100");
  struct ShapeOption {
    const char* flag;
    std::optional<std::int64_t>* field;
    const char* help;
  };
  for (const ShapeOption& o : {
           ShapeOption{"--m", &kernel.m, "gemm: rows of A and of the output (4096)"},
           {"--n", &kernel.n, "gemm: columns of B and of the output (4096)"},
           {"--k", &kernel.k, "gemm: the inner dimension (4096)"},
           {"--batch", &kernel.batch, "images (conv, pool), or batched GEMMs (1)"},
           {"--in-channels", &kernel.in_channels, "conv, pool: input channels (64)"},
           {"--out-channels", &kernel.out_channels, "conv: output channels (64)"},
           {"--size", &kernel.size, "conv, pool: input height = width (56)"},
           {"--kernel", &kernel.kernel, "conv, pool: window height = width (3)"},
           {"--stride", &kernel.stride, "conv, pool: stride (1; pools 2)"},
           {"--padding", &kernel.padding, "conv, pool: padding on each side (kernel / 2)"},
           {"--elements", &kernel.elements, "elementwise: elements per operand (16777216)"},
       })
    kernel_cmd->add_option_function<std::int64_t>(
        o.flag, [field = o.field](const std::int64_t& v) { *field = v; }, o.help);
  kernel_cmd->add_option_function<std::string>(
      "--function", [&kernel](const std::string& f) { kernel.function = f; },
      "elementwise: add | sub | mul | div | max | min | neg (add)");
  kernel_cmd->add_flag("--json", kernel.json, "print one JSON object");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    cli.exit(e);
    return kBadInput;
  }

  try {
    sim::PluginCatalog catalog;
    app::register_all_plugins(catalog);
    for (const auto& p : plugins) catalog.load_plugin(p);

    if (*run_cmd) {
      if (*seed_opt) run.seed = seed;
      app::run_scenario(run, catalog, std::cout);
    } else if (*kernel_cmd) {
      return app::kernel_command(kernel, catalog, std::cout);
    } else if (*list_cmd) {
      if (!app::list_plugins(catalog, family, std::cout)) {
        std::cerr << fmt::format("warpsim: error: nothing named '{}' to list\n", family);
        return kBadInput;
      }
    }
    return kOk;
  } catch (const sim::InputError& e) {
    std::cerr << "warpsim: error: " << e.what() << "\n";
    return kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "warpsim: internal error: " << e.what() << "\n";
    return kInternal;
  }
}

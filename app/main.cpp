// The warpsim program: subcommands over the simulator. Exit codes: 0 success, 2 bad input
// (the message names file:line:col), 1 internal error.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <vector>

#include "app/check_command.hpp"
#include "app/collective_command.hpp"
#include "app/knee_command.hpp"
#include "app/command.hpp"
#include "app/graph_command.hpp"
#include "app/kernel_command.hpp"
#include "app/list_command.hpp"
#include "app/plugins.hpp"
#include "app/run_command.hpp"
#include "app/serve_command.hpp"
#include "app/sweep_command.hpp"
#include "app/replay_command.hpp"
#include "app/validate_command.hpp"
#include "app/calibrate_command.hpp"
#include "sim/error.hpp"

using app::kExitBadInput, app::kExitInternal, app::kExitOk;

int main(int argc, char** argv) {
  CLI::App cli{"warpsim — a discrete-event simulator of GPUs and multi-GPU systems"};
  cli.set_version_flag("--version", std::string("warpsim ") + WARPSIM_VERSION);
  cli.require_subcommand(1);
  cli.fallthrough();  // --plugin may come after the subcommand too
  std::vector<std::string> plugins;
  cli.add_option("--plugin", plugins, "load plugins from a shared library (repeatable)")
      ->check(CLI::ExistingFile);

  // Every subcommand, in the order --help lists them. A new command adds one line here.
  const std::vector<app::Command> commands = {
      app::add_run_command(cli),
      app::add_list_command(cli),
      app::add_kernel_command(cli),
      app::add_sweep_command(cli),
      app::add_check_command(cli),
      app::add_replay_command(cli),
      app::add_validate_command(cli),
      app::add_calibrate_command(cli),
      app::add_collective_command(cli),
      app::add_serve_command(cli),
      app::add_graph_command(cli),
      app::add_knee_command(cli),
  };

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
    return kExitBadInput;
  }

  try {
    sim::PluginCatalog catalog;
    app::register_all_plugins(catalog);
    for (const auto& p : plugins) catalog.load_plugin(p);

    for (const auto& command : commands)
      if (*command.cli) return command.run(catalog, std::cout);
    return kExitOk;
  } catch (const sim::InputError& e) {
    std::cerr << "warpsim: error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path given that the OS refuses (no permission, a name too long, a full disk): the
    // user's to fix, not warpsim's.
    std::cerr << "warpsim: error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "warpsim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

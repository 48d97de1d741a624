#pragma once
// One subcommand of the warpsim program. Each command file declares its own options on the CLI
// (add_<name>_command) and returns what runs when the user picks it, so main.cpp stays a list.

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "sim/registry.hpp"

namespace CLI {
class App;
}

namespace app {

// Exit codes shared by every command (docs/configuration.md): bad input names file:line:col.
inline constexpr int kExitOk = 0, kExitInternal = 1, kExitBadInput = 2;

struct Command {
  CLI::App* cli = nullptr;  // the subcommand; chosen when *cli is true after parsing
  // Runs the command with the loaded plugins and returns the exit code. Bad input throws
  // sim::InputError (main turns it into exit 2).
  std::function<int(sim::PluginCatalog&, std::ostream&)> run;
};

// A command-line fraction (`--tolerance 2%`, `--max-mape 0.25`: sim::units::parse_fraction);
// bad text is an InputError that names the option.
double parse_fraction_option(std::string_view option, const std::string& text);

}  // namespace app

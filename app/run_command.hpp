#pragma once
// `warpsim run SCENARIO.yaml`: load, check, simulate, and write the results folder atomically.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "app/command.hpp"
#include "app/experiment.hpp"
#include "sim/config.hpp"
#include "sim/registry.hpp"

namespace app {

struct RunOptions {
  std::filesystem::path scenario;
  std::vector<std::string> overrides;  // --set a.b=v
  std::filesystem::path out;           // default: results/<scenario name>
  std::filesystem::path timeline;      // empty: none
  std::optional<std::uint64_t> seed;   // overrides the scenario's `seed:`
  bool quiet = false;
  bool point = false;  // run the file as one point, even when it names sweeps
  int jobs = 0;        // workers for the points of its sweeps (0: one per available CPU)
};

struct RunResult {
  std::filesystem::path out;
  std::uint64_t fingerprint = 0;
};

// A scenario loaded with its overrides, every key checked, its experiment built: bad input has
// been reported before any simulated time passes.
struct Scenario {
  std::shared_ptr<sim::ConfigNode> root;  // the resolved config, written as config.yaml
  std::string name;
  std::uint64_t seed = 1;
  std::unique_ptr<Experiment> experiment;
};
Scenario load_scenario(const RunOptions& opts, sim::PluginCatalog& catalog);

// A saved config's `plugins:` ({path, hash} per library): each loaded, a changed one reported
// on stderr. What a saved config.yaml records of the libraries loaded ("" without any), and a
// copy of a config without its `plugins:` (the record is written afresh).
void load_recorded_plugins(const sim::Config& scenario, sim::PluginCatalog& catalog);
std::string recorded_plugins_yaml(const sim::PluginCatalog& catalog);
std::shared_ptr<sim::ConfigNode> without_plugins(const std::shared_ptr<sim::ConfigNode>& root);

// Runs the file: as one point, or, when it names `sweeps:` (and opts.point is not set), every
// point of them (app/reproduce.hpp).
RunResult run_scenario(const RunOptions& opts, sim::PluginCatalog& catalog, std::ostream& console);

// Refuses an --out that is not a warpsim results folder, and a --timeline inside it.
void check_output_paths(const RunOptions& opts, const std::filesystem::path& out);

// Declares `warpsim run` on the CLI.
Command add_run_command(CLI::App& cli);

}  // namespace app

#include "app/run_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <climits>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>
#include <memory>

#include "app/experiment.hpp"
#include "app/progress.hpp"
#include "app/reproduce.hpp"
#include "app/paths.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/params.hpp"

namespace app {
namespace fs = std::filesystem;

namespace {

// A results folder is replaced whole by a re-run; any other folder that is not empty is the
// user's, and is never clobbered.
void refuse_foreign_folder(const fs::path& out) {
  if (!sim::path_exists(out)) return;
  if (!sim::is_folder(out))
    throw sim::InputError(fmt::format("--out {} exists and is not a folder", out.string()));
  static const char* const kOurs[] = {"metrics.json", "stats.csv", "config.yaml", "report.md",
                                      "results.csv", "sweeps", "published.json",
                                      "requests.csv"};
  bool ours = false;
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string f = e.path().filename().string();
    if (std::find(std::begin(kOurs), std::end(kOurs), f) == std::end(kOurs))
      throw sim::InputError(fmt::format(
          "--out {} holds '{}', so it is not a warpsim results folder: it would be replaced "
          "whole; choose another folder or empty it",
          out.string(), f));
    if (f == "config.yaml") ours = sim::read_file(e.path()).starts_with("# resolved by warpsim");
  }
  if (!fs::is_empty(out) && !ours)
    throw sim::InputError(fmt::format(
        "--out {} is not empty and holds no config.yaml written by warpsim: choose another "
        "folder or empty it",
        out.string()));
}

}  // namespace

void load_recorded_plugins(const sim::Config& scenario, sim::PluginCatalog& catalog) {
  const auto list = scenario.find("plugins");
  if (!list) return;
  for (const sim::Config& entry : list->items()) {
    const fs::path path = entry.get_string("path");
    const std::string recorded = entry.get_string("hash", "");
    if (!sim::is_file(path))
      entry.at("path").fail(fmt::format("plugin library {} not found (the run that saved "
                                           "this file loaded it): build it, or pass --plugin",
                                           path.string()));
    const std::uint64_t now = catalog.load_plugin(path);
    if (!recorded.empty() && recorded != fmt::format("{:016x}", now))
      std::cerr << fmt::format(
          "warpsim: warning: plugin {} changed since this file was saved (hash {}, now {:016x}): "
          "results may differ\n",
          path.string(), recorded, now);
  }
}

std::string recorded_plugins_yaml(const sim::PluginCatalog& catalog) {
  if (catalog.plugins().empty()) return "";
  std::string yaml = "plugins:  # the --plugin libraries this run loaded; re-running loads them\n";
  for (const auto& p : catalog.plugins())
    yaml += fmt::format("  - {{path: \"{}\", hash: \"{:016x}\"}}\n", p.path.string(), p.hash);
  return yaml;
}

std::shared_ptr<sim::ConfigNode> without_plugins(const std::shared_ptr<sim::ConfigNode>& root) {
  auto copy = std::make_shared<sim::ConfigNode>(*root);
  std::erase_if(copy->entries, [](const auto& kv) { return kv.first == "plugins"; });
  return copy;
}

Scenario load_scenario(const RunOptions& opts, sim::PluginCatalog& catalog) {
  const sim::ConfigLoader loader = config_loader();
  std::vector<std::string> overrides = opts.overrides;
  if (opts.seed) overrides.push_back(fmt::format("seed={}", *opts.seed));
  Scenario s;
  s.root = loader.load(opts.scenario, overrides);
  const sim::Config cfg(s.root, "");
  // The keys every scenario has beside its experiment's own.
  static const sim::ParamSchema scenario = sim::schema(R"(
experiment   | plugin |   | what runs (family experiment)
name         | string |   | results go to results/<name> (default: the file's stem)
description  | string |   | what the scenario is (for people)
seed         | int    | 1 | the one seed every random stream derives from
sweeps       | list   |   | sweep files whose points reproduce the experiment (`warpsim run` runs them)
timeline_run | string |   | with sweeps: which point --timeline draws, by its report key (default: the first)
plugins      | list   |   | the --plugin libraries of the run that saved this file ({path, hash}): loaded again
)");
  const sim::Params p(cfg, scenario);
  s.name = cfg.get_string("name", opts.scenario.stem().string());  // the file's stem
  p.note("description");
  // Read by run_experiment_sweeps. A point has none: its saved config re-runs the point.
  std::erase_if(s.root->entries, [](const auto& kv) {
    return kv.first == "sweeps" || kv.first == "timeline_run";
  });
  load_recorded_plugins(cfg, catalog);
  std::erase_if(s.root->entries, [](const auto& kv) { return kv.first == "plugins"; });
  s.seed = static_cast<std::uint64_t>(p.integer("seed", 0, INT64_MAX));
  s.experiment = experiments(catalog).create(p.value("experiment"), cfg);
  sim::check_unused(s.root);  // every key was read by someone, or it is a mistake
  return s;
}

void check_output_paths(const RunOptions& opts, const fs::path& out) {
  refuse_foreign_folder(out);
  if (!opts.timeline.empty()) {  // the results folder is written whole at the end
    const fs::path t = fs::weakly_canonical(fs::absolute(opts.timeline)),
                   o = fs::weakly_canonical(fs::absolute(out));
    const auto rel = t.lexically_relative(o);
    if (!rel.empty() && *rel.begin() != "..")
      throw sim::InputError(fmt::format(
          "--timeline {} is inside the results folder {}, which is written whole when the run "
          "ends: put the timeline beside it",
          opts.timeline.string(), out.string()));
  }
}

RunResult run_scenario(const RunOptions& opts, sim::PluginCatalog& catalog, std::ostream& console) {
  if (!opts.point)
    if (auto r = run_experiment_sweeps(opts, catalog, console)) return *r;
  Scenario scenario = load_scenario(opts, catalog);
  const auto& root = scenario.root;
  const std::string& name = scenario.name;
  const std::uint64_t seed = scenario.seed;
  auto& experiment = scenario.experiment;

  const fs::path out = opts.out.empty() ? fs::path("results") / name : opts.out;
  check_output_paths(opts, out);
  std::ostringstream summary;
  std::uint64_t fingerprint = 0;
  sim::write_folder_atomic(out, [&](const fs::path& tmp) {
    std::unique_ptr<sim::TimelineWriter> timeline;
    if (!opts.timeline.empty()) timeline = std::make_unique<sim::TimelineWriter>(opts.timeline);
    sim::Stats stats;
    sim::RngFactory rng(seed);
    RunContext ctx{.stats = stats, .timeline = timeline.get(), .rng = rng, .console = summary};
    std::optional<Progress> progress;
    if (!opts.quiet)
      ctx.on_progress = [&progress](std::size_t done, std::size_t expected) {
        if (!progress)
          progress.emplace(expected, 0, stderr, Progress::Words{"run", "simulations"}, true);
        progress->set_total(std::max(expected, done));
        progress->point_done(false);
      };
    std::optional<Progress> items;
    if (!opts.quiet)
      ctx.on_items = [&items](std::size_t done, std::size_t total) {
        if (!items) items.emplace(total, 0, stderr, Progress::Words{"serve", "requests"}, true);
        items->advance_to(done);
      };
    experiment->run(ctx);
    if (items) items->finish();
    if (progress) progress->finish();
    // A timeline nobody drew on is a mistake the user should hear of, not an empty file.
    if (timeline && ctx.timeline_spans() == 0)
      throw sim::InputError(fmt::format(
          "--timeline: no run of '{}' drew on it (see what it takes: `warpsim list "
          "experiment` says what it takes)",
          name));

    stats.set("run.simulated_seconds", ctx.end_time.seconds());
    sim::write_file_atomic(tmp / "metrics.json", stats.metrics_json(ctx.end_time));
    sim::write_file_atomic(tmp / "stats.csv", stats.stats_csv(ctx.end_time));
    if (stats.has_rows()) sim::write_file_atomic(tmp / "results.csv", stats.results_csv());
    sim::write_file_atomic(
        tmp / "config.yaml",
        fmt::format("# resolved by warpsim {} from {}; re-run with: warpsim run <this file>\n"
                    "# seed {}, event-schedule fingerprint {:016x}\n",
                    WARPSIM_VERSION, opts.scenario.string(), seed, ctx.fingerprint) +
            sim::dump_yaml(root) + recorded_plugins_yaml(catalog));
    if (!ctx.report.empty())
      sim::write_file_atomic(tmp / "report.md", fmt::format("# {}\n\n{}", name, ctx.report));
    for (const auto& [file, contents] : ctx.files) sim::write_file_atomic(tmp / file, contents);
    if (timeline) timeline->close();
    fingerprint = ctx.fingerprint;
  });
  if (!opts.quiet) {
    console << summary.str();
    console << fmt::format("results: {}{}\n", out.string(),
                           opts.timeline.empty() ? "" : "  timeline: " + opts.timeline.string());
  }
  return RunResult{out, fingerprint};
}

Command add_run_command(CLI::App& cli) {
  auto opts = std::make_shared<RunOptions>();
  auto seed = std::make_shared<std::string>();
  auto* sub = cli.add_subcommand("run", "run a scenario (an experiment YAML)");
  sub->add_option("scenario", opts->scenario, "scenario YAML file")->required();
  sub->add_option("--set", opts->overrides, "override a config key: a.b.c=value (repeatable)");
  sub->add_option("--out", opts->out, "results folder (default results/<name>)");
  sub->add_option("--timeline", opts->timeline, "write a Chrome/Perfetto trace JSON here");
  auto* seed_opt = sub->add_option("--seed", *seed, "random seed (overrides the scenario)");
  sub->add_flag("--quiet", opts->quiet, "print nothing on success");
  sub->add_flag("--point", opts->point, "run the file as one point, not the sweeps it names");
  sub->add_option("--jobs,-j", opts->jobs,
                  "workers for the points of the sweeps it names (default: one per CPU)")
      ->check(CLI::Range(1, 4096));
  return {sub, [opts, seed, seed_opt](sim::PluginCatalog& catalog, std::ostream& out) {
            if (*seed_opt) {
              // Read as text: CLI11 would wrap -1 into 18446744073709551615.
              std::uint64_t v = 0;
              const auto [end, ec] = std::from_chars(seed->data(), seed->data() + seed->size(), v);
              if (ec != std::errc() || end != seed->data() + seed->size() || v > INT64_MAX)
                throw sim::InputError(fmt::format(
                    "--seed takes a whole number from 0 to {}, got '{}'", INT64_MAX, *seed));
              opts->seed = v;
            }
            run_scenario(*opts, catalog, out);
            return kExitOk;
          }};
}

}  // namespace app

#include "app/reproduce.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>

#include "app/paths.hpp"
#include "app/sweep_local.hpp"
#include "app/sweep_plan.hpp"
#include "app/sweep_report.hpp"
#include "app/sweep_spec.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/stats.hpp"

namespace app {
namespace fs = std::filesystem;

namespace {

// --set split: values for the axes of each sweep (`axis=` where a sweep varies it,
// `<sweep>/axis=` in that sweep alone), and settings for every point.
struct SplitOverrides {
  std::map<std::string, AxisValues> axes;  // sweep name -> its replaced axes
  std::vector<std::string> fixed;
};

std::vector<std::string> values_of(const std::string& key, const std::string& text) {
  const auto node = sim::parse_yaml(text, "--set " + key);
  std::vector<std::string> values;
  if (node->kind == sim::ConfigNode::Kind::kSeq) {
    if (node->items.empty())
      throw sim::InputError(fmt::format("--set {}: give at least one value for the axis", key));
    for (const auto& item : node->items) values.push_back(sim::dump_yaml_flow(*item));
  } else {
    values.push_back(sim::dump_yaml_flow(*node));
  }
  return values;
}

// `columns`: each sweep's name and the axes it varies.
SplitOverrides split_overrides(
    const std::vector<std::string>& overrides,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& columns) {
  SplitOverrides out;
  auto varies = [](const std::vector<std::string>& cols, const std::string& key) {
    return std::find(cols.begin(), cols.end(), key) != cols.end();
  };
  for (const std::string& o : overrides) {
    const auto eq = o.find('=');
    const std::string key = eq == std::string::npos ? o : o.substr(0, eq);
    const auto slash = key.find('/');
    if (eq != std::string::npos && slash != std::string::npos) {
      const std::string sweep = key.substr(0, slash), axis = key.substr(slash + 1);
      const auto it = std::find_if(columns.begin(), columns.end(),
                                   [&](const auto& c) { return c.first == sweep; });
      if (it == columns.end()) {
        std::vector<std::string> names;
        for (const auto& c : columns) names.push_back(c.first);
        throw sim::InputError(fmt::format("--set {}: no sweep '{}' here (its sweeps: {})", key,
                                          sweep, fmt::join(names, ", ")));
      }
      if (!varies(it->second, axis))
        throw sim::InputError(fmt::format("--set {}: sweep '{}' does not vary '{}' (it varies {})",
                                          key, sweep, axis, fmt::join(it->second, ", ")));
      out.axes[sweep][axis] = values_of(key, o.substr(eq + 1));
      continue;
    }
    bool axis = false;
    if (eq != std::string::npos)
      for (const auto& [sweep, cols] : columns)
        if (varies(cols, key)) {
          axis = true;
          if (!out.axes[sweep].count(key)) out.axes[sweep][key] = values_of(key, o.substr(eq + 1));
        }
    if (!axis) out.fixed.push_back(o);  // the scenario's to check, as any --set
  }
  return out;
}

// The sweep files `sweeps:` lists, each relative to the file that writes it.
std::vector<fs::path> sweep_files(const sim::Config& list) {
  std::vector<fs::path> out;
  const auto items = list.is_scalar() ? std::vector<sim::Config>{list} : list.items();
  for (const sim::Config& item : items) {
    const fs::path f = fs::path(item.pos().file).parent_path() / item.as_string();
    if (!sim::is_file(f)) item.fail(fmt::format("no such sweep file '{}'", f.string()));
    out.push_back(f);
  }
  if (out.empty()) list.fail("give at least one sweep file");
  return out;
}

// What a file reproduces: an experiment's `sweeps:`, or a sweep file run on its own.
struct Reproduction {
  std::shared_ptr<sim::ConfigNode> root;  // the file as resolved, for config.yaml
  std::vector<fs::path> sweeps;
  bool own_scenario = false;  // a sweep file: its points are of its `scenario:`
  std::string name, description, timeline_run;
};

// `fixed`: the --set that are no axis, for the file's own keys (name, timeline_run).
std::optional<Reproduction> reproduction_of(const fs::path& file,
                                            const std::vector<std::string>& fixed = {}) {
  Reproduction r;
  const auto plain = sim::parse_yaml(sim::read_file(file), file.string());
  if (plain->kind == sim::ConfigNode::Kind::kMap && plain->find("scenario") &&
      !plain->find("experiment")) {
    r.root = plain;
    r.sweeps = {file};
    r.own_scenario = true;
    r.name = load_sweep(file).name;
    return r;
  }
  r.root = config_loader().load(file, fixed);  // extends resolved: it inherits its sweeps
  const sim::Config cfg(r.root, "");
  const auto list = cfg.find("sweeps");
  if (!list) return std::nullopt;
  r.sweeps = sweep_files(*list);
  // The saved config re-runs from anywhere: its sweeps by absolute path.
  const auto node = r.root->find("sweeps");
  if (node->kind == sim::ConfigNode::Kind::kScalar) {
    node->scalar = fs::absolute(r.sweeps.front()).lexically_normal().string();
  } else {
    for (std::size_t i = 0; i < node->items.size(); ++i)
      node->items[i]->scalar = fs::absolute(r.sweeps[i]).lexically_normal().string();
  }
  r.name = cfg.get_string("name", file.stem().string());
  r.description = cfg.get_string("description", "");
  r.timeline_run = cfg.get_string("timeline_run", "");
  return r;
}

}  // namespace

std::optional<RunResult> run_experiment_sweeps(const RunOptions& opts, sim::PluginCatalog& catalog,
                                               std::ostream& console) {
  if (!sim::is_file(opts.scenario)) return std::nullopt;  // load_scenario says so
  const auto plain = reproduction_of(opts.scenario);
  if (!plain) return std::nullopt;

  std::vector<std::pair<std::string, std::vector<std::string>>> columns;
  for (const fs::path& f : plain->sweeps) {
    const SweepSpec s = load_sweep(f);
    columns.emplace_back(s.name, s.columns);
  }
  const SplitOverrides split = split_overrides(opts.overrides, columns);
  const auto found = plain->own_scenario ? plain : reproduction_of(opts.scenario, split.fixed);
  // Named references, not a structured binding: lambdas below capture them (clang 14).
  const auto& root = found->root;
  const auto& files = found->sweeps;
  const auto& name = found->name;
  const auto& description = found->description;
  const auto& timeline_run = found->timeline_run;
  load_recorded_plugins(sim::Config(root, ""), catalog);  // the points load them as well
  if (files != plain->sweeps)
    throw sim::InputError(fmt::format("{}: --set cannot change which sweeps run (`sweeps:`)",
                                      opts.scenario.string()));
  std::vector<std::string> fixed = split.fixed;
  if (opts.seed) fixed.push_back(fmt::format("seed={}", *opts.seed));

  // Every sweep's points are points of this file (an experiment that extends another keeps its
  // sweeps and runs its own settings).
  std::deque<SweepSpec> specs;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto replaced = split.axes.find(columns[i].first);
    SweepSpec s =
        load_sweep(files[i], replaced == split.axes.end() ? AxisValues{} : replaced->second);
    if (!s.report)
      throw sim::InputError(
          fmt::format("{}: a sweep an experiment names needs a `report:` "
                      "(its key template at least)",
                      files[i].string()));
    if (!found->own_scenario) s.scenario = opts.scenario;
    s.fixed.insert(s.fixed.end(), fixed.begin(), fixed.end());
    specs.push_back(std::move(s));
  }
  std::set<std::string> names;
  for (const SweepSpec& s : specs)
    if (!names.insert(s.name).second)
      throw sim::InputError(
          fmt::format("{}: two of its sweeps are named '{}'", opts.scenario.string(), s.name));

  const fs::path out = opts.out.empty() ? fs::path("results") / name : opts.out;
  check_output_paths(opts, out);

  std::string report, summary;
  sim::write_folder_atomic(out, [&](const fs::path& tmp) {
    std::map<std::string, double> metrics, published;
    double simulated = 0;
    std::optional<std::pair<const SweepPlan*, std::string>> timeline_point;  // plan, hash
    std::string first_key;
    std::deque<SweepPlan> plans;
    std::deque<SweepReport> reports;
    for (const SweepSpec& spec : specs) {
      const SweepPlan& plan = plans.emplace_back(spec, tmp / "sweeps" / spec.name);
      // Each point built as its worker would, so bad input stops the run before any simulates.
      for (const PlannedPoint& p : plan.points()) check_point(plan, p, catalog);
      LocalRunOptions local;
      local.jobs = opts.jobs > 0 ? opts.jobs : default_jobs(false);
      local.progress = !opts.quiet;
      local.label = spec.name;
      local.after_a_second = true;  // a quick run stays as quiet as a single point
      const std::size_t failed = run_points_locally(plan, plan.pending(), local, catalog);
      plan.write_results_csv();
      if (failed) {
        // A point that failed on its input (a model too big for its image size, say) is the
        // user's to fix, exit 2; anything else is ours.
        for (const PlannedPoint& p : plan.points())
          if (auto err = plan.error(p)) {
            const std::string what =
                fmt::format("{}: {} of {} points failed; point {}: {}", spec.file.string(), failed,
                            plan.points().size(), p.index + 1, *err);
            if (err->starts_with("internal error")) throw std::runtime_error(what);
            throw sim::InputError(what);
          }
        throw std::runtime_error(fmt::format("{}: {} points failed", spec.file.string(), failed));
      }
      const SweepReport& rep = reports.emplace_back(make_sweep_report(spec, plan.out()));
      write_sweep_report(rep, spec.name, plan.out());
      for (const auto& [k, v] : rep.metrics) {
        if (k == "run.simulated_seconds") {
          simulated = std::max(simulated, v);
          continue;
        }
        if (!metrics.emplace(k, v).second)
          throw sim::InputError(fmt::format(
              "{}: metric '{}' is also another sweep's: give the sweeps' report keys different "
              "prefixes",
              spec.file.string(), k));
      }
      for (const auto& [hash, key] : rep.points) {
        if (first_key.empty()) first_key = key;
        if (!timeline_point && (timeline_run.empty() || key == timeline_run))
          timeline_point.emplace(&plan, hash);
      }
      published.insert(rep.published.begin(), rep.published.end());
      report += rep.markdown;
      summary += rep.summary;
    }
    metrics["run.simulated_seconds"] = simulated;

    if (!opts.timeline.empty()) {
      if (!timeline_point)
        throw sim::InputError(
            fmt::format("{}: timeline_run '{}' names no point (point keys look like '{}')",
                        opts.scenario.string(), timeline_run, first_key));
      const auto& [plan, hash] = *timeline_point;
      for (const PlannedPoint& p : plan->points())
        if (p.hash == hash) {
          RunOptions o;
          o.scenario = plan->spec().scenario;
          o.overrides = p.overrides;
          o.out = tmp / ".timeline-point";
          o.timeline = opts.timeline;
          o.quiet = true;
          o.point = true;
          run_scenario(o, catalog, console);
          fs::remove_all(o.out);
          break;
        }
    }

    sim::write_file_atomic(tmp / "metrics.json", sim::metrics_to_json(metrics));
    if (!published.empty())
      sim::write_file_atomic(tmp / "published.json", sim::metrics_to_json(published));
    std::vector<std::pair<std::string, const SweepReport*>> tidy;
    for (std::size_t i = 0; i < specs.size(); ++i) tidy.emplace_back(specs[i].name, &reports[i]);
    sim::write_file_atomic(tmp / "results.csv", tidy_results_csv(tidy));
    sim::write_file_atomic(
        tmp / "report.md",
        fmt::format("# {}\n\n{}{}", name, description.empty() ? "" : description + "\n\n", report));
    std::string args;
    for (const auto& o : opts.overrides) args += fmt::format(" --set '{}'", o);
    if (opts.seed) args += fmt::format(" --seed {}", *opts.seed);
    for (const auto& plugin : catalog.plugin_paths())  // the policies its points name
      args += fmt::format(" --plugin '{}'", plugin.string());
    sim::write_file_atomic(
        tmp / "config.yaml",
        fmt::format("# resolved by warpsim {} from {}; its points' configs are under sweeps/\n"
                    "# re-run with: warpsim run {}{}\n",
                    WARPSIM_VERSION, opts.scenario.string(), opts.scenario.string(), args) +
            sim::dump_yaml(without_plugins(root)) + recorded_plugins_yaml(catalog));
  });
  if (!opts.quiet) {
    console << summary;
    console << fmt::format("results: {}{}\n", out.string(),
                           opts.timeline.empty() ? "" : "  timeline: " + opts.timeline.string());
  }
  return RunResult{out, 0};
}

}  // namespace app

#pragma once
// An experiment is what `warpsim run` executes: a scenario file names its kind
// (`experiment: transfers`) and the family `experiment` builds it from the file's settings.
// Experiments read every setting in their constructor, so the program can reject unknown keys
// before any simulated time passes; run() then simulates and reports.

#include <fmt/format.h>

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "drivers/system.hpp"
#include "models/host_runtime.hpp"
#include "sim/config.hpp"
#include "sim/params.hpp"
#include "sim/registry.hpp"
#include "sim/rng.hpp"
#include "sim/stats.hpp"
#include "sim/timeline.hpp"

namespace app {

struct RunContext {
  sim::Stats& stats;              // results go here; written as metrics.json / stats.csv
  sim::TimelineWriter* timeline;  // null unless --timeline was given
  const sim::RngFactory& rng;
  std::ostream& console;          // the short human summary
  std::string report{};           // markdown, written as report.md
  // Further result files by name (requests.csv), written into the results folder with the rest.
  std::map<std::string, std::string> files{};
  sim::Time end_time{};           // simulated time reached, for time-weighted statistics
  std::uint64_t fingerprint = 0;  // event-schedule hash of the simulations run (determinism)

  // Mixes one simulation's schedule fingerprint in, order-sensitively: every simulation an
  // experiment runs goes through here, so two runs that differ anywhere differ in the sum.
  void add_fingerprint(std::uint64_t f) {
    fingerprint = (fingerprint ^ f) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
  }
  // Every simulation an experiment runs reports itself here; its components' statistics go to
  // stats.csv under `point` (the run's metric prefix).
  void add_run(const drivers::RunSummary& r, const std::string& point) {
    add_fingerprint(r.fingerprint);
    events += r.events;
    wall_seconds += r.wall_seconds;
    for (const auto& [k, v] : r.components) stats.component(point + "." + k, v);
    ++runs_done;
    if (on_progress) on_progress(runs_done, runs_expected);
  }
  // An experiment says up front how many simulations it will run (add_run counts them), so
  // `warpsim run` can show progress on anything that takes more than a second.
  void expect_runs(std::size_t n) { runs_expected += n; }
  std::uint64_t timeline_spans() const { return timeline ? timeline->spans_written() : 0; }
  std::size_t runs_expected = 0, runs_done = 0;
  std::function<void(std::size_t done, std::size_t expected)> on_progress{};
  // Progress inside one long simulation (a serving run's finished requests of all of them).
  std::function<void(std::size_t done, std::size_t total)> on_items{};
  std::uint64_t events = 0;  // over every simulation run
  double wall_seconds = 0;
};

// The keys scenario_host reads, for an experiment's schema.
inline const sim::ParamSchema& host_params() {
  static const sim::ParamSchema s = sim::schema(R"(
host      | host   |  | host costs (configs/hosts/); absent: the ideal host
host_mode | string |  | mode of the host preset (default: the loop's own)
)");
  return s;
}

// The host a scenario names -- `host:` a configs/hosts preset, `host_mode:` which of its modes
// (default `mode`) -- or, when it names none, the ideal host (no host time, no launch latency).
inline models::HostCosts scenario_host(const sim::Params& p, const std::string& mode) {
  const auto host = p.find("host");
  if (!host) {
    if (auto m = p.find("host_mode")) m->fail("host_mode needs a host: preset");
    return models::HostCosts::ideal();
  }
  return models::HostCosts::for_mode(*host, p.config().or_default("host_mode", mode).as_string());
}

// `base` followed by `more` (an experiment's own keys, then shared ones such as host_params()).
inline sim::ParamSchema schema_of(sim::ParamSchema base, const sim::ParamSchema& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

class Experiment {
 public:
  virtual ~Experiment() = default;
  virtual void run(RunContext& ctx) = 0;
};

using ExperimentRegistry = sim::Registry<Experiment, const sim::Config&>;

inline ExperimentRegistry& experiments(sim::PluginCatalog& catalog) {
  return catalog.family<ExperimentRegistry>("experiment",
                                            "what `warpsim run` executes (key `experiment:`)");
}

// Adds experiment T to the family under `name`: T is built from its config read through
// `schema` (a static one: it is kept by reference) and the catalog, for the plugins it names.
template <class T>
void add_experiment(sim::PluginCatalog& catalog, std::string name, std::string description,
                    const sim::ParamSchema& schema) {
  experiments(catalog).add(std::move(name), std::move(description), schema,
                           [&catalog, &schema](const sim::Config& cfg) {
                             return std::make_unique<T>(sim::Params(cfg, schema), catalog);
                           });
}

}  // namespace app

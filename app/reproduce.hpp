#pragma once
// `warpsim run X.yaml` when X names `sweeps:`: the experiment is one point (system + workload +
// policy) and its sweeps say which points reproduce it. Every point of every sweep runs on this
// machine, each in its own worker, and the results folder is written whole:
//
//   OUT/metrics.json, OUT/report.md   the sweeps' reports (app/sweep_report) together
//   OUT/results.csv                   every point of every sweep, one tidy row each
//   OUT/published.json                the sweeps' published figures by metric key (for plots)
//   OUT/sweeps/<sweep>/               each sweep's folder, as `warpsim sweep` writes it
//   OUT/config.yaml                   the experiment file as resolved, and the command line
//
// `--set key=value` replaces the values of an axis `key` where a sweep varies it (a list, or
// one value), `--set <sweep>/key=value` in that sweep alone; any other key is set on every point.
// `--timeline` draws the point the file's `timeline_run` names by its report key (default: the
// first point).

#include <optional>
#include <ostream>

#include "app/run_command.hpp"
#include "sim/registry.hpp"

namespace app {

// Nothing when the file names no sweeps (the caller runs it as one point).
std::optional<RunResult> run_experiment_sweeps(const RunOptions& opts, sim::PluginCatalog& catalog,
                                               std::ostream& console);

}  // namespace app

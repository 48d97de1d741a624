#pragma once
// Runs a sweep's points on this machine: each point in its own forked worker process (a crash
// or a bad point cannot take the others down), at most `jobs` at a time.

#include <string>
#include <vector>

#include "app/sweep_plan.hpp"
#include "sim/registry.hpp"

namespace app {

struct LocalRunOptions {
  int jobs = 1;
  bool progress = true;  // draw progress on stderr
  std::string label = "sweep";  // how its lines begin
  bool after_a_second = false;  // show nothing for a run that ends within a second
};

// One worker per CPU this process may run on (its affinity mask: a container's or a cgroup's
// share, not the machine's); inside a Slurm array task, the CPUs the task was given.
int default_jobs(bool in_slurm_task);

// Builds point `p` the way its worker will (its config read, every key checked, its experiment
// built), simulating nothing. Bad input throws sim::InputError at the sweep file's axis when
// the value an axis sets is at fault, else naming the sweep file and the point.
void check_point(const SweepPlan& plan, const PlannedPoint& p, sim::PluginCatalog& catalog);

// Runs `points` (from plan.pending()); each ends as a complete folder or a recorded error.
// Returns how many failed.
std::size_t run_points_locally(const SweepPlan& plan, const std::vector<const PlannedPoint*>& points,
                               const LocalRunOptions& opts, sim::PluginCatalog& catalog);

}  // namespace app

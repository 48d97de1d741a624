#pragma once
// `warpsim sweep SWEEP.yaml`: runs every point of a sweep (app/sweep_spec.hpp) on this machine
// or as a Slurm job array, resumably, and collects OUT/results.csv. docs/sweeps.md.

#include "app/command.hpp"

namespace app {

// Some points failed (or never ran); the others' results are written.
inline constexpr int kExitPointsFailed = 3;

Command add_sweep_command(CLI::App& cli);

}  // namespace app

#pragma once
// Runs a sweep as a Slurm job array: one array task per chunk of points. Each task runs
// `warpsim sweep SWEEP --out OUT --slurm-task I`, which runs the points listed on line I of
// OUT/slurm/chunks.txt into the same OUT/points/ folders the local backend uses, so results.csv
// is then collected exactly as a local sweep's. OUT must be on a file system the nodes share.

#include <filesystem>
#include <string>
#include <vector>

#include "app/sweep_plan.hpp"

namespace app {

struct SlurmOptions {
  std::string partition;  // empty: the cluster's default
  std::string time;       // per array task, as sbatch takes it ("30:00"); empty: default
  std::string mem;        // per array task ("4G"); empty: default
  std::size_t chunk_size = 10;  // points per array task
  std::vector<std::filesystem::path> plugins;  // --plugin libraries the tasks load too
};

// Writes OUT/slurm/chunks.txt and OUT/slurm/sweep.sbatch; returns the script's path.
std::filesystem::path write_slurm_job(const SweepPlan& plan,
                                      const std::vector<const PlannedPoint*>& points,
                                      const SlurmOptions& opts);
// Submits the script with sbatch; returns the job id.
std::string submit_slurm_job(const std::filesystem::path& script);
// Polls squeue until the job has left the queue, drawing progress over the planned points.
void wait_for_slurm_job(const SweepPlan& plan, const std::string& job_id,
                        const std::vector<const PlannedPoint*>& points);
// The points of array task `task` (a line of OUT/slurm/chunks.txt).
std::vector<const PlannedPoint*> slurm_task_points(const SweepPlan& plan, std::size_t task);

}  // namespace app

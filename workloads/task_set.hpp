#pragma once
// Periodic inference tasks, the workload of multi-tenant GPU inference studies: each task runs
// one model at one batch size, releasing a job every `period` from `arrival`; a job must finish
// within `deadline` of its release. A job still waiting when its deadline passes is dropped
// (counted as a miss); one that finishes late is a miss too.

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "sim/time.hpp"

namespace workloads {

struct InferenceTask {
  std::string name;   // unique in its set
  std::string model;  // a model_zoo name
  int batch = 1;
  sim::Time arrival, period, deadline;
  int jobs = 1;       // releases
  int priority = 0;   // for sharing policies that order by it (higher: sooner)
};

struct TaskSet {
  std::string name;
  std::vector<InferenceTask> tasks;
};

struct JobRelease {
  int task = 0;
  int index = 0;
  sim::Time release, deadline;  // absolute
};

// Reads `{tasks: [{model, batch, arrival, period, deadline, jobs, priority, name}]}`; the deadline
// defaults to the period, names to "<model>" (with an index when repeated). Unknown models
// are reported at the item.
TaskSet read_task_set(const std::string& name, const sim::Config& c);

// Every job of the set in release order (ties: task order).
std::vector<JobRelease> releases(const TaskSet& set);

}  // namespace workloads

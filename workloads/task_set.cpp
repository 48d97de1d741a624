#include "workloads/task_set.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "sim/nearest.hpp"
#include "workloads/model_zoo.hpp"

namespace workloads {

TaskSet read_task_set(const std::string& name, const sim::Config& c) {
  TaskSet set;
  set.name = name;
  std::map<std::string, int> uses;
  for (const sim::Config& t : c.seq("tasks")) {
    InferenceTask task;
    task.model = read_model_name(t.at("model"));
    task.batch = static_cast<int>(t.get_int_in("batch", 1, 1024, 1));
    task.arrival = t.get_duration("arrival", "0 ms");
    task.period = t.get_duration("period");
    if (task.period <= sim::Time::zero()) t.at("period").fail("must be positive");
    task.deadline = t.has("deadline") ? t.get_duration("deadline") : task.period;
    if (task.deadline <= sim::Time::zero()) t.at("deadline").fail("must be positive");
    task.jobs = static_cast<int>(t.get_int_in("jobs", 1, 1'000'000, 1));
    task.priority = static_cast<int>(t.get_int_in("priority", -1'000'000, 1'000'000, 0));
    const int n = uses[task.model]++;
    task.name = t.get_string("name", n == 0 ? task.model : fmt::format("{}_{}", task.model, n));
    for (const auto& other : set.tasks)
      if (other.name == task.name) t.fail(fmt::format("duplicate task name '{}'", task.name));
    set.tasks.push_back(task);
  }
  if (set.tasks.empty()) c.at("tasks").fail("a task set needs at least one task");
  return set;
}

std::vector<JobRelease> releases(const TaskSet& set) {
  std::vector<JobRelease> out;
  for (std::size_t i = 0; i < set.tasks.size(); ++i) {
    const InferenceTask& t = set.tasks[i];
    for (int j = 0; j < t.jobs; ++j) {
      const sim::Time r = t.arrival + sim::Time::ps(t.period.count() * j);
      out.push_back({static_cast<int>(i), j, r, r + t.deadline});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const JobRelease& a, const JobRelease& b) { return a.release < b.release; });
  return out;
}

}  // namespace workloads

#include "app/sweep_local.hpp"

#include <fcntl.h>
#include <sched.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <map>
#include <sstream>

#include "app/progress.hpp"
#include "app/run_command.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"

namespace app {
namespace fs = std::filesystem;

namespace {

// The worker: runs one point as `warpsim run` would and exits. Never returns.
[[noreturn]] void run_in_child(const SweepPlan& plan, const PlannedPoint& p,
                               sim::PluginCatalog& catalog) {
  // What the point prints goes to its log, not over the progress bar.
  const int log = ::open(plan.log_file(p).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (log >= 0) {
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::close(log);
  }
  int code = kExitOk;
  std::string error;
  try {
    RunOptions o;
    o.scenario = plan.spec().scenario;
    o.overrides = p.overrides;
    o.out = plan.dir(p);
    o.quiet = true;
    o.point = true;  // the point itself, not the sweeps its file may name
    std::ostringstream console;
    run_scenario(o, catalog, console);
  } catch (const sim::InputError& e) {
    code = kExitBadInput;
    error = e.what();
  } catch (const std::exception& e) {
    code = kExitInternal;
    error = std::string("internal error: ") + e.what();
  }
  if (code != kExitOk) {
    try {
      sim::write_file_atomic(plan.error_file(p), error + "\n");
    } catch (...) {
      code = kExitInternal;
    }
  }
  std::fflush(nullptr);
  ::_exit(code);  // no destructors or atexit handlers of the parent's state
}

// Why a worker that left no result failed, when it could not say so itself.
std::string exit_description(int status) {
  if (WIFSIGNALED(status))
    return fmt::format("the worker was killed by signal {} ({})", WTERMSIG(status),
                       ::strsignal(WTERMSIG(status)));
  return fmt::format("the worker exited with status {} and left no result",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

}  // namespace

// One worker per CPU this process may run on (its affinity mask: a container's or a cgroup's
// share, not the machine's); inside a Slurm array task, the CPUs the task was given.
int default_jobs(bool in_slurm_task) {
  if (in_slurm_task) {
    const char* cpus = ::getenv("SLURM_CPUS_PER_TASK");
    return cpus && std::atoi(cpus) > 0 ? std::atoi(cpus) : 1;
  }
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

void check_point(const SweepPlan& plan, const PlannedPoint& p, sim::PluginCatalog& catalog) {
  RunOptions o;
  o.scenario = plan.spec().scenario;
  o.overrides = p.overrides;
  o.point = true;
  try {
    load_scenario(o, catalog);
  } catch (const sim::InputError& e) {
    const std::string what = e.what();
    const std::string which = fmt::format("point {} of {}", p.index + 1, plan.points().size());
    // An error in a value the sweep sets is reported where the sweep file sets it.
    for (const auto& [key, pos] : plan.spec().key_pos) {
      const std::string set = "--set " + key + "=";
      if (!what.starts_with(set)) continue;
      const auto colon = what.find(": ");
      throw sim::InputError(pos, fmt::format("axis '{}', {}: {}", key, which,
                                             colon == std::string::npos ? what
                                                                        : what.substr(colon + 2)));
    }
    throw sim::InputError(fmt::format("{}: {}: {}", plan.spec().file.string(), which, what));
  }
}

std::size_t run_points_locally(const SweepPlan& plan, const std::vector<const PlannedPoint*>& points,
                               const LocalRunOptions& opts, sim::PluginCatalog& catalog) {
  fs::create_directories(plan.out() / "points");
  std::optional<Progress> progress;
  if (opts.progress)
    progress.emplace(plan.points().size(), plan.points().size() - points.size(), stderr,
                     Progress::Words{opts.label.c_str(), "points"}, opts.after_a_second);

  std::map<pid_t, const PlannedPoint*> running;
  std::size_t next = 0, failed = 0;
  while (next < points.size() || !running.empty()) {
    while (next < points.size() && running.size() < static_cast<std::size_t>(opts.jobs)) {
      const PlannedPoint* p = points[next++];
      std::error_code ec;
      fs::remove(plan.error_file(*p), ec);  // a retry starts clean
      std::fflush(nullptr);
      const pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
      if (pid == 0) run_in_child(plan, *p, catalog);
      running.emplace(pid, p);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(fmt::format("waitpid: {}", std::strerror(errno)));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    const PlannedPoint& p = *it->second;
    running.erase(it);

    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && plan.complete(p);
    if (!ok) {
      ++failed;
      if (!fs::exists(plan.error_file(p)))
        sim::write_file_atomic(plan.error_file(p), exit_description(status) + "\n");
    }
    std::error_code ec;
    if (fs::exists(plan.log_file(p)) && fs::file_size(plan.log_file(p), ec) == 0)
      fs::remove(plan.log_file(p), ec);
    if (progress) progress->point_done(!ok);
  }
  if (progress) progress->finish();
  return failed;
}

}  // namespace app

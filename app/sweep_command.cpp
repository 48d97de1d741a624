#include "app/sweep_command.hpp"

#include <fcntl.h>
#include <sched.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>

#include "app/run_command.hpp"
#include "app/slurm_backend.hpp"
#include "app/sweep_local.hpp"
#include "app/sweep_plan.hpp"
#include "app/sweep_report.hpp"
#include "app/sweep_spec.hpp"
#include "sim/error.hpp"

namespace app {
namespace fs = std::filesystem;

namespace {

struct SweepOptions {
  fs::path file;
  fs::path out;  // default results/sweeps/<name>
  int jobs = 0;  // 0: one per CPU available (default_jobs)
  std::string backend = "local";
  SlurmOptions slurm;
  bool no_wait = false;
  bool collect = false;
  std::optional<std::size_t> slurm_task;  // set inside a Slurm array task
};

// One sweep per results folder at a time: two would run the same points twice.
class FolderLock {
 public:
  explicit FolderLock(const fs::path& dir) {
    fs::create_directories(dir);
    fd_ = ::open((dir / ".sweep.lock").c_str(), O_RDWR | O_CREAT, 0644);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      throw sim::InputError(
          fmt::format("another sweep is running in '{}' (it holds .sweep.lock)", dir.string()));
  }
  ~FolderLock() { ::close(fd_); }
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

int summarize(const SweepPlan& plan, std::ostream& console) {
  const std::size_t incomplete = plan.write_results_csv();
  if (plan.spec().report) {
    const SweepReport report = make_sweep_report(plan.spec(), plan.out());
    write_sweep_report(report, plan.spec().name, plan.out());
    console << report.summary;
  }
  console << fmt::format("results: {} ({} points{})\n", (plan.out() / "results.csv").string(),
                         plan.points().size(),
                         incomplete ? fmt::format(", {} failed or missing", incomplete) : "");
  return incomplete ? kExitPointsFailed : kExitOk;
}

int run_sweep(const SweepOptions& o, sim::PluginCatalog& catalog, std::ostream& console) {
  const SweepSpec spec = load_sweep(o.file);
  const fs::path out = o.out.empty() ? fs::path("results") / "sweeps" / spec.name : o.out;
  const SweepPlan plan(spec, out);
  LocalRunOptions local;
  local.jobs = o.jobs > 0 ? o.jobs : default_jobs(o.slurm_task.has_value());

  if (o.slurm_task) {  // inside one array task: its chunk, then the collector takes over
    const auto points = slurm_task_points(plan, *o.slurm_task);
    return run_points_locally(plan, points, local, catalog) ? kExitPointsFailed : kExitOk;
  }

  // A typo in an axis key, or a value the scenario rejects, stops the sweep before anything runs.
  if (!plan.points().empty()) check_point(plan, plan.points().front(), catalog);
  FolderLock lock(out);
  if (o.collect) return summarize(plan, console);
  plan.remove_stale_temporaries();
  const auto pending = plan.pending();

  if (o.backend == "local") {
    run_points_locally(plan, pending, local, catalog);
  } else if (!pending.empty()) {
    SlurmOptions slurm = o.slurm;
    slurm.plugins = catalog.plugin_paths();
    const fs::path script = write_slurm_job(plan, pending, slurm);
    const std::string job = submit_slurm_job(script);
    console << fmt::format("submitted Slurm job {} ({} points): {}\n", job, pending.size(),
                           script.string());
    if (o.no_wait) {
      console << fmt::format("collect when it is done: warpsim sweep {} --out {} --collect\n",
                             o.file.string(), out.string());
      return kExitOk;
    }
    wait_for_slurm_job(plan, job, pending);
  }
  return summarize(plan, console);
}

}  // namespace

Command add_sweep_command(CLI::App& cli) {
  auto o = std::make_shared<SweepOptions>();
  auto task = std::make_shared<std::size_t>(0);
  auto* sub = cli.add_subcommand("sweep", "run every point of a sweep file; collect results.csv");
  sub->add_option("sweep", o->file, "sweep YAML file (docs/sweeps.md)")->required();
  sub->add_option("--out", o->out, "results folder (default results/sweeps/<name>)");
  sub->add_option("--jobs,-j", o->jobs, "worker processes (default: one per available CPU)")
      ->check(CLI::Range(1, 4096));
  sub->add_option("--backend", o->backend, "where points run: local or slurm")
      ->check(CLI::IsMember({"local", "slurm"}));
  sub->add_option("--partition", o->slurm.partition, "slurm: partition");
  sub->add_option("--time", o->slurm.time, "slurm: time limit per array task (e.g. 30:00)");
  sub->add_option("--mem", o->slurm.mem, "slurm: memory per array task (e.g. 4G)");
  sub->add_option("--chunk-size", o->slurm.chunk_size, "slurm: points per array task")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  sub->add_flag("--no-wait", o->no_wait, "slurm: submit and return; collect later");
  sub->add_flag("--collect", o->collect, "only write results.csv from the points on disk");
  auto* task_opt = sub->add_option("--slurm-task", *task, "(used by the job script)")
                       ->group("");  // internal: one array task's chunk
  return {sub, [o, task, task_opt](sim::PluginCatalog& catalog, std::ostream& console) {
            if (*task_opt) o->slurm_task = *task;
            return run_sweep(*o, catalog, console);
          }};
}

}  // namespace app

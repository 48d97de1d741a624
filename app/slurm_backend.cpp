#include "app/slurm_backend.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "app/progress.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"

namespace app {
namespace fs = std::filesystem;

namespace {

// A word for a POSIX shell, single-quoted.
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct CommandOutput {
  int code;
  std::string output;
};

CommandOutput run_command(const std::string& line) {
  FILE* p = ::popen((line + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("cannot start: " + line);
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

bool on_path(const std::string& program) {
  return run_command("command -v " + shell_quote(program)).code == 0;
}

fs::path self_executable() { return fs::read_symlink("/proc/self/exe"); }

}  // namespace

fs::path write_slurm_job(const SweepPlan& plan, const std::vector<const PlannedPoint*>& points,
                         const SlurmOptions& opts) {
  if (opts.chunk_size == 0) throw sim::InputError("--chunk-size must be at least 1");
  const fs::path dir = fs::absolute(plan.out() / "slurm");
  fs::create_directories(dir);
  fs::create_directories(plan.out() / "points");

  for (const PlannedPoint* p : points) {  // a retry starts clean
    std::error_code ec;
    fs::remove(plan.error_file(*p), ec);
  }
  std::string chunks;
  std::size_t tasks = 0;
  for (std::size_t i = 0; i < points.size(); i += opts.chunk_size, ++tasks) {
    for (std::size_t j = i; j < std::min(points.size(), i + opts.chunk_size); ++j)
      chunks += (j > i ? " " : "") + points[j]->hash;
    chunks += "\n";
  }
  sim::write_file_atomic(dir / "chunks.txt", chunks);

  std::string s = "#!/bin/bash\n";
  s += fmt::format("# warpsim sweep '{}': {} points in {} array tasks of up to {}.\n",
                   plan.spec().name, points.size(), tasks, opts.chunk_size);
  s += fmt::format("#SBATCH --job-name=warpsim-{}\n", plan.spec().name);
  s += fmt::format("#SBATCH --array=0-{}\n", tasks == 0 ? 0 : tasks - 1);
  s += fmt::format("#SBATCH --output={}\n", (dir / "task-%a.log").string());
  s += "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n";
  if (!opts.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", opts.partition);
  if (!opts.time.empty()) s += fmt::format("#SBATCH --time={}\n", opts.time);
  if (!opts.mem.empty()) s += fmt::format("#SBATCH --mem={}\n", opts.mem);
  if (const char* configs = ::getenv("WARPSIM_CONFIG_PATH"))  // the tasks see the same configs
    s += fmt::format("export WARPSIM_CONFIG_PATH={}\n", shell_quote(configs));
  s += "exec " + shell_quote(self_executable().string());
  for (const auto& p : opts.plugins) s += " --plugin " + shell_quote(p.string());
  s += " sweep " + shell_quote(fs::absolute(plan.spec().file).string()) + " --out " +
       shell_quote(fs::absolute(plan.out()).string()) + " --slurm-task \"$SLURM_ARRAY_TASK_ID\"\n";
  const fs::path script = dir / "sweep.sbatch";
  sim::write_file_atomic(script, s);
  return script;
}

std::string submit_slurm_job(const fs::path& script) {
  if (!on_path("sbatch"))
    throw sim::InputError("--backend slurm: sbatch is not on PATH (is Slurm installed here?)");
  const auto r = run_command("sbatch --parsable " + shell_quote(script.string()));
  if (r.code != 0) {  // no cluster to talk to is the user's setup, not warpsim's failure
    std::string last = trim(r.output);
    if (const auto nl = last.rfind('\n'); nl != std::string::npos) last = last.substr(nl + 1);
    throw sim::InputError("--backend slurm: sbatch could not submit the job (is a Slurm "
                          "controller running and reachable?): " + last);
  }
  std::string id = trim(r.output);
  id = id.substr(id.find_last_of('\n') + 1);  // the last line: "<job id>[;cluster]"
  return id.substr(0, id.find(';'));
}

void wait_for_slurm_job(const SweepPlan& plan, const std::string& job_id,
                        const std::vector<const PlannedPoint*>& points) {
  const std::size_t total = plan.points().size();
  Progress progress(total, total - points.size());
  std::vector<bool> reported(points.size(), false);
  std::size_t squeue_errors = 0;
  for (;;) {
    const auto q = run_command("squeue --noheader --format=%i --jobs=" + shell_quote(job_id));
    // Once the job has left the queue squeue prints nothing (or, later, "Invalid job id");
    // any other failure (slurmctld busy or restarting) is waited out for a while.
    const bool gone = q.code == 0 ? trim(q.output).empty()
                                  : q.output.find("Invalid job id") != std::string::npos;
    if (q.code != 0 && !gone && ++squeue_errors > 60)
      throw std::runtime_error("squeue keeps failing: " + trim(q.output));
    if (q.code == 0) squeue_errors = 0;
    const bool queued = !gone;
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (reported[i]) continue;
      const bool failed = fs::exists(plan.error_file(*points[i]));
      if (failed || plan.complete(*points[i])) {
        reported[i] = true;
        progress.point_done(failed);
      }
    }
    if (!queued) break;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  progress.finish();
}

std::vector<const PlannedPoint*> slurm_task_points(const SweepPlan& plan, std::size_t task) {
  const fs::path file = plan.out() / "slurm" / "chunks.txt";
  std::ifstream in(file);
  if (!in) throw sim::InputError(sim::SourcePos{file.string()}, "no chunk list (was the job written by this sweep?)");
  std::string line;
  for (std::size_t i = 0; i <= task; ++i)
    if (!std::getline(in, line))
      throw sim::InputError(sim::SourcePos{file.string()},
                            fmt::format("no line for array task {}", task));
  std::map<std::string, const PlannedPoint*> by_hash;
  for (const PlannedPoint& p : plan.points()) by_hash.emplace(p.hash, &p);
  std::vector<const PlannedPoint*> out;
  std::istringstream words(line);
  for (std::string h; words >> h;) {
    auto it = by_hash.find(h);
    if (it == by_hash.end())
      throw sim::InputError(sim::SourcePos{file.string(), static_cast<int>(task + 1), 0},
                            fmt::format("point {} is not in the sweep (was the sweep file changed "
                                        "after submitting?)",
                                        h));
    out.push_back(it->second);
  }
  return out;
}

}  // namespace app

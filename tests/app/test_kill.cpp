// Crash safety (issue 20): a run or a sweep killed with SIGKILL half-way leaves no half-written
// result; the run is simply run again, and the sweep resumes without redoing finished points,
// with every point in results.csv once; two sweeps on one folder at once: the second refuses.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;
using testing::TempDir;
using testing::warpsim;

namespace {

// Starts `warpsim args` in a process group of its own (so its workers die with it).
pid_t start(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setpgid(0, 0);
    std::vector<char*> argv{const_cast<char*>(WARPSIM_EXE)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execv(WARPSIM_EXE, argv.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  return pid;
}

// Waits (polling, a generous bound: this is no speed test) until `ready` or the child ends.
template <class F>
bool wait_until(pid_t pid, F ready) {
  for (int i = 0; i < 12000; ++i) {
    if (ready()) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // finished first
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void kill_group(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::size_t starts_with_count(const fs::path& dir, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    n += e.path().filename().string().starts_with(prefix);
  return n;
}

}  // namespace

TEST_CASE("a run killed half-way leaves no result, and runs again cleanly") {
  TempDir d;
  const fs::path out = d.path() / "barm";
  const std::string scenario = std::string(WARPSIM_SOURCE) + "/configs/experiments/barm.yaml";
  const pid_t pid = start({"run", scenario, "--quiet", "--out", out.string()});
  const bool mid_way =
      wait_until(pid, [&] { return starts_with_count(d.path(), "barm.tmp-") > 0; });
  kill_group(pid);
  MESSAGE("run killed mid-way: " << mid_way);
  if (mid_way) CHECK_FALSE(fs::exists(out));  // no half-written result folder
  // Run again (a small one): it completes, and the dead run's temporary folder is gone.
  const auto again = warpsim("run " + scenario + " --quiet --out " + out.string() +
                             " --set taskset=[light] --set oversubscription=[0.5]"
                             " --set sms=[8] --set 'policy=[fifo]'");
  CHECK(again.code == 0);
  for (const char* f : {"metrics.json", "results.csv", "config.yaml"}) CHECK(fs::exists(out / f));
  CHECK(starts_with_count(d.path(), "barm.tmp-") == 0);
}

TEST_CASE("a sweep killed half-way resumes without redoing points; results.csv has each once") {
  TempDir d;
  const fs::path out = d.path() / "sweep";
  const std::string sweep = std::string(WARPSIM_SOURCE) + "/configs/sweeps/quickstart-grid.yaml";
  const pid_t pid = start({"sweep", sweep, "--jobs", "1", "--out", out.string()});
  auto complete_points = [&] {
    std::size_t n = 0;
    if (fs::is_directory(out / "points"))
      for (const auto& e : fs::directory_iterator(out / "points"))  // a point being written
        n += e.path().filename().string().find(".tmp-") == std::string::npos &&  // is not one
             fs::exists(e.path() / "metrics.json");
    return n;
  };
  // While it runs, a second sweep on the same folder refuses.
  const bool running = wait_until(pid, [&] { return fs::exists(out / ".sweep.lock"); });
  if (running) {
    const auto second = warpsim("sweep " + sweep + " --jobs 1 --out " + out.string());
    if (second.code == 2) CHECK(second.output.find("another sweep is running") != std::string::npos);
  }
  const bool mid_way = wait_until(pid, [&] { return complete_points() >= 1; });
  kill_group(pid);
  const std::size_t done_before = complete_points();
  CAPTURE(mid_way);
  CAPTURE(done_before);
  MESSAGE("sweep killed mid-way: " << mid_way << ", points done before the kill: " << done_before);
  const auto resumed = warpsim("sweep " + sweep + " --jobs 1 --out " + out.string());
  CAPTURE(resumed.output);
  REQUIRE(resumed.code == 0);
  if (done_before > 0)
    CHECK(resumed.output.find(std::to_string(done_before) + " of 12 points already complete") !=
          std::string::npos);
  std::istringstream csv(testing::read(out / "results.csv"));
  std::string line;
  std::getline(csv, line);  // header
  std::set<std::string> hashes;
  std::size_t rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    hashes.insert(line.substr(0, line.find(',')));
    CHECK(line.find(",ok,") != std::string::npos);
  }
  CHECK(rows == 12);
  CHECK(hashes.size() == 12);
}

// End-to-end tests of `warpsim sweep`: sweep files, workers, results.csv, resuming, failures.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;
using testing::read;
using testing::TempDir;
using testing::warpsim;

namespace {

const std::string kSweeps = std::string(WARPSIM_SOURCE) + "/configs/sweeps/";
const std::string kTransfers = std::string(WARPSIM_SOURCE) + "/configs/experiments/transfers.yaml";

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::size_t count_dirs(const fs::path& dir) {
  return static_cast<std::size_t>(std::count_if(fs::directory_iterator(dir), {},
                                                [](const auto& e) { return e.is_directory(); }));
}

// A sweep file beside a copy-free reference to the shipped transfers scenario.
fs::path write_sweep(const TempDir& d, const std::string& body) {
  return d.write("s.yaml", "scenario: " + kTransfers + "\n" + body);
}

}  // namespace

TEST_CASE("a mixed grid x zip x seeds sweep runs every point into a tidy results.csv") {
  TempDir d;
  const auto out = d.path() / "out";
  const auto r = warpsim("sweep " + kSweeps + "transfers-mixed.yaml --jobs 2 --out " + out.string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("8/8 points") != std::string::npos);  // plain progress lines: not a TTY
  const auto csv = lines(read(out / "results.csv"));
  REQUIRE(csv.size() == 9);
  CHECK(csv[0].starts_with(
      "point,status,seed,links.0.bandwidth,arrivals.count,arrivals.median_bytes,"));
  CHECK(csv[0].find(",transfers.makespan_us,") != std::string::npos);
  CHECK(csv[0].ends_with(",error"));
  // Axis order: the grid varies slowest, then the zip, then the seed.
  CHECK(csv[1].find(",ok,1,16 GB/s,16,4 MiB,") != std::string::npos);
  CHECK(csv[2].find(",ok,2,16 GB/s,16,4 MiB,") != std::string::npos);
  CHECK(csv[3].find(",ok,1,16 GB/s,48,16 MiB,") != std::string::npos);
  CHECK(csv[8].find(",ok,2,31.5 GB/s,48,16 MiB,") != std::string::npos);
  CHECK(count_dirs(out / "points") == 8);
  // Each folder is a complete `warpsim run` result, named by the resolved config's hash.
  const std::string hash = csv[1].substr(0, csv[1].find(','));
  CHECK(hash.size() == 16);
  CHECK(fs::exists(out / "points" / hash / "config.yaml"));
  CHECK(read(out / "points" / hash / "config.yaml").find("bandwidth: 16 GB/s") != std::string::npos);

  SUBCASE("re-running skips complete points; a half-done point is redone") {
    const std::string before = read(out / "results.csv");
    const auto again = warpsim("sweep " + kSweeps + "transfers-mixed.yaml --out " + out.string());
    CHECK(again.code == 0);
    CHECK(again.output.find("8 of 8 points already complete") != std::string::npos);

    // A worker killed half-way leaves a temporary folder and no result.
    fs::rename(out / "points" / hash, out / "points" / (hash + ".tmp-4242"));
    fs::remove(out / "points" / (hash + ".tmp-4242") / "metrics.json");
    const auto resumed = warpsim("sweep " + kSweeps + "transfers-mixed.yaml --out " + out.string());
    CAPTURE(resumed.output);
    CHECK(resumed.code == 0);
    CHECK(resumed.output.find("7 of 8 points already complete") != std::string::npos);
    CHECK_FALSE(fs::exists(out / "points" / (hash + ".tmp-4242")));
    CHECK(read(out / "results.csv") == before);  // same points, same numbers
  }
}

TEST_CASE("a failing point is recorded with its error; the others complete; exit 3") {
  TempDir d;
  const auto sweep =
      write_sweep(d, "axes:\n  - grid:\n      arrivals.count: [4, -3]\n");
  const auto out = d.path() / "out";
  const auto r = warpsim("sweep " + sweep.string() + " --jobs 2 --out " + out.string());
  CAPTURE(r.output);
  CHECK(r.code == 3);
  CHECK(r.output.find("1 failed") != std::string::npos);
  const auto csv = lines(read(out / "results.csv"));
  REQUIRE(csv.size() == 3);
  CHECK(csv[1].find(",ok,4,") != std::string::npos);
  CHECK(csv[2].find(",failed,-3,") != std::string::npos);
  CHECK(csv[2].find("arrivals.count") != std::string::npos);  // the error names the key
  // Collecting again gives the same table and the same verdict.
  const auto c = warpsim("sweep " + sweep.string() + " --collect --out " + out.string());
  CHECK(c.code == 3);
}

TEST_CASE("random samples are drawn the same way every time") {
  TempDir d;
  const auto a = d.path() / "a", b = d.path() / "b";
  REQUIRE(warpsim("sweep " + kSweeps + "transfers-random.yaml --jobs 2 --out " + a.string()).code == 0);
  REQUIRE(warpsim("sweep " + kSweeps + "transfers-random.yaml --jobs 1 --out " + b.string()).code == 0);
  const std::string csv = read(a / "results.csv");
  CHECK(csv == read(b / "results.csv"));
  const auto rows = lines(csv);
  REQUIRE(rows.size() == 13);  // 4 samples x 3 seeds
  CHECK(rows[1].find(" us,") != std::string::npos);  // the unit travels with the number
}

TEST_CASE("a bad sweep file exits 2 naming its position, and runs nothing") {
  TempDir d;
  struct Case {
    std::string body, expected;
  };
  const std::vector<Case> cases = {
      {"axes:\n  - grid:\n      arrivals.count: []\n", "s.yaml:4:23: 'axes.0.grid.arrivals.count': expected a non-empty list"},
      {"axes:\n  - zip:\n      arrivals.count: [1, 2]\n      arrivals.mean_gap: [1 us]\n",
       "s.yaml:5:26: 'axes.0.zip.arrivals.mean_gap': zip axes must have equal lengths"},
      {"axes:\n  - cube: {a: [1]}\n", "unknown axis kind 'cube'"},
      {"axes:\n  - grid: {arrivals.count: [1]}\nseed: [1]\n", "s.yaml:4:1: unknown key 'seed' at the top level (did you mean 'seeds'?)"},
      {"axes:\n  - grid: {arrivals.count: [1]}\n  - zip: {arrivals.count: [2]}\n",
       "key 'arrivals.count' is set twice"},
      {"axes:\n  - random: {samples: 2, params: {arrivals.count: {int: [9, 3]}}}\n",
       "low 9 is above high 3"},
      // Caught before running, and reported where the sweep file names the axis.
      {"axes:\n  - grid: {arrivals.cuont: [1]}\n",
       "s.yaml:3:12: axis 'arrivals.cuont', point 1 of 1: unknown key 'cuont' in 'arrivals' "
       "(did you mean 'count'?)"},
      {"seeds: [1, 1]\n", "seed 1 is listed twice"},
  };
  for (const auto& c : cases) {
    const auto sweep = write_sweep(d, c.body);
    const auto out = d.path() / "out";
    const auto r = warpsim("sweep " + sweep.string() + " --out " + out.string());
    CAPTURE(c.body);
    CAPTURE(r.output);
    CHECK(r.code == 2);
    CHECK(r.output.find(c.expected) != std::string::npos);
    CHECK_FALSE(fs::exists(out / "results.csv"));
  }
  const auto missing = warpsim("sweep " + (d.path() / "nope.yaml").string());
  CHECK(missing.code == 2);
  CHECK(missing.output.find("nope.yaml: no such sweep file") != std::string::npos);
}

TEST_CASE("the Slurm job script, and an array task running its chunk, without a cluster") {
  TempDir d;
  const auto out = d.path() / "out";
  const std::string sweep = kSweeps + "transfers-mixed.yaml";
  // No sbatch on PATH: the job is written, then submission fails as bad input.
  const auto r = testing::run_program("PATH=" + d.path().string() + " " + WARPSIM_EXE +
                                      " sweep " + sweep + " --backend slurm --chunk-size 3" +
                                      " --partition short --time 10:00 --mem 2G --out " +
                                      out.string());
  CAPTURE(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("sbatch is not on PATH") != std::string::npos);
  const std::string script = read(out / "slurm" / "sweep.sbatch");
  CHECK(script.find("#SBATCH --array=0-2\n") != std::string::npos);
  CHECK(script.find("#SBATCH --partition=short\n") != std::string::npos);
  CHECK(script.find("#SBATCH --time=10:00\n") != std::string::npos);
  CHECK(script.find("#SBATCH --mem=2G\n") != std::string::npos);
  CHECK(script.find("--slurm-task \"$SLURM_ARRAY_TASK_ID\"") != std::string::npos);
  const auto chunks = lines(read(out / "slurm" / "chunks.txt"));
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[2].size() == 2 * 16 + 1);  // the last chunk: 2 of the 8 points

  // What array task 2 runs: exactly the points on its line.
  const auto task = warpsim("sweep " + sweep + " --out " + out.string() + " --slurm-task 2");
  CAPTURE(task.output);
  CHECK(task.code == 0);
  CHECK(count_dirs(out / "points") == 2);
  CHECK(fs::exists(out / "points" / chunks[2].substr(0, 16) / "metrics.json"));
  CHECK(warpsim("sweep " + sweep + " --out " + out.string() + " --slurm-task 3").code == 2);
  // Collecting now: 2 points complete, 6 never ran.
  CHECK(warpsim("sweep " + sweep + " --out " + out.string() + " --collect").code == 3);
  CHECK(read(out / "results.csv").find(",missing,") != std::string::npos);
}

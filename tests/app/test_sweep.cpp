// End-to-end tests of `warpsim sweep`: sweep files, workers, results.csv, resuming, failures.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"
#include "sim/stats.hpp"

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

TEST_CASE("a sweep's report: keys from a template, metrics derived across points, published") {
  TempDir d;
  const auto sweep = write_sweep(d, R"(name: rep
set: {arrivals.count: 4}
axes:
  - grid:
      links.0.bandwidth: [16 GB/s, 32 GB/s]
report:
  key: "pcie{links.0.bandwidth}.{name}"
  show: [transfers.makespan_us]
  derived:
    - {name: faster, of: transfers.makespan_us, baseline: {links.0.bandwidth: 16 GB/s}}
    - {name: ratio, of: transfers.makespan_us, baseline: {links.0.bandwidth: 16 GB/s}, form: point/baseline}
    - {name: makespan_at_16, of: transfers.makespan_us, at: {links.0.bandwidth: 16 GB/s}, key: "all"}
  published: {"pcie32 GB/s.transfers.faster": 2.0}
)");
  const auto out = d.path() / "out";
  const auto r = warpsim("sweep " + sweep.string() + " --jobs 1 --out " + out.string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  const auto m = sim::metrics_from_json(read(out / "metrics.json"), "metrics.json");
  // {name}: no axis, so the point's resolved config says it (the scenario's name).
  const double slow = m.at("pcie16 GB/s.transfers.transfers.makespan_us");
  const double fast = m.at("pcie32 GB/s.transfers.transfers.makespan_us");
  CHECK(fast < slow);
  CHECK(m.at("pcie16 GB/s.transfers.faster") == 1);
  CHECK(m.at("pcie32 GB/s.transfers.faster") == doctest::Approx(slow / fast));
  CHECK(m.at("pcie32 GB/s.transfers.ratio") == doctest::Approx(fast / slow));
  CHECK(m.at("all.makespan_at_16") == slow);
  CHECK(m.count("all.makespan_at_16") == 1);
  const std::string report = read(out / "report.md");
  CHECK(report.find("| pcie32 GB/s.transfers | 32 GB/s |") != std::string::npos);
  CHECK(report.find("| pcie32 GB/s.transfers.faster |") != std::string::npos);  // published row
  CHECK(fs::exists(out / "published.json"));
}

TEST_CASE("a sweep's report: what cannot be reported is an error naming the sweep") {
  TempDir d;
  // Two seeds of one point under one key.
  auto s = write_sweep(d, "set: {arrivals.count: 2}\nseeds: [1, 2]\nreport: {key: one}\n");
  auto r = warpsim("sweep " + s.string() + " --jobs 1 --out " + (d.path() / "a").string());
  CHECK(r.code == 2);
  CHECK(r.output.find("two points give 'one.") != std::string::npos);
  // A baseline on a key the sweep does not vary, at its position.
  s = write_sweep(d, "axes: [{grid: {arrivals.count: [2, 4]}}]\nreport:\n  key: k{arrivals.count}\n"
                     "  derived: [{name: x, of: y, baseline: {seed: 1}}]\n");
  r = warpsim("sweep " + s.string() + " --jobs 1 --out " + (d.path() / "b").string());
  CHECK(r.code == 2);
  CHECK(r.output.find("s.yaml:5:") != std::string::npos);
  CHECK(r.output.find("'seed' is not an axis of this sweep") != std::string::npos);
  // A placeholder that is neither an axis nor a key of the scenario.
  s = write_sweep(d, "axes: [{grid: {arrivals.count: [2]}}]\nreport: {key: \"k{nope}\"}\n");
  r = warpsim("sweep " + s.string() + " --jobs 1 --out " + (d.path() / "c").string());
  CHECK(r.code == 2);
  CHECK(r.output.find("'{nope}' is neither an axis") != std::string::npos);
}

TEST_CASE("warpsim run of an experiment that names sweeps: every point, one results folder") {
  TempDir d;
  d.write("sweeps/bw.yaml", "name: bw\nscenario: ../e.yaml\nset: {arrivals.count: 4}\n"
                            "axes: [{grid: {links.0.bandwidth: [16 GB/s, 32 GB/s]}}]\n"
                            "report:\n  key: \"bw{links.0.bandwidth}\"\n"
                            "  derived: [{name: faster, of: transfers.makespan_us,"
                            " baseline: {links.0.bandwidth: 16 GB/s}}]\n");
  d.write("sweeps/n.yaml", "name: n\nscenario: ../e.yaml\n"
                           "axes: [{grid: {arrivals.count: [2, 8]}}]\nreport: {key: \"n{arrivals.count}\"}\n");
  const auto exp = d.write("e.yaml", "extends: " + kTransfers + "\nname: e\n"
                                     "sweeps: [sweeps/bw.yaml, sweeps/n.yaml]\n");
  const auto out = d.path() / "out";
  auto r = warpsim("run " + exp.string() + " --quiet --out " + out.string() +
                   " --set 'links.0.bandwidth=[16 GB/s, 64 GB/s]' --set 'n/arrivals.count=[3]'");
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  const auto m = sim::metrics_from_json(read(out / "metrics.json"), "metrics.json");
  CHECK(m.count("bw64 GB/s.faster") == 1);  // the axis's values replaced
  CHECK(m.count("bw32 GB/s.faster") == 0);
  CHECK(m.count("n3.transfers.count") == 1);  // only that sweep's
  CHECK(m.count("n8.transfers.count") == 0);
  CHECK(m.at("bw64 GB/s.transfers.count") == 4 + 4);  // the sweep's `set:` kept: 4 arrivals
  const auto csv = lines(read(out / "results.csv"));
  REQUIRE(csv.size() == 4);  // two points of bw, one of n
  CHECK(csv[0].starts_with("point,sweep,links.0.bandwidth,arrivals.count,"));
  CHECK(fs::is_directory(out / "sweeps" / "bw" / "points"));
  // --point runs the file as its one point: bare metrics.
  r = warpsim("run " + exp.string() + " --point --quiet --out " + (d.path() / "p").string());
  REQUIRE(r.code == 0);
  CHECK(sim::metrics_from_json(read(d.path() / "p" / "metrics.json"), "m").count("transfers.count"));
  // A sweep-qualified key must name a sweep and an axis it varies; a bad value stops the run.
  r = warpsim("run " + exp.string() + " --quiet --out " + out.string() + " --set 'bx/a=[1]'");
  CHECK(r.code == 2);
  CHECK(r.output.find("no sweep 'bx' here (its sweeps: bw, n)") != std::string::npos);
  r = warpsim("run " + exp.string() + " --quiet --out " + out.string() +
              " --set 'links.0.bandwidth=[-1 GB/s]'");
  CHECK(r.code == 2);
  // Reported at the axis in the sweep file, as `warpsim sweep` reports it.
  CHECK(r.output.find("bw.yaml:4:16: axis 'links.0.bandwidth', point 1 of 1") != std::string::npos);
  CHECK(fs::exists(out / "metrics.json"));  // the earlier result is left as it was
}

TEST_CASE("a run of an experiment's sweeps is the same whatever the number of workers") {
  TempDir d;
  const std::string barm = std::string(WARPSIM_SOURCE) + "/configs/experiments/barm.yaml";
  const std::string narrow = " --set taskset=[light] --set oversubscription=[0.5,2.0] --set sms=[8]";
  std::string first;
  for (const char* jobs : {"1", "2", "3"}) {
    CAPTURE(jobs);
    const auto out = d.path() / jobs;
    const auto r = warpsim("run " + barm + narrow + " --quiet --jobs " + jobs + " --out " + out.string());
    REQUIRE(r.code == 0);
    const std::string metrics = read(out / "metrics.json") + read(out / "results.csv");
    if (first.empty()) first = metrics;
    CHECK(metrics == first);  // byte for byte: the points' order and values never depend on it
  }
}

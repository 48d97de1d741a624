// Tree ensembles as tensor programs (card 3 of EXPERIMENTS.md: Hummingbird, WindTunnel): what
// emerges of the strategy comparison on the GPU model, and bad input. The reduced run sweeps a
// few depths at two batch sizes; the shipped experiment runs in suite `long`.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <utility>
#include <string>

#include "../support/run_experiment.hpp"
#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"

namespace {

double at(const std::map<std::string, double>& m, const std::string& k) {
  CAPTURE(k);
  REQUIRE(m.count(k) == 1);
  return m.at(k);
}

// GEMM wins for shallow trees, traversal for deep ones; the perfect-tree traversal never loses
// to the general one (the same rounds without the child lookups); the crossover moves to
// shallower trees as the batch grows (the dense form's intermediates grow with 2^depth x batch).
void check(const std::map<std::string, double>& m, const std::string& big) {
  CHECK(at(m, "d2.b" + big + ".gemm.ms") < at(m, "d2.b" + big + ".perfect_tree_traversal.ms"));
  CHECK(at(m, "d2.b" + big + ".gemm.ms") < at(m, "d2.b" + big + ".tree_traversal.ms"));
  const double deep_gemm = at(m, "d10.b" + big + ".gemm.fits") > 0 ? at(m, "d10.b" + big + ".gemm.ms") : 1e30;
  CHECK(at(m, "d10.b" + big + ".perfect_tree_traversal.ms") < deep_gemm);
  for (const char* d : {"d2", "d6", "d10"})
    CHECK(at(m, std::string(d) + ".b" + big + ".perfect_tree_traversal.ms") <=
          at(m, std::string(d) + ".b" + big + ".tree_traversal.ms"));
  CHECK(at(m, "b" + big + ".crossover_depth") <= at(m, "b1.crossover_depth"));
  CHECK(at(m, "b" + big + ".crossover_depth") > 2);
  CHECK(at(m, "heuristic.worst_over_best") >= 1);
  CHECK(at(m, "train.d4.step_over_inference") > 1.5);
}

std::string scenario() {
  return std::string(WARPSIM_SOURCE) + "/configs/experiments/windtunnel.yaml";
}

}  // namespace

TEST_CASE("windtunnel reduced: gemm for shallow trees, traversal for deep ones") {
  const auto m = testing::run_experiment(
      "windtunnel", "--set depths=[2,4,6,8,10] --set batches=[1,10000] --set training_depths=[4]");
  check(m, "10000");
  // The gemm form of depth-12 trees needs tables of 2^24 entries per tree: more than a V100.
}

TEST_CASE("windtunnel full: the shipped sweep") {
  const auto m = testing::run_experiment("windtunnel", "");
  check(m, "10000");
  CHECK(at(m, "d12.b1000.gemm.fits") == 0);
  CHECK(at(m, "d12.b1000.tree_traversal.fits") == 1);
}

TEST_CASE("windtunnel: bad ensembles exit 2 at the value, nothing written") {
  {  // in the file itself: file:line:column
    testing::TempDir d;
    const auto cfg = d.path() / "deep.yaml";
    std::string text = testing::read(scenario());
    text.replace(text.find("depths: ["), 9, "depths: [40, ");
    std::ofstream(cfg) << text;
    const auto r = testing::run_program(std::string(WARPSIM_EXE) + " run " + cfg.string() +
                                        " --quiet --out " + (d.path() / "x").string());
    CHECK(r.code == 2);
    CHECK(r.output.find("deep.yaml:") != std::string::npos);
    CHECK(r.output.find("tree depth 40") != std::string::npos);
  }
  // A --set value is named as the override it came from, with the key and list position.
  for (const auto& c : {std::pair{"depths=[4,31]", "'depths.1'"}, {"trees=0", "'trees'"},
                        {"strategies=[gemm,forest]", "'strategies.1'"}, {"batches=[0]", "'batches.0'"}}) {
    const std::string set = c.first, where = c.second;
    CAPTURE(set);
    testing::TempDir d;
    const auto r = testing::run_program(std::string(WARPSIM_EXE) + " run " + scenario() +
                                        " --quiet --set " + set + " --out " +
                                        (d.path() / "x").string());
    CHECK(r.code == 2);
    CHECK(r.output.find(where) != std::string::npos);
    CHECK(!std::filesystem::exists(d.path() / "x"));
  }
}

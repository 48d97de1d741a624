// PRETZEL (card 5 of EXPERIMENTS.md): the same classical-ML pipelines served as black boxes and
// as white-box plans. The reduced run serves a smaller zoo for a second; the shipped experiment
// runs in suite `long`. What must emerge: deduplication cuts memory and raises density, the
// object store and compiled stages cut latency and cold starts, sub-plan sharing pays when an
// input goes to several pipelines; bad pipelines are input errors at their position.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
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

void check(const std::map<std::string, double>& m) {
  CHECK(at(m, "pretzel.memory_ratio") > 3);
  CHECK(at(m, "pretzel.density_ratio") > 3);
  CHECK(at(m, "pretzel.p99_ratio") > 1);
  CHECK(at(m, "pretzel.cold_p99_ratio") > 5);
  // One copy of each dictionary leaves more of the LLC to each.
  CHECK(at(m, "white_box.llc_hit_rate") > at(m, "black_box.llc_hit_rate"));
}

const char* kReduced =
    "--set zoo.sentiment=60 --set zoo.regression=12 --set 'requests.duration=1 s' "
    "--set throughput_requests=4000";

}  // namespace

TEST_CASE("pretzel reduced: white box beats black box on memory, latency and throughput") {
  check(testing::run_experiment("pretzel", kReduced));
  // An input scored by four pipelines: their common featurizers run once in the white box
  // (without reserved cores, whose isolation costs throughput, to see the sharing alone).
  const std::string pooled = std::string(kReduced) + " --set server.reserved_cores=0";
  const auto one = testing::run_experiment("pretzel", pooled);
  const auto four = testing::run_experiment("pretzel", pooled + " --set fanout=4");
  CHECK(at(one, "pretzel.throughput_ratio") > 1);
  CHECK(at(four, "pretzel.throughput_ratio") > at(one, "pretzel.throughput_ratio"));
  CHECK(at(four, "pretzel.throughput_ratio") > 1.3);
}

TEST_CASE("pretzel: tree ensembles on the GPU, one prediction at a time, make the GPU the bottleneck") {
  const auto cpu = testing::run_experiment("pretzel", kReduced);
  const auto gpu = testing::run_experiment(
      "pretzel", std::string(kReduced) + " --set zoo.trees_on_gpu=true --set gpu=v100-sxm2 "
                                         "--set host=pytorch-xeon");
  CHECK(at(gpu, "white_box.gpu_busy") > 0.5);
  CHECK(at(cpu, "white_box.gpu_busy") == 0);
  CHECK(at(gpu, "white_box.throughput_rps") < at(cpu, "white_box.throughput_rps"));
  testing::TempDir d;
  const auto r = testing::run_program(std::string(WARPSIM_EXE) + " run " + WARPSIM_SOURCE +
                                      "/configs/experiments/pretzel.yaml --quiet --set "
                                      "zoo.trees_on_gpu=true --out " + (d.path() / "x").string());
  CHECK(r.code == 2);
  CHECK(r.output.find("needs a `gpu:`") != std::string::npos);
}

TEST_CASE("pretzel: steep popularity with fanout ends; out-of-range popularity exits 2") {
  // Nearly all the weight on one pipeline: distinct draws still end.
  const auto m = testing::run_experiment(
      "pretzel", std::string(kReduced) + " --set popularity=10 --set fanout=4");
  CHECK(at(m, "white_box.throughput_rps") > 0);
  testing::TempDir d;
  const auto r = testing::run_program(std::string(WARPSIM_EXE) + " run " + WARPSIM_SOURCE +
                                      "/configs/experiments/pretzel.yaml --quiet --set "
                                      "popularity=50 --out " + (d.path() / "x").string());
  CHECK(r.code == 2);
  CHECK(r.output.find("'popularity'") != std::string::npos);
}

TEST_CASE("pretzel full: the shipped 300 pipelines") {
  const auto m = testing::run_experiment("pretzel", "");
  check(m);
  // Two of the 16 cores reserved for the latency-critical pipelines still leave the white box
  // ahead in throughput: its per-prediction work is smaller.
  CHECK(at(m, "pretzel.throughput_ratio") > 1);
}

TEST_CASE("pretzel: pipelines written out; a cycle, an unknown operator and a negative size exit 2") {
  testing::TempDir d;
  auto run = [&](const std::string& pipelines) {
    const auto cfg = d.path() / "p.yaml";
    std::ofstream(cfg) << "experiment: pretzel\nname: p\n"
                          "requests: {arrival: poisson, rate: 100, duration: 1 s, prompt: 500}\n"
                          "throughput_requests: 100\npipelines:\n"
                       << pipelines;
    return testing::run_program(std::string(WARPSIM_EXE) + " run " + cfg.string() +
                                " --quiet --out " + (d.path() / "out").string());
  };
  const std::string good =
      "  - name: a\n    ops:\n"
      "      - {name: tok, kind: tokenize}\n"
      "      - {name: cg, kind: char_ngram, inputs: [tok], params: dict, bytes: 4 MB, entries: 100000, ngram: 3}\n"
      "      - {name: lin, kind: linear, inputs: [cg], params: a.w, bytes: 400 KB, entries: 100000}\n"
      "  - name: b\n    ops:\n"
      "      - {name: tok, kind: tokenize}\n"
      "      - {name: cg, kind: char_ngram, inputs: [tok], params: dict, bytes: 4 MB, entries: 100000, ngram: 3}\n"
      "      - {name: lin, kind: linear, inputs: [cg], params: b.w, bytes: 400 KB, entries: 100000}\n";
  const auto ok = run(good);
  CAPTURE(ok.output);
  REQUIRE(ok.code == 0);
  const auto m = sim::metrics_from_json(testing::read(d.path() / "out" / "metrics.json"), "m");
  CHECK(m.at("pretzel.memory_ratio") > 1);  // the shared dictionary is stored once
  std::filesystem::remove_all(d.path() / "out");

  const std::string cycle =
      "  - name: loop\n    ops:\n"
      "      - {name: x, kind: concat, inputs: [y]}\n"
      "      - {name: y, kind: concat, inputs: [x]}\n";
  const std::string unknown = "  - name: u\n    ops:\n      - {name: x, kind: tokenise}\n";
  const std::string negative =
      "  - name: n\n    ops:\n      - {name: x, kind: linear, params: w, bytes: -4 MB}\n";
  for (const auto& c : {std::pair{cycle, "cycle"}, {unknown, "did you mean 'tokenize'"},
                        {negative, "p.yaml:"}}) {
    const std::string& text = c.first;
    const std::string message = c.second;
    CAPTURE(text);
    const auto r = run(text);
    CHECK(r.code == 2);
    CHECK(r.output.find("p.yaml:") != std::string::npos);
    CHECK(r.output.find(message) != std::string::npos);
    CHECK(!std::filesystem::exists(d.path() / "out"));
  }
}

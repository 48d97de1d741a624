// End-to-end tests of `warpsim check`, the regression gate: exit 0 / 4 / 2 and its table.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"

using testing::TempDir;
using testing::warpsim;

namespace {

const std::string kBaseline = R"({
  "serve.latency_ms": 10.0,
  "serve.throughput": 200,
  "train.step_ms": 50,
  "zero": 0
})";

// A run's metrics: the baseline's, with these serving figures and any `more` members.
std::string run_with(const std::string& latency_ms, const std::string& throughput,
                     const std::string& more = "") {
  return R"({"serve.latency_ms": )" + latency_ms + R"(, "serve.throughput": )" + throughput +
         R"(, "train.step_ms": 50, "zero": 0)" + more + "}";
}

}  // namespace

TEST_CASE("check: exits 0 within tolerance, 4 on a regression, and shows what moved") {
  TempDir d;
  const auto base = d.write("base.json", kBaseline).string();
  const auto same = d.write("same.json", kBaseline).string();
  const auto within = d.write("within.json", run_with("10.1", "200")).string();
  const auto moved = d.write("moved.json", run_with("10.0", "180", R"(, "extra": 1)")).string();

  auto r = warpsim("check " + base + " " + same);
  CHECK(r.code == 0);
  CHECK(r.output.find("4 metrics compared at tolerance 2%: all within") != std::string::npos);

  r = warpsim("check " + base + " " + within);  // +1% against the default 2%
  CHECK(r.code == 0);
  CHECK(r.output.find("serve.latency_ms") != std::string::npos);
  CHECK(r.output.find("+1%") != std::string::npos);
  CHECK(warpsim("check " + base + " " + within + " --tolerance 0.5%").code == 4);
  // A bare 5 would be 500%: refused, with the fix in the message.
  const auto bare = warpsim("check " + base + " " + within + " --tolerance 5");
  CHECK(bare.code == 2);
  CHECK(bare.output.find("write '5%' for a percentage") != std::string::npos);
  CHECK(warpsim("check " + base + " " + within + " --tolerance 0.02").code == 0);

  r = warpsim("check " + base + " " + moved);
  CAPTURE(r.output);
  CHECK(r.code == 4);
  CHECK(r.output.find("serve.throughput") != std::string::npos);
  CHECK(r.output.find("-10%") != std::string::npos);
  CHECK(r.output.find("MOVED") != std::string::npos);
  CHECK(r.output.find("extra") != std::string::npos);  // a new metric is listed, not a failure
  CHECK(r.output.find("1 REGRESSED") != std::string::npos);

  // --keys narrows the gate to the metrics a policy owns.
  CHECK(warpsim("check " + base + " " + moved + " --keys 'serve.lat*' --keys 'train.*'").code == 0);
  CHECK(warpsim("check " + base + " " + moved + " --keys 'serve.*'").code == 4);
}

TEST_CASE("check: a metric with a better side fails only when it moves the other way") {
  TempDir d;
  const auto base = d.write("base.json", kBaseline).string();
  const auto faster = d.write("faster.json", run_with("8.0", "240")).string();
  const auto slower = d.write("slower.json", run_with("12.0", "160")).string();
  const std::string better = " --lower-is-better '*_ms' --higher-is-better '*.throughput'";
  CHECK(warpsim("check " + base + " " + faster).code == 4);  // no direction: a move is a move
  auto r = warpsim("check " + base + " " + faster + better);
  CAPTURE(r.output);
  CHECK(r.code == 0);
  CHECK(r.output.find("improved") != std::string::npos);
  CHECK(r.output.find("none regressed, 2 improved") != std::string::npos);
  r = warpsim("check " + base + " " + slower + better);
  CHECK(r.code == 4);
  CHECK(r.output.find("2 REGRESSED") != std::string::npos);
  // Only one side of a metric is better.
  r = warpsim("check " + base + " " + faster + " --lower-is-better '*_ms' --higher-is-better '*_ms'");
  CHECK(r.code == 2);
  CHECK(r.output.find("one better side") != std::string::npos);
}

TEST_CASE("check: a missing metric or a zero that moved is a regression") {
  TempDir d;
  const auto base = d.write("base.json", kBaseline).string();
  auto r = warpsim("check " + base + " " +
                   d.write("m.json", R"({"serve.latency_ms": 10.0, "serve.throughput": 200,
                                         "zero": 0})").string());
  CHECK(r.code == 4);
  CHECK(r.output.find("MISSING") != std::string::npos);
  r = warpsim("check " + base + " " +
              d.write("z.json", R"({"serve.latency_ms": 10.0, "serve.throughput": 200,
                                    "train.step_ms": 50, "zero": 0.001})").string());
  CHECK(r.code == 4);
  CHECK(r.output.find("from 0") != std::string::npos);
}

TEST_CASE("check: bad input exits 2") {
  TempDir d;
  const auto base = d.write("base.json", kBaseline).string();
  auto r = warpsim("check " + base + " " + d.write("bad.json", "{\"a\": 1,").string());
  CHECK(r.code == 2);
  CHECK(r.output.find("bad.json: invalid JSON") != std::string::npos);
  r = warpsim("check " + base + " " + d.write("str.json", R"({"a": "x"})").string());
  CHECK(r.code == 2);
  CHECK(r.output.find("metric 'a' is not a number") != std::string::npos);
  r = warpsim("check " + base + " " + (d.path() / "none.json").string());
  CHECK(r.code == 2);
  CHECK(r.output.find("none.json: cannot open") != std::string::npos);
  r = warpsim("check " + base + " " + base + " --tolerance lots");
  CHECK(r.code == 2);
  CHECK(r.output.find("--tolerance") != std::string::npos);
  r = warpsim("check " + base + " " + base + " --keys 'nothing.*'");
  CHECK(r.code == 2);
  CHECK(r.output.find("no baseline metric matches") != std::string::npos);
}

namespace {

// The CI script of docs/regression-gate.md, as the page shows it (the sh block after the
// "gate-script" marker, its indentation removed).
std::string documented_gate_script() {
  std::ifstream in(std::string(WARPSIM_SOURCE) + "/docs/regression-gate.md");
  std::string line, script;
  bool marker = false, inside = false;
  while (std::getline(in, line)) {
    const auto text = line.substr(std::min(line.find_first_not_of(' '), line.size()));
    if (text == "<!-- gate-script -->") marker = true;
    else if (marker && !inside && text == "```sh") inside = true;
    else if (inside && text == "```") break;
    else if (inside) script += text + "\n";
  }
  return script;
}

}  // namespace

TEST_CASE("the documented sweep gate under plain sh: 0, 4 for one regressed point, 2 for a new one") {
  const std::string script = documented_gate_script();
  REQUIRE(script.find("warpsim check ci/baseline out/sweep") != std::string::npos);
  TempDir d;
  d.write("gate.sh", script);
  // `warpsim` on PATH is the build's; the sweep varies the policy and the GPU, one of which is
  // a GPU file the test edits to regress that point alone.
  const std::filesystem::path bin = d.path() / "bin";
  std::filesystem::create_directories(bin);
  std::filesystem::create_symlink(WARPSIM_EXE, bin / "warpsim");
  const std::string gpu = (d.path() / "ci" / "mygpu.yaml").string();
  std::ifstream h100(std::string(WARPSIM_SOURCE) + "/configs/gpus/h100-sxm.yaml");
  std::stringstream gpu_text;
  gpu_text << h100.rdbuf();
  d.write("ci/mygpu.yaml", gpu_text.str());
  auto sweep_file = [&](const std::string& policies) {
    d.write("ci/sweep.yaml", "name: gate\nscenario: " + std::string(WARPSIM_SOURCE) +
                                 "/configs/experiments/quickstart.yaml\naxes:\n  - grid:\n"
                                 "      policy: [" + policies + "]\n      gpu: [h100-sxm, " +
                                 gpu + "]\n");
  };
  auto run = [&](const std::string& what) {
    return testing::run_program("cd " + d.path().string() + " && PATH=" + bin.string() +
                                ":$PATH " + what);
  };
  sweep_file("eager, nimble");
  REQUIRE(run("warpsim sweep ci/sweep.yaml --jobs 2 --out ci/baseline").code == 0);

  auto r = run("sh gate.sh");  // nothing changed
  CAPTURE(r.output);
  CHECK(r.code == 0);
  CHECK(r.output.find("4 points compared at tolerance 1%: all within") != std::string::npos);

  // One point regresses: the GPU file's point loses SMs; the other three stay.
  std::string fewer = gpu_text.str();
  const auto at = fewer.find("sm_count: 132");
  REQUIRE(at != std::string::npos);
  fewer.replace(at, 13, "sm_count: 100");
  d.write("ci/mygpu.yaml", fewer);
  r = run("sh gate.sh");
  CAPTURE(r.output);
  CHECK(r.code == 4);
  CHECK(r.output.find("1 REGRESSED") != std::string::npos);
  CHECK(r.output.find("policy=nimble gpu=" + gpu) != std::string::npos);
  CHECK(r.output.find("policy=eager gpu=h100-sxm\n") == std::string::npos);

  // The sweep file gained a point: it is missing from the baseline, named by its axes.
  d.write("ci/mygpu.yaml", gpu_text.str());
  sweep_file("eager, nimble, graph");
  r = run("sh gate.sh");
  CAPTURE(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("MISSING point policy=graph gpu=h100-sxm: not in the baseline") !=
        std::string::npos);

  // A sweep against a plain metrics file is bad input.
  r = warpsim("check " + (d.path() / "ci" / "baseline").string() + " " +
              (d.path() / "ci" / "baseline" / "points").string());
  CHECK(r.code == 2);
}

// A model of one's own: `warpsim graph export` writes a zoo model as an op-graph file, and every
// place that takes a zoo name takes the file (docs/op-graph-format.md, "Your own model").
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

testing::ProgramResult warpsim(const std::string& args) {
  return testing::run_program(std::string(WARPSIM_EXE) + " " + args);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string experiment(const std::string& name) {
  return std::string(WARPSIM_SOURCE) + "/configs/experiments/" + name + ".yaml";
}

// The same point from a zoo name and from a graph file: byte-identical metrics.
void same_metrics(const std::string& scenario, const std::string& sets, const fs::path& file,
                  const std::string& zoo_name, const fs::path& dir) {
  const auto a = warpsim("run " + experiment(scenario) + " --point --quiet " + sets +
                         " --set model=" + zoo_name + " --out " + (dir / "zoo").string());
  const auto b = warpsim("run " + experiment(scenario) + " --point --quiet " + sets +
                         " --set model=" + file.string() + " --out " + (dir / "file").string());
  CAPTURE(a.output);
  CAPTURE(b.output);
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  CHECK(slurp(dir / "zoo" / "metrics.json") == slurp(dir / "file" / "metrics.json"));
}

}  // namespace

TEST_CASE("graph export: every zoo model reads back as the graph it was written from") {
  testing::TempDir d;
  for (const char* m : {"resnet50", "resnet101", "inception_v3", "nasnet_a_mobile",
                        "nasnet_a_large", "mobilenet_v2", "efficientnet_b0", "efficientnet_b5",
                        "vgg16", "bert_large", "lenet", "caffenet", "resnet18", "googlenet",
                        "squeezenet"}) {
    CAPTURE(m);
    const auto yaml = warpsim(std::string("graph export --model ") + m);
    REQUIRE(yaml.code == 0);
    for (const char* ext : {".yaml", ".json"}) {
      const fs::path f = d.path() / (std::string(m) + ext);
      REQUIRE(warpsim(std::string("graph export --model ") + m + " --out " + f.string()).code == 0);
      // Read back (the file as the model) and written again: the same text.
      const auto again = warpsim("graph export --model " + f.string());
      REQUIRE(again.code == 0);
      CHECK(again.output == yaml.output);
    }
  }
}

TEST_CASE("a graph file runs wherever a zoo model does, with identical metrics") {
  testing::TempDir d;
  const fs::path r50 = d.path() / "r50.yaml", cifar = d.path() / "r50-cifar.json",
                 vgg = d.path() / "vgg16-fp16.yaml";
  REQUIRE(warpsim("graph export -m resnet50 -b 1 --out " + r50.string()).code == 0);
  REQUIRE(warpsim("graph export -m resnet50 -b 32 --image-size 32 --classes 10 --out " +
                  cifar.string()).code == 0);
  REQUIRE(warpsim("graph export -m vgg16 -b 32 --dtype fp16 --out " + vgg.string()).code == 0);
  {  // inference (Nimble's point)
    testing::TempDir t;
    same_metrics("nimble", "", r50, "resnet50", t.path());
  }
  {  // a training step appended to the forward file, as to the zoo's graph
    testing::TempDir t;
    same_metrics("nimble",
                 "--set phase=training --set batch=32 --set image_size=32 --set num_classes=10",
                 cifar, "resnet50", t.path());
  }
  {  // data-parallel training (DDP over dgx-h100)
    testing::TempDir t;
    same_metrics("innetwork_allreduce", "", vgg, "vgg16", t.path());
  }
  {  // in a sweep, as an axis value
    testing::TempDir t;
    const fs::path sweep = t.path() / "own.yaml";
    std::ofstream(sweep) << "name: own\nscenario: " << experiment("nimble")
                         << "\naxes:\n  - grid:\n      model: [resnet50, " << r50.string() << "]\n";
    const auto r = warpsim("sweep " + sweep.string() + " --jobs 1 --out " +
                           (t.path() / "out").string());
    CAPTURE(r.output);
    CHECK(r.code == 0);
  }
  // Bad input: a missing file, a batch the file is not written for, both one line, exit 2.
  auto r = warpsim("run " + experiment("nimble") + " --point --set model=" +
                   (d.path() / "nope.yaml").string());
  CHECK(r.code == 2);
  CHECK(r.output.find("no such graph file") != std::string::npos);
  r = warpsim("run " + experiment("nimble") + " --point --set batch=8 --set model=" + r50.string());
  CHECK(r.code == 2);
  CHECK(r.output.find("written for batch 1") != std::string::npos);
  r = warpsim("graph export --model resnet5");
  CHECK(r.code == 2);
  CHECK(r.output.find("did you mean 'resnet50'") != std::string::npos);
}

// warpsim's timeline is a Kineto trace: a user's model, exported and edited, runs from its file
// with a timeline, and `replay` / `validate` read that timeline as they read a profiler's.
TEST_CASE("a graph file's run replays and validates from its own timeline") {
  testing::TempDir d;
  const fs::path f = d.path() / "mine.yaml", tl = d.path() / "mine.timeline.json";
  REQUIRE(warpsim("graph export -m resnet18 -b 1 --out " + f.string()).code == 0);
  {  // the user's edit: their own name for it
    std::string text = slurp(f);
    const auto at = text.find("name: resnet18");
    REQUIRE(at != std::string::npos);
    text.replace(at, 14, "name: my_net");
    std::ofstream(f) << text;
  }
  auto r = warpsim("run " + experiment("nimble") + " --point --quiet --set policy=eager --set model=" +
                   f.string() + " --out " + (d.path() / "run").string() + " --timeline " +
                   tl.string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  // Every kernel is linked to its launch (correlation ids), so the replay needs no guesses,
  // and replayed with the times it records the run comes back as it was.
  r = warpsim("replay " + tl.string() + " --gpu v100-sxm2");
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("without a launch") == std::string::npos);
  CHECK(r.output.find("traced on v100-sxm2") != std::string::npos);
  CHECK(r.output.find("+0.0%") != std::string::npos);
  // Each kernel carries the work the model priced it from: validate predicts all of them,
  // here on another GPU than the one it ran on.
  r = warpsim("validate " + tl.string() + " --gpu a100-sxm4-40gb --cost roofline --out " +
              (d.path() / "val").string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("68 of 68 ops predicted from their work") != std::string::npos);
}

TEST_CASE("graph trees: a tree ensemble's tensor program as a file; bad ensembles exit 2") {
  testing::TempDir d;
  const fs::path file = d.path() / "forest.json";
  const auto r = warpsim("graph trees --trees 20 --depth 5 --features 10 --strategy "
                         "tree_traversal --batch 64 --out " + file.string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  const std::string text = slurp(file);
  CHECK(text.find("\"gather\"") != std::string::npos);
  CHECK(text.find("\"int64\"") != std::string::npos);
  // The heuristic picks the perfect-tree form at depth 5; training needs the gemm form.
  CHECK(warpsim("graph trees --depth 5").output.find("perfect_tree_traversal") != std::string::npos);
  CHECK(warpsim("graph trees --depth 31").code == 2);
  CHECK(warpsim("graph trees --trees 0").code == 2);
  CHECK(warpsim("graph trees --strategy tree_traversal --training").code == 2);
  CHECK(warpsim("graph trees --depth 6 --training").code == 0);  // the heuristic gives way to gemm
  CHECK(warpsim("graph trees --depth 28 --strategy gemm").code == 2);  // its path matrix: 2^56 x 500
  CHECK(warpsim("graph trees --dtype int64").code == 2);
  CHECK(!fs::exists(d.path() / "nothing.json"));
}

// The Nimble reproduction at a reduced size: the qualitative results card 1 says must emerge.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <map>
#include <string>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"
#include "sim/stats.hpp"

namespace {

std::map<std::string, double> run_reduced() {
  testing::TempDir d;
  const std::string cmd =
      std::string(WARPSIM_EXE) + " run " + WARPSIM_SOURCE +
      "/configs/experiments/nimble.yaml --quiet --out " + (d.path() / "n").string() +
      " --set 'inference.models=[resnet50, inception_v3, nasnet_a_mobile, mobilenet_v2]'"
      " --set 'training.models=[mobilenet_v2]' --set 'training.batches=[32, 128]'";
  const auto r = testing::run_program(cmd);
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  return sim::metrics_from_json(testing::read(d.path() / "n" / "metrics.json"), "metrics.json");
}

}  // namespace

TEST_CASE("nimble: the orderings of card 1 emerge") {
  const auto m = run_reduced();
  auto speedup = [&](const std::string& model) {
    return m.at("inference." + model + ".nimble.speedup_vs_eager");
  };
  auto ms_gain = [&](const std::string& model) {
    return m.at("inference." + model + ".multistream_gain");
  };
  // Every model gains from removing per-op host work.
  for (const char* model : {"resnet50", "inception_v3", "nasnet_a_mobile", "mobilenet_v2"}) {
    CAPTURE(model);
    CHECK(speedup(model) > 1.5);
  }
  // NASNet-A mobile gains the most.
  CHECK(speedup("nasnet_a_mobile") > speedup("resnet50"));
  CHECK(speedup("nasnet_a_mobile") > speedup("inception_v3"));
  CHECK(speedup("nasnet_a_mobile") > speedup("mobilenet_v2"));
  // ResNet's gain is almost all host overhead: multi-stream adds little on top of the graph.
  CHECK(ms_gain("resnet50") < 1.1);
  // Multi-stream matters for the branchy cells of NASNet and Inception.
  CHECK(ms_gain("nasnet_a_mobile") > ms_gain("resnet50"));
  CHECK(ms_gain("inception_v3") > ms_gain("resnet50"));
  // Training gains shrink as the batch grows.
  CHECK(m.at("training.mobilenet_v2.bs32.nimble.speedup_vs_eager") >
        m.at("training.mobilenet_v2.bs128.nimble.speedup_vs_eager"));
}

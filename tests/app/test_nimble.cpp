// The Nimble reproduction at a reduced size: the qualitative results card 1 says must emerge.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <map>
#include <string>

#include "../support/run_experiment.hpp"
#include "../support/temp_dir.hpp"
#include "sim/stats.hpp"

namespace {

std::map<std::string, double> run_nimble(const std::string& overrides) {
  return testing::run_experiment("nimble", overrides);
}

std::map<std::string, double> run_reduced() {
  return run_nimble(
      "--set 'model=[resnet50, inception_v3, nasnet_a_mobile, mobilenet_v2]'"
      " --set 'nimble-training/model=[mobilenet_v2]' --set 'batch=[32, 128]'");
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

// Suite `long`: the whole experiment as shipped (8 models, 9 training steps).
TEST_CASE("nimble full: NASNet-A mobile gains most of all eight; training gains shrink") {
  const auto m = run_nimble("");
  const char* models[] = {"resnet50",       "resnet101",       "inception_v3",
                          "nasnet_a_mobile", "nasnet_a_large",  "mobilenet_v2",
                          "efficientnet_b0", "efficientnet_b5"};
  const double nasnet = m.at("inference.nasnet_a_mobile.nimble.speedup_vs_eager");
  for (const char* model : models) {
    CAPTURE(model);
    CHECK(m.at(std::string("inference.") + model + ".nimble.speedup_vs_eager") > 1.0);
    CHECK(m.at(std::string("inference.") + model + ".nimble.speedup_vs_eager") <= nasnet);
  }
  for (const char* model : {"resnet50", "resnet101"})
    CHECK(m.at(std::string("inference.") + model + ".multistream_gain") < 1.1);
  for (const char* model : {"mobilenet_v2", "efficientnet_b0", "resnet50"}) {
    CAPTURE(model);
    const std::string k = std::string("training.") + model;
    CHECK(m.at(k + ".bs32.nimble.speedup_vs_eager") > m.at(k + ".bs64.nimble.speedup_vs_eager"));
    CHECK(m.at(k + ".bs64.nimble.speedup_vs_eager") > m.at(k + ".bs128.nimble.speedup_vs_eager"));
  }
}

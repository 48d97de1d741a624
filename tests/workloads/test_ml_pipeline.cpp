// Classical-ML pipelines (workloads/ml_pipeline.hpp): the generated PRETZEL zoo, its sharing of
// featurizer dictionaries, determinism, and the dependency order's cycle check.
#include <doctest/doctest.h>

#include <set>

#include "sim/error.hpp"
#include "workloads/ml_pipeline.hpp"

using namespace workloads;

TEST_CASE("the PRETZEL zoo: 250 sentiment + 50 regression, dictionaries shared, weights not") {
  sim::RngStream rng(1, "zoo");
  const auto zoo = make_pipeline_zoo({}, rng);
  REQUIRE(zoo.size() == 300);
  std::set<std::string> dicts, weights;
  for (int i = 0; i < 250; ++i) {
    const Pipeline& p = zoo[static_cast<std::size_t>(i)];
    REQUIRE(p.ops.size() == 5);
    CHECK(pipeline_order(p).front() == 0);  // tokenize first
    dicts.insert(p.ops[1].params);
    dicts.insert(p.ops[2].params);
    weights.insert(p.ops[4].params);
  }
  CHECK(dicts.size() <= 16);      // 8 char + 8 word dictionaries at most
  CHECK(weights.size() == 250);   // every model its own
  CHECK(zoo[0].latency_critical);
  CHECK(!zoo[10].latency_critical);
  sim::RngStream again(1, "zoo");
  const auto zoo2 = make_pipeline_zoo({}, again);
  for (std::size_t i = 0; i < zoo.size(); ++i) CHECK(zoo[i].parameter_bytes() == zoo2[i].parameter_bytes());
}

TEST_CASE("pipeline order: inputs first; a cycle or a bad input index is an input error") {
  auto op = [](std::string name, std::vector<int> inputs) {
    PipelineOp o;
    o.name = std::move(name);
    o.inputs = std::move(inputs);
    return o;
  };
  Pipeline p{"p", {op("a", {2}), op("b", {}), op("c", {1})}, false};
  CHECK(pipeline_order(p) == std::vector<int>{1, 2, 0});
  p.ops[1].inputs = {0};
  CHECK_THROWS_WITH_AS(pipeline_order(p), doctest::Contains("cycle"), sim::InputError);
  p.ops[1].inputs = {7};
  CHECK_THROWS_AS(pipeline_order(p), sim::InputError);
}

TEST_CASE("zipf draws favour the first items") {
  sim::RngStream rng(3, "z");
  const ZipfSampler zipf(100), uniform(100, 0), steep(300, 10);
  int first = 0, last = 0;
  for (int i = 0; i < 10000; ++i) {
    const int k = zipf.draw(rng);
    first += k == 0;
    last += k == 99;
  }
  CHECK(first > 20 * std::max(1, last));
  int uniform_first = 0;
  for (int i = 0; i < 10000; ++i) uniform_first += uniform.draw(rng) == 0;
  CHECK(uniform_first < 200);
  // Distinct draws end even where almost all the weight is on the first item.
  const std::vector<int> d = steep.draw_distinct(rng, 64);
  CHECK(std::set<int>(d.begin(), d.end()).size() == 64);
}

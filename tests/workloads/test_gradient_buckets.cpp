#include <doctest/doctest.h>

#include "sim/error.hpp"
#include "workloads/gradient_buckets.hpp"
#include "workloads/model_zoo.hpp"

using namespace workloads;

TEST_CASE("DDP buckets: every gradient once, in reverse order, within the caps") {
  const OpGraph g = make_model("resnet50", {.batch = 2, .training = true});
  const std::int64_t cap = 25 << 20;
  const auto buckets = gradient_buckets(g, cap);
  REQUIRE(buckets.size() >= 2);
  std::int64_t total = 0;
  std::size_t grads = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const auto& b = buckets[i];
    total += b.bytes;
    grads += b.gradients.size();
    const std::int64_t limit = i == 0 ? (1 << 20) : cap;
    CHECK((b.bytes <= limit || b.gradients.size() == 1));  // a larger tensor goes alone
    CHECK_FALSE(b.producers.empty());
    for (OpId p : b.producers) CHECK(g.op(p).phase == Phase::backward);
  }
  CHECK(total == g.parameter_bytes());  // gradients have their parameters' dtype
  CHECK(grads == 161);                  // ResNet-50's parameter tensors
  // Reverse registration order: the classifier's gradients come first.
  CHECK(g.tensor(buckets.front().gradients.front()).name.find("fc") != std::string::npos);
  CHECK_THROWS_AS(gradient_buckets(make_model("resnet50"), cap), sim::InputError);  // inference
  CHECK_THROWS_AS(gradient_buckets(g, 0), sim::InputError);
}

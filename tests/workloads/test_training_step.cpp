#include <doctest/doctest.h>

#include <map>
#include <string>

#include "sim/error.hpp"
#include "workloads/graph_builder.hpp"
#include "workloads/model_zoo.hpp"
#include "workloads/training_step.hpp"

using namespace workloads;

namespace {

std::size_t count(const OpGraph& g, OpKind k, Pass p) {
  std::size_t n = 0;
  for (const Op& o : g.ops()) n += o.kind == k && o.pass == p;
  return n;
}

std::size_t count_phase(const OpGraph& g, Phase p) {
  std::size_t n = 0;
  for (const Op& o : g.ops()) n += o.phase == p;
  return n;
}

const ModelOptions kCifar{.batch = 4, .image_size = 32, .num_classes = 10, .training = true};

}  // namespace

TEST_CASE("training steps of the Nimble training models are valid DAGs") {
  for (const char* name : {"resnet50", "mobilenet_v2", "efficientnet_b0"}) {
    CAPTURE(name);
    const OpGraph fwd = make_model(name, {.batch = 4, .image_size = 32, .num_classes = 10});
    const OpGraph g = make_model(name, kCifar);
    CHECK_NOTHROW(g.validate());
    CHECK(g.topological_order().size() == g.op_count());
    CHECK(g.parameter_count() == fwd.parameter_count());
    // Forward ops plus the loss; roughly as many backward ops; one update per parameter tensor.
    std::size_t param_tensors = 0;
    for (const Tensor& t : fwd.tensors()) param_tensors += t.parameter;
    CHECK(count_phase(g, Phase::forward) == fwd.op_count() + 2);
    CHECK(count_phase(g, Phase::optimizer) == param_tensors);
    const double ratio =
        static_cast<double>(count_phase(g, Phase::backward)) / static_cast<double>(fwd.op_count());
    CHECK(ratio > 0.8);
    CHECK(ratio < 2.0);
    const double total = static_cast<double>(g.op_count()) / static_cast<double>(fwd.op_count());
    CHECK(total > 2.0);
    CHECK(total < 4.5);
    // Backward arithmetic is about twice the forward's (data and weight gradients).
    std::int64_t f = 0, b = 0;
    for (OpId i = 0; i < static_cast<OpId>(g.op_count()); ++i)
      (g.op(i).phase == Phase::forward ? f : b) += g.flops(i);
    CHECK(static_cast<double>(b) / static_cast<double>(f) > 1.7);
    CHECK(static_cast<double>(b) / static_cast<double>(f) < 2.3);
  }
}

TEST_CASE("every zoo model has a valid training step at its default size") {
  for (const std::string& name : model_names()) {
    CAPTURE(name);
    const OpGraph g = make_model(name, {.training = true});
    CHECK_NOTHROW(g.validate());
    // Data and weight gradients: twice the forward arithmetic -- for the deep ImageNet nets;
    // in LeNet and SqueezeNet the skipped data gradient of the first conv and the cheap
    // element-wise backward ops move the ratio away from 2.
    std::int64_t f = 0, b = 0;
    for (OpId i = 0; i < static_cast<OpId>(g.op_count()); ++i)
      (g.op(i).phase == Phase::forward ? f : b) += g.flops(i);
    const double lo = name == "lenet" || name == "squeezenet" ? 1.7 : 1.9;
    const double hi = name == "lenet" || name == "squeezenet" ? 2.3 : 2.1;
    CHECK(static_cast<double>(b) / static_cast<double>(f) > lo);
    CHECK(static_cast<double>(b) / static_cast<double>(f) < hi);
  }
}

TEST_CASE(
    "ResNet-50 training: every conv has a weight gradient, all but the first a data gradient") {
  const OpGraph g = make_model("resnet50", kCifar);
  CHECK(count(g, OpKind::conv, Pass::fprop) == 53);
  CHECK(count(g, OpKind::conv, Pass::wgrad) == 53);
  CHECK(count(g, OpKind::conv, Pass::dgrad) == 52);
  CHECK(count(g, OpKind::gemm, Pass::dgrad) == 1);
  CHECK(count(g, OpKind::gemm, Pass::wgrad) == 1);
  CHECK(count(g, OpKind::batch_norm, Pass::dgrad) == 53);
  CHECK(count(g, OpKind::pool_max, Pass::dgrad) == 1);
  // Gradients flow into each block input from the block and its shortcut: summed once per block.
  std::size_t sums = 0;
  for (const Op& o : g.ops()) sums += o.name.find(".grad_sum") != std::string::npos;
  CHECK(sums == 16);

  // The weight gradient of the stem conv has the weight's shape and the conv's FLOPs.
  const Op& stem = g.op(*g.find_op("stem.conv"));
  const Op& wgrad = g.op(*g.find_op("stem.conv.wgrad"));
  CHECK(g.tensor(wgrad.outputs[0]).shape == g.tensor(stem.inputs[1]).shape);
  CHECK(g.flops(*g.find_op("stem.conv.wgrad")) == g.flops(*g.find_op("stem.conv")));
  CHECK_FALSE(g.find_op("stem.conv.dgrad"));  // the image needs no gradient

  // Every parameter is updated once, after its gradient exists.
  std::map<TensorId, int> updates;
  for (const Op& o : g.ops())
    if (o.kind == OpKind::optimizer_update) {
      CHECK(o.phase == Phase::optimizer);
      ++updates[o.inputs[0]];
      CHECK(g.producer(o.inputs[1]) >= 0);
    }
  for (TensorId t = 0; t < static_cast<TensorId>(g.tensor_count()); ++t)
    if (g.tensor(t).parameter) CHECK(updates[t] == 1);
}

TEST_CASE("optimizer variants") {
  SUBCASE("fused: one multi-tensor update") {
    OpGraph g = make_model("mobilenet_v2", {.batch = 2, .image_size = 32, .num_classes = 10});
    const auto params = g.parameter_count();
    const TensorId logits = *g.find_tensor("classifier.fc");
    append_training_step(g, logits, {.optimizer = "adam", .fused_optimizer = true});
    CHECK_NOTHROW(g.validate());
    CHECK(g.count_ops(OpKind::optimizer_update) == 1);
    const OpId upd = *g.find_op("optimizer.update");
    CHECK(g.op(upd).function == "adam");
    CHECK(g.flops(upd) == 12 * params);
    // Adam reads param, grad and two moments, writes param and moments.
    CHECK(g.bytes_read(upd) == 4 * 4 * params);
    CHECK(g.bytes_written(upd) == 3 * 4 * params);
  }
  SUBCASE("unknown optimizer") {
    OpGraph g = make_model("mobilenet_v2", {.image_size = 32});
    CHECK_THROWS_WITH_AS(
        append_training_step(g, *g.find_tensor("classifier.fc"), {.optimizer = "adan"}),
        doctest::Contains("did you mean 'adam'?"), sim::InputError);
  }
  SUBCASE("a graph that already trains is refused") {
    OpGraph g = make_model("mobilenet_v2", {.image_size = 32, .training = true});
    CHECK_THROWS_AS(append_training_step(g, *g.find_tensor("classifier.fc")), sim::InputError);
  }
}

TEST_CASE("gemm gradients use transposes, not transpose kernels") {
  GraphBuilder b("mlp", DType::fp32);
  TensorId x = b.input("x", {8, 32});
  x = b.activation(b.linear(x, 64), "relu");
  const TensorId logits = b.linear(x, 10);
  OpGraph g = std::move(b.graph());
  append_training_step(g, logits);
  CHECK_NOTHROW(g.validate());
  const Op& dgrad = g.op(*g.find_op("fc_1.dgrad"));  // dX = dY W
  CHECK_FALSE(dgrad.transpose_a);
  CHECK_FALSE(dgrad.transpose_b);
  const Op& wgrad = g.op(*g.find_op("fc_1.wgrad"));  // dW = dY^T X
  CHECK(wgrad.transpose_a);
  CHECK(g.tensor(wgrad.outputs[0]).shape == std::vector<std::int64_t>{10, 64});
  CHECK(g.find_op("fc_1.bgrad"));
  CHECK_FALSE(g.find_op("fc.dgrad"));  // x is an input: no gradient needed
}

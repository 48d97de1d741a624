#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "sim/error.hpp"
#include "workloads/model_zoo.hpp"

using namespace workloads;

namespace {

struct Published {
  const char* model;
  double params;                       // the paper's figure
  std::int64_t reference;              // the reference implementation's exact count
  double macs;                         // published multiply-adds at the default input size
  std::vector<std::int64_t> features;  // the last feature map [C, H, W] before pooling
};

// Parameter counts: ResNet, Inception-v3 (without the auxiliary classifier: 23.83 M; 27.16 M
// with it), MobileNetV2 and EfficientNet are torchvision's; NASNet-A is Keras applications'
// trainable count (its 5.33 M / 88.95 M totals add the batch-norm moving statistics).
const Published kPublished[] = {
    {"resnet50", 25.557e6, 25'557'032, 4.1e9, {2048, 7, 7}},
    {"resnet101", 44.549e6, 44'549'160, 7.8e9, {2048, 7, 7}},
    {"inception_v3", 23.83e6, 23'834'568, 5.7e9, {2048, 8, 8}},
    {"nasnet_a_mobile", 5.3e6, 5'289'978, 564e6, {1056, 7, 7}},
    {"nasnet_a_large", 88.9e6, 88'753'150, 23.8e9, {4032, 11, 11}},
    {"mobilenet_v2", 3.50e6, 3'504'872, 300e6, {1280, 7, 7}},
    {"efficientnet_b0", 5.29e6, 5'288'548, 0.39e9, {1280, 7, 7}},
    {"efficientnet_b5", 30.4e6, 30'389'784, 9.9e9, {2048, 15, 15}},
};

std::int64_t macs(const OpGraph& g) {
  std::int64_t f = 0;
  for (OpId i = 0; i < static_cast<OpId>(g.op_count()); ++i) {
    const OpKind k = g.op(i).kind;
    if (k == OpKind::conv || k == OpKind::depthwise_conv || k == OpKind::gemm) f += g.flops(i);
  }
  return f / 2;
}

// The input of the global pool that feeds the classifier.
std::vector<std::int64_t> final_features(const OpGraph& g) {
  auto id = g.find_op("head.gap");
  if (!id) id = g.find_op("classifier.gap");
  REQUIRE(id);
  const Op& gap = g.op(*id);
  return g.tensor(gap.inputs[0]).shape;
}

TensorId logits_of(const OpGraph& g) {
  // The classifier's output: the one tensor of an inference graph nobody reads.
  TensorId out = -1;
  for (TensorId t = 0; t < static_cast<TensorId>(g.tensor_count()); ++t)
    if (g.producer(t) >= 0 && g.consumers(t).empty()) {
      REQUIRE(out == -1);
      out = t;
    }
  return out;
}

}  // namespace

TEST_CASE("model_names lists the eight Nimble models, VGG-16, two transformers, the Caffe models") {
  CHECK(model_names() == std::vector<std::string>{"resnet50", "resnet101", "inception_v3",
                                                  "nasnet_a_mobile", "nasnet_a_large",
                                                  "mobilenet_v2", "efficientnet_b0",
                                                  "efficientnet_b5", "vgg16", "bert_large",
                                                  "gpt2_xl", "lenet", "caffenet", "resnet18",
                                                  "googlenet", "squeezenet"});
  CHECK(default_image_size("inception_v3") == 299);
  CHECK(default_image_size("nasnet_a_large") == 331);
  CHECK(default_image_size("efficientnet_b5") == 456);
  CHECK(default_image_size("resnet50") == 224);
}

TEST_CASE("parameter counts, multiply-adds and feature maps match the published architectures") {
  for (const Published& p : kPublished) {
    CAPTURE(p.model);
    const OpGraph g = make_model(p.model);
    CHECK_NOTHROW(g.validate());
    const auto params = static_cast<double>(g.parameter_count());
    CHECK(std::abs(params - p.params) / p.params < 0.01);
    CHECK(g.parameter_count() == p.reference);
    // Multiply-adds pin down the layer shapes, not just the weights: within 5% (the papers
    // round, and count slightly different sets of ops).
    CHECK(std::abs(static_cast<double>(macs(g)) - p.macs) / p.macs < 0.05);
    const auto f = final_features(g);
    CHECK(std::vector<std::int64_t>(f.begin() + 1, f.end()) == p.features);
    CHECK(g.tensor(logits_of(g)).shape == std::vector<std::int64_t>{1, 1000});
  }
}

TEST_CASE("layer counts") {
  SUBCASE("ResNet-50: 53 convolutions (49 + 4 projection shortcuts) and one fc") {
    const OpGraph g = make_model("resnet50");
    CHECK(g.count_ops(OpKind::conv) == 53);
    CHECK(g.count_ops(OpKind::gemm) == 1);
    CHECK(g.count_ops(OpKind::batch_norm) == 53);
    CHECK(g.count_ops(OpKind::pool_max) == 1);
    CHECK(g.count_ops(OpKind::elementwise) == 16);  // one residual add per bottleneck
  }
  SUBCASE("ResNet-101: 104 convolutions") {
    CHECK(make_model("resnet101").count_ops(OpKind::conv) == 104);
  }
  SUBCASE("Inception-v3: 94 convolutions, 11 inception blocks") {
    const OpGraph g = make_model("inception_v3");
    CHECK(g.count_ops(OpKind::conv) == 94);
    // A x3, C x4 and E x2 each end in one concat (E has two more inside); B and D one each.
    CHECK(g.count_ops(OpKind::concat) == 3 + 1 + 4 + 1 + 2 * 3);
  }
  SUBCASE("MobileNetV2: 17 inverted residual blocks, 10 with a shortcut") {
    const OpGraph g = make_model("mobilenet_v2");
    CHECK(g.count_ops(OpKind::depthwise_conv) == 17);
    CHECK(g.count_ops(OpKind::conv) == 35);
    CHECK(g.count_ops(OpKind::elementwise) == 10);
  }
  SUBCASE("EfficientNet: 16 MBConv blocks in B0, 39 in B5, each with squeeze-excitation") {
    for (auto model : {std::pair{"efficientnet_b0", 16}, std::pair{"efficientnet_b5", 39}}) {
      const auto name = model.first;  // named: CAPTURE's lambda captures it (clang 14)
      const auto blocks = model.second;
      CAPTURE(name);
      const OpGraph g = make_model(name);
      CHECK(g.count_ops(OpKind::depthwise_conv) == static_cast<std::size_t>(blocks));
      std::size_t se = 0;
      for (const Op& o : g.ops()) se += o.kind == OpKind::elementwise && o.function == "mul";
      CHECK(se == static_cast<std::size_t>(blocks));
    }
  }
  SUBCASE("NASNet-A: 3N normal and 4 reduction cells; separable convs are depthwise + pointwise") {
    for (auto model : {std::pair{"nasnet_a_mobile", 4}, std::pair{"nasnet_a_large", 6}}) {
      const auto name = model.first;  // named: CAPTURE's lambda captures it (clang 14)
      const auto n = model.second;
      CAPTURE(name);
      const OpGraph g = make_model(name);
      // Concats: one per cell, plus one per factorised reduction in the adjust blocks.
      std::size_t cells = 0;
      for (const Op& o : g.ops())
        if (o.kind == OpKind::concat && o.name.find("adjust") == std::string::npos) ++cells;
      CHECK(cells == static_cast<std::size_t>(3 * n + 4));
      // 5 separable blocks per cell, 2 separable convs each.
      CHECK(g.count_ops(OpKind::depthwise_conv) == static_cast<std::size_t>(10 * (3 * n + 4)));
    }
  }
}

TEST_CASE("batch scales activations and work, not parameters") {
  const OpGraph one = make_model("resnet50", {.batch = 1});
  const OpGraph eight = make_model("resnet50", {.batch = 8});
  CHECK(one.parameter_count() == eight.parameter_count());
  CHECK(one.op_count() == eight.op_count());
  CHECK(eight.total_flops() == 8 * one.total_flops());
  std::int64_t act1 = 0, act8 = 0;
  for (const Tensor& t : one.tensors())
    if (!t.parameter && t.shape.size() == 4) act1 += t.bytes();
  for (const Tensor& t : eight.tensors())
    if (!t.parameter && t.shape.size() == 4) act8 += t.bytes();
  CHECK(act8 == 8 * act1);
  CHECK(eight.tensor(logits_of(eight)).shape == std::vector<std::int64_t>{8, 1000});
}

TEST_CASE("input size, classes and dtype options") {
  SUBCASE("CIFAR-10 sized inputs for the training models") {
    for (const char* name : {"resnet50", "mobilenet_v2", "efficientnet_b0"}) {
      CAPTURE(name);
      const OpGraph g = make_model(name, {.batch = 2, .image_size = 32, .num_classes = 10});
      CHECK_NOTHROW(g.validate());
      CHECK(g.tensor(logits_of(g)).shape == std::vector<std::int64_t>{2, 10});
      CHECK(g.tensor(*g.find_tensor("image")).shape == std::vector<std::int64_t>{2, 3, 32, 32});
    }
  }
  SUBCASE("the default input size is the model's") {
    const OpGraph g = make_model("nasnet_a_large");
    CHECK(g.tensor(*g.find_tensor("image")).shape == std::vector<std::int64_t>{1, 3, 331, 331});
  }
  SUBCASE("num_classes changes only the classifier") {
    const auto a = make_model("mobilenet_v2", {.num_classes = 1000}).parameter_count();
    const auto b = make_model("mobilenet_v2", {.num_classes = 10}).parameter_count();
    CHECK(a - b == 990 * 1280 + 990);
  }
  SUBCASE("dtype sets every tensor's element type") {
    const OpGraph g = make_model("efficientnet_b0", {.dtype = DType::fp16});
    for (const Tensor& t : g.tensors()) CHECK(t.dtype == DType::fp16);
    CHECK(g.parameter_bytes() == 2 * g.parameter_count());
  }
  SUBCASE("an image too small for the model names the layer where it stops fitting") {
    try {
      make_model("inception_v3", {.image_size = 32});
      FAIL("expected an InputError");
    } catch (const sim::InputError& e) {
      const std::string msg = e.what();
      CHECK(msg.find("inception_v3 at 32x32") != std::string::npos);
      CHECK(msg.find("too small") != std::string::npos);
    }
  }
}

TEST_CASE("bad model names and options are input errors") {
  try {
    make_model("resnet5");
    FAIL("expected an InputError");
  } catch (const sim::InputError& e) {
    CHECK(std::string(e.what()).find("did you mean 'resnet50'?") != std::string::npos);
  }
  CHECK_THROWS_AS(make_model("resnet50", {.batch = 0}), sim::InputError);
  CHECK_THROWS_AS(make_model("resnet50", {.image_size = -5}), sim::InputError);
  CHECK_THROWS_AS(make_model("resnet50", {.num_classes = 0}), sim::InputError);
}

TEST_CASE("VGG-16 has torchvision's 138,357,544 parameters and about 15.5 G multiply-adds") {
  const OpGraph g = make_model("vgg16");
  CHECK_NOTHROW(g.validate());
  CHECK(g.parameter_count() == 138357544);
  CHECK(std::abs(static_cast<double>(macs(g)) - 15.47e9) / 15.47e9 < 0.05);
  CHECK(g.count_ops(OpKind::conv) == 14);  // 13 + fc6 as its 7x7 convolution
  CHECK(g.tensor(logits_of(g)).shape == std::vector<std::int64_t>{1, 1000});
  const OpGraph t = make_model("vgg16", {.batch = 2, .training = true});
  CHECK_NOTHROW(t.validate());
}

TEST_CASE("transformers: BERT-large and GPT-2 XL at their published sizes") {
  // Weights as the papers count them: BERT-large 340M without pooler/type/position embeddings
  // (335M encoder + embeddings = 333.6M here), GPT-2 XL 1.56B (tied embedding, no positions).
  const OpGraph bert = make_model("bert_large", {.batch = 1, .sequence = 128});
  CHECK_NOTHROW(bert.validate());
  CHECK(std::abs(static_cast<double>(bert.parameter_count()) - 333.6e6) / 333.6e6 < 0.01);
  const OpGraph gpt = make_model("gpt2_xl", {.batch = 1, .sequence = 64});
  CHECK(std::abs(static_cast<double>(gpt.parameter_count()) - 1.556e9) / 1.556e9 < 0.01);
  const OpGraph t = make_model("bert_large", {.batch = 2, .training = true, .sequence = 16});
  CHECK_NOTHROW(t.validate());
}

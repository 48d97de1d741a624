#include "workloads/zoo/zoo.hpp"

namespace workloads::zoo {

namespace {

// Every convolution of Inception-v3 is conv (no bias) + batch norm + ReLU.
TensorId cbr(GraphBuilder& b, TensorId x, std::int64_t out, Hw kernel, Hw stride = 1,
             std::optional<Hw> padding = std::nullopt) {
  return b.conv_bn_act(x, out, kernel, stride, "relu", padding);
}

// 35x35 block: 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1.
TensorId block_a(GraphBuilder& b, TensorId x, std::int64_t pool_features) {
  const TensorId b1 = cbr(b, x, 64, 1);
  const TensorId b5 = cbr(b, cbr(b, x, 48, 1), 64, 5);
  const TensorId b3 = cbr(b, cbr(b, cbr(b, x, 64, 1), 96, 3), 96, 3);
  const TensorId bp = cbr(b, b.avg_pool(x, 3, 1, 1), pool_features, 1);
  return b.concat({b1, b5, b3, bp});
}

// 35 -> 17 grid reduction: 3x3/2 | 1x1-3x3-3x3/2 | maxpool/2.
TensorId block_b(GraphBuilder& b, TensorId x) {
  const TensorId b3 = cbr(b, x, 384, 3, 2, 0);
  const TensorId bd = cbr(b, cbr(b, cbr(b, x, 64, 1), 96, 3), 96, 3, 2, 0);
  const TensorId bp = b.max_pool(x, 3, 2);
  return b.concat({b3, bd, bp});
}

// 17x17 block with 7x7 convolutions factorised into 1x7 and 7x1.
TensorId block_c(GraphBuilder& b, TensorId x, std::int64_t c7) {
  const TensorId b1 = cbr(b, x, 192, 1);
  TensorId b7 = cbr(b, x, c7, 1);
  b7 = cbr(b, b7, c7, {1, 7});
  b7 = cbr(b, b7, 192, {7, 1});
  TensorId bd = cbr(b, x, c7, 1);
  bd = cbr(b, bd, c7, {7, 1});
  bd = cbr(b, bd, c7, {1, 7});
  bd = cbr(b, bd, c7, {7, 1});
  bd = cbr(b, bd, 192, {1, 7});
  const TensorId bp = cbr(b, b.avg_pool(x, 3, 1, 1), 192, 1);
  return b.concat({b1, b7, bd, bp});
}

// 17 -> 8 grid reduction.
TensorId block_d(GraphBuilder& b, TensorId x) {
  const TensorId b3 = cbr(b, cbr(b, x, 192, 1), 320, 3, 2, 0);
  TensorId b7 = cbr(b, x, 192, 1);
  b7 = cbr(b, b7, 192, {1, 7});
  b7 = cbr(b, b7, 192, {7, 1});
  b7 = cbr(b, b7, 192, 3, 2, 0);
  const TensorId bp = b.max_pool(x, 3, 2);
  return b.concat({b3, b7, bp});
}

// 8x8 block with expanded filter banks: 3x3 split into parallel 1x3 and 3x1.
TensorId block_e(GraphBuilder& b, TensorId x) {
  const TensorId b1 = cbr(b, x, 320, 1);
  const TensorId b3 = cbr(b, x, 384, 1);
  const TensorId b3_cat = b.concat({cbr(b, b3, 384, {1, 3}), cbr(b, b3, 384, {3, 1})});
  const TensorId bd = cbr(b, cbr(b, x, 448, 1), 384, 3);
  const TensorId bd_cat = b.concat({cbr(b, bd, 384, {1, 3}), cbr(b, bd, 384, {3, 1})});
  const TensorId bp = cbr(b, b.avg_pool(x, 3, 1, 1), 192, 1);
  return b.concat({b1, b3_cat, bd_cat, bp});
}

}  // namespace

TensorId inception_v3(GraphBuilder& b, TensorId image, std::int64_t num_classes) {
  TensorId x;
  {
    auto s = b.scope("stem");
    x = cbr(b, image, 32, 3, 2, 0);  // 299 -> 149
    x = cbr(b, x, 32, 3, 1, 0);      // 147
    x = cbr(b, x, 64, 3);            // 147
    x = b.max_pool(x, 3, 2);         // 73
    x = cbr(b, x, 80, 1);
    x = cbr(b, x, 192, 3, 1, 0);  // 71
    x = b.max_pool(x, 3, 2);      // 35
  }
  auto block = [&](const char* name, auto&& f) {
    auto s = b.scope(name);
    x = f();
  };
  block("Mixed_5b", [&] { return block_a(b, x, 32); });
  block("Mixed_5c", [&] { return block_a(b, x, 64); });
  block("Mixed_5d", [&] { return block_a(b, x, 64); });
  block("Mixed_6a", [&] { return block_b(b, x); });
  block("Mixed_6b", [&] { return block_c(b, x, 128); });
  block("Mixed_6c", [&] { return block_c(b, x, 160); });
  block("Mixed_6d", [&] { return block_c(b, x, 160); });
  block("Mixed_6e", [&] { return block_c(b, x, 192); });
  block("Mixed_7a", [&] { return block_d(b, x); });
  block("Mixed_7b", [&] { return block_e(b, x); });
  block("Mixed_7c", [&] { return block_e(b, x); });
  auto s = b.scope("head");  // dropout is the identity at inference and omitted in training
  return b.linear(b.global_avg_pool(x), num_classes);
}

}  // namespace workloads::zoo

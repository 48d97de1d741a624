#include <cmath>
#include <string>

#include "workloads/zoo/zoo.hpp"

namespace workloads::zoo {

std::int64_t make_divisible(double value, int divisor) {
  auto v = std::max<std::int64_t>(
      divisor, static_cast<std::int64_t>(value + divisor / 2.0) / divisor * divisor);
  if (static_cast<double>(v) < 0.9 * value) v += divisor;
  return v;
}

namespace {

// Inverted residual: 1x1 expand (skipped at t = 1), 3x3 depthwise (carries the stride), linear
// 1x1 projection; identity shortcut when the shape is kept.
TensorId inverted_residual(GraphBuilder& b, TensorId x, std::int64_t out, int stride, int t) {
  const std::int64_t in = b.channels(x);
  TensorId y = x;
  if (t != 1) y = b.conv_bn_act(y, in * t, 1, 1, "relu6");
  y = b.activation(b.batch_norm(b.depthwise_conv(y, 3, stride)), "relu6");
  y = b.conv_bn(y, out, 1);
  return (stride == 1 && in == out) ? b.add(x, y) : y;
}

}  // namespace

TensorId mobilenet_v2(GraphBuilder& b, TensorId image, std::int64_t num_classes) {
  struct Stage {
    int t;           // expansion
    std::int64_t c;  // output channels
    int n;           // blocks
    int s;           // stride of the first block
  };
  // Table 2 of the paper.
  static constexpr Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                      {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  TensorId x;
  {
    auto s = b.scope("features.0");
    x = b.conv_bn_act(image, 32, 3, 2, "relu6");
  }
  int index = 1;
  for (const Stage& st : kStages) {
    for (int i = 0; i < st.n; ++i, ++index) {
      auto s = b.scope("features." + std::to_string(index));
      x = inverted_residual(b, x, st.c, i == 0 ? st.s : 1, st.t);
    }
  }
  {
    auto s = b.scope("features." + std::to_string(index));
    x = b.conv_bn_act(x, 1280, 1, 1, "relu6");
  }
  auto s = b.scope("classifier");  // dropout omitted
  return b.linear(b.global_avg_pool(x), num_classes);
}

}  // namespace workloads::zoo

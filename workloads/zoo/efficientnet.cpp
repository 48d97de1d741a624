#include <cmath>
#include <string>

#include "workloads/zoo/zoo.hpp"

namespace workloads::zoo {

namespace {

// Squeeze-and-excitation: channel weights from a pooled descriptor through a bottleneck of
// `squeeze` channels (1x1 convs with bias), applied by a broadcast multiply.
TensorId squeeze_excite(GraphBuilder& b, TensorId x, std::int64_t squeeze) {
  auto s = b.scope("se");
  TensorId w = b.global_avg_pool(x, /*keep_dims=*/true);
  w = b.activation(b.conv(w, squeeze, 1, 1, std::nullopt, 1, /*bias=*/true), "silu");
  w = b.activation(b.conv(w, b.channels(x), 1, 1, std::nullopt, 1, /*bias=*/true), "sigmoid");
  return b.mul(x, w);
}

// MBConv: 1x1 expand (skipped at ratio 1), kxk depthwise, SE on a quarter of the block's input
// width, linear 1x1 projection, identity shortcut when the shape is kept. (Stochastic depth
// on the shortcut is a training-time mask, not modelled.)
TensorId mbconv(GraphBuilder& b, TensorId x, int expand, int kernel, int stride, std::int64_t out) {
  const std::int64_t in = b.channels(x);
  const std::int64_t hidden = make_divisible(static_cast<double>(in * expand));
  TensorId y = x;
  if (hidden != in) y = b.conv_bn_act(y, hidden, 1, 1, "silu");
  y = b.activation(b.batch_norm(b.depthwise_conv(y, kernel, stride)), "silu");
  y = squeeze_excite(b, y, std::max<std::int64_t>(1, in / 4));
  y = b.conv_bn(y, out, 1);
  return (stride == 1 && in == out) ? b.add(x, y) : y;
}

}  // namespace

TensorId efficientnet(GraphBuilder& b, TensorId image, double width_mult, double depth_mult,
                      std::int64_t num_classes) {
  struct Stage {
    int expand, kernel, stride;
    std::int64_t out;
    int layers;
  };
  // Table 1 of the paper (EfficientNet-B0); stem 32 channels, head 1280.
  static constexpr Stage kStages[] = {{1, 3, 1, 16, 1}, {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2},
                                      {6, 3, 2, 80, 3}, {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4},
                                      {6, 3, 1, 320, 1}};
  auto width = [&](std::int64_t c) { return make_divisible(static_cast<double>(c) * width_mult); };
  TensorId x;
  {
    auto s = b.scope("stem");
    x = b.conv_bn_act(image, width(32), 3, 2, "silu");
  }
  int stage_no = 1;
  for (const Stage& st : kStages) {
    const int layers = static_cast<int>(std::ceil(st.layers * depth_mult));
    for (int i = 0; i < layers; ++i) {
      auto s = b.scope("stage" + std::to_string(stage_no) + "." + std::to_string(i));
      x = mbconv(b, x, st.expand, st.kernel, i == 0 ? st.stride : 1, width(st.out));
    }
    ++stage_no;
  }
  {
    auto s = b.scope("head");
    x = b.conv_bn_act(x, 4 * width(320), 1, 1, "silu");
  }
  auto s = b.scope("classifier");  // dropout omitted
  return b.linear(b.global_avg_pool(x), num_classes);
}

}  // namespace workloads::zoo

#include <string>

#include "workloads/zoo/zoo.hpp"

namespace workloads::zoo {

namespace {

// 1x1 reduce, 3x3 (carries the stride), 1x1 expand x4; a projection shortcut where the shape
// changes.
TensorId bottleneck(GraphBuilder& b, TensorId x, std::int64_t width, int stride) {
  const std::int64_t out = 4 * width;
  TensorId y = b.conv_bn_act(x, width, 1, 1, "relu");
  y = b.conv_bn_act(y, width, 3, stride, "relu");
  return residual_join(b, b.conv_bn(y, out, 1), x, stride);
}

}  // namespace

TensorId residual_join(GraphBuilder& b, TensorId y, TensorId x, int stride) {
  TensorId shortcut = x;
  if (stride != 1 || b.channels(x) != b.channels(y)) {
    auto s = b.scope("downsample");
    shortcut = b.conv_bn(x, b.channels(y), 1, stride);
  }
  return b.activation(b.add(y, shortcut), "relu");
}

TensorId resnet(GraphBuilder& b, TensorId image, const std::vector<int>& blocks,
                std::int64_t num_classes) {
  TensorId x;
  {
    auto s = b.scope("stem");
    x = b.conv_bn_act(image, 64, 7, 2, "relu");
    x = b.max_pool(x, 3, 2, 1);
  }
  std::int64_t width = 64;
  for (std::size_t stage = 0; stage < blocks.size(); ++stage, width *= 2) {
    auto s = b.scope("layer" + std::to_string(stage + 1));
    for (int i = 0; i < blocks[stage]; ++i) {
      auto blk = b.scope(std::to_string(i));
      x = bottleneck(b, x, width, (i == 0 && stage > 0) ? 2 : 1);
    }
  }
  auto s = b.scope("head");
  return b.linear(b.global_avg_pool(x), num_classes);
}

}  // namespace workloads::zoo

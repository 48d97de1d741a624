// The Caffe-era networks of the multi-tenant inference papers (BARM, Liu 2023), as their
// reference prototxts define them: LeNet (examples/mnist/lenet.prototxt), CaffeNet
// (bvlc_reference_caffenet: AlexNet with pooling before normalisation, grouped conv2/4/5),
// GoogLeNet (bvlc_googlenet, without the training-only auxiliary heads), VGG-16 (Simonyan &
// Zisserman, configuration D), SqueezeNet v1.0 (DeepScale) and ResNet-18 (He et al. 2016; no
// official BVLC model exists, so it follows torchvision, batch norm included).
//
// Local response normalisation (CaffeNet, GoogLeNet) has no parameters and a few percent of
// the FLOPs; the op set has no LRN kind, so it is left out. Caffe rounds pooled sizes up; where
// that differs from rounding down, one pixel of padding gives Caffe's output size.

#include <string>

#include "workloads/zoo/zoo.hpp"

namespace workloads::zoo {

TensorId conv_relu(GraphBuilder& b, TensorId x, std::int64_t out, Hw kernel, Hw stride,
                   std::optional<Hw> padding, int groups) {
  return b.activation(b.conv(x, out, kernel, stride, padding, groups, /*bias=*/true), "relu");
}

TensorId fc_over_map(GraphBuilder& b, TensorId x, std::int64_t out) {
  const auto& s = b.shape(x);
  const Hw window{static_cast<int>(s.at(2)), static_cast<int>(s.at(3))};
  return b.global_avg_pool(b.conv(x, out, window, 1, Hw{0}, 1, /*bias=*/true));
}

TensorId classifier_4096(GraphBuilder& b, TensorId x, std::int64_t num_classes) {
  x = b.activation(fc_over_map(b, x, 4096), "relu");
  x = b.activation(b.linear(x, 4096), "relu");
  return b.linear(x, num_classes);
}

namespace {

TensorId inception(GraphBuilder& b, TensorId x, std::int64_t c1, std::int64_t r3, std::int64_t c3,
                   std::int64_t r5, std::int64_t c5, std::int64_t pool_proj) {
  const TensorId a = conv_relu(b, x, c1, 1);
  const TensorId m = conv_relu(b, conv_relu(b, x, r3, 1), c3, 3);
  const TensorId n = conv_relu(b, conv_relu(b, x, r5, 1), c5, 5);
  const TensorId p = conv_relu(b, b.max_pool(x, 3, 1, 1), pool_proj, 1);
  return b.concat({a, m, n, p});
}

TensorId fire(GraphBuilder& b, TensorId x, std::int64_t squeeze, std::int64_t expand) {
  const TensorId s = conv_relu(b, x, squeeze, 1);
  return b.concat({conv_relu(b, s, expand, 1), conv_relu(b, s, expand, 3)});
}

TensorId basic_block(GraphBuilder& b, TensorId x, std::int64_t width, int stride) {
  TensorId y = b.conv_bn_act(x, width, 3, stride, "relu");
  return residual_join(b, b.conv_bn(y, width, 3), x, stride);
}

}  // namespace

TensorId lenet(GraphBuilder& b, TensorId image, std::int64_t num_classes) {
  TensorId x = b.conv(image, 20, 5, 1, Hw{0}, 1, true);
  x = b.max_pool(x, 2, 2);
  x = b.conv(x, 50, 5, 1, Hw{0}, 1, true);
  x = b.max_pool(x, 2, 2);
  x = b.activation(fc_over_map(b, x, 500), "relu");  // ip1
  return b.linear(x, num_classes);
}

TensorId caffenet(GraphBuilder& b, TensorId image, std::int64_t num_classes) {
  TensorId x = conv_relu(b, image, 96, 11, 4, Hw{0});
  x = b.max_pool(x, 3, 2);
  x = conv_relu(b, x, 256, 5, 1, Hw{2}, 2);
  x = b.max_pool(x, 3, 2);
  x = conv_relu(b, x, 384, 3, 1, Hw{1});
  x = conv_relu(b, x, 384, 3, 1, Hw{1}, 2);
  x = conv_relu(b, x, 256, 3, 1, Hw{1}, 2);
  x = b.max_pool(x, 3, 2);
  return classifier_4096(b, x, num_classes);
}

TensorId googlenet(GraphBuilder& b, TensorId image, std::int64_t num_classes) {
  TensorId x = conv_relu(b, image, 64, 7, 2, Hw{3});
  x = b.max_pool(x, 3, 2, 1);
  x = conv_relu(b, x, 64, 1);
  x = conv_relu(b, x, 192, 3);
  x = b.max_pool(x, 3, 2, 1);
  x = inception(b, x, 64, 96, 128, 16, 32, 32);     // 3a
  x = inception(b, x, 128, 128, 192, 32, 96, 64);   // 3b
  x = b.max_pool(x, 3, 2, 1);
  x = inception(b, x, 192, 96, 208, 16, 48, 64);    // 4a
  x = inception(b, x, 160, 112, 224, 24, 64, 64);   // 4b
  x = inception(b, x, 128, 128, 256, 24, 64, 64);   // 4c
  x = inception(b, x, 112, 144, 288, 32, 64, 64);   // 4d
  x = inception(b, x, 256, 160, 320, 32, 128, 128); // 4e
  x = b.max_pool(x, 3, 2, 1);
  x = inception(b, x, 256, 160, 320, 32, 128, 128); // 5a
  x = inception(b, x, 384, 192, 384, 48, 128, 128); // 5b
  return b.linear(b.global_avg_pool(x), num_classes);
}

TensorId squeezenet(GraphBuilder& b, TensorId image, std::int64_t num_classes) {
  TensorId x = conv_relu(b, image, 96, 7, 2, Hw{0});
  x = b.max_pool(x, 3, 2);
  x = fire(b, x, 16, 64);
  x = fire(b, x, 16, 64);
  x = fire(b, x, 32, 128);
  x = b.max_pool(x, 3, 2);
  x = fire(b, x, 32, 128);
  x = fire(b, x, 48, 192);
  x = fire(b, x, 48, 192);
  x = fire(b, x, 64, 256);
  x = b.max_pool(x, 3, 2);
  x = fire(b, x, 64, 256);
  x = conv_relu(b, x, num_classes, 1);
  return b.global_avg_pool(x);
}

TensorId resnet18(GraphBuilder& b, TensorId image, std::int64_t num_classes) {
  TensorId x;
  {
    auto s = b.scope("stem");
    x = b.conv_bn_act(image, 64, 7, 2, "relu");
    x = b.max_pool(x, 3, 2, 1);
  }
  std::int64_t width = 64;
  for (int stage = 0; stage < 4; ++stage, width *= 2) {
    auto s = b.scope("layer" + std::to_string(stage + 1));
    for (int i = 0; i < 2; ++i) {
      auto blk = b.scope(std::to_string(i));
      x = basic_block(b, x, width, (i == 0 && stage > 0) ? 2 : 1);
    }
  }
  auto s = b.scope("head");
  return b.linear(b.global_avg_pool(x), num_classes);
}

}  // namespace workloads::zoo

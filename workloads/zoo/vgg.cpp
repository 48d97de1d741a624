// Simonyan & Zisserman 2015, configuration D (VGG-16) as in torchvision (no batch norm).
// The first classifier layer is written as the 7x7 convolution it is equivalent to (the
// fully-convolutional form of the paper, section 3.2): same weights (4096 x 512 x 7 x 7 + bias),
// same FLOPs, and no flatten op needed; a 1x1 global pool then gives [N, 4096].

#include "workloads/zoo/zoo.hpp"

namespace workloads::zoo {

TensorId vgg(GraphBuilder& b, TensorId image, const std::vector<int>& convs_per_stage,
             std::int64_t num_classes) {
  const std::int64_t widths[] = {64, 128, 256, 512, 512};
  TensorId x = image;
  for (std::size_t s = 0; s < convs_per_stage.size() && s < 5; ++s) {
    auto scope = b.scope("features" + std::to_string(s));
    for (int i = 0; i < convs_per_stage[s]; ++i)
      x = b.activation(b.conv(x, widths[s], 3, 1, std::nullopt, 1, true), "relu");
    x = b.max_pool(x, 2, 2);
  }
  auto scope = b.scope("classifier");
  const auto& shape = b.shape(x);
  x = b.activation(b.conv(x, 4096, Hw(static_cast<int>(shape[2]), static_cast<int>(shape[3])), 1,
                          Hw(0), 1, true),
                   "relu");
  x = b.global_avg_pool(x);
  x = b.activation(b.linear(x, 4096), "relu");
  return b.linear(x, num_classes);
}

}  // namespace workloads::zoo

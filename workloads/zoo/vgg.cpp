// Simonyan & Zisserman 2015, configuration D (VGG-16) as in torchvision (no batch norm): 3x3
// convolutions with ReLU in five stages of 64..512 channels, each closed by a 2x2 max pool, then
// the 4096-wide head AlexNet also has (classifier_4096, its first layer as the 7x7 convolution
// it is equivalent to).

#include <fmt/format.h>

#include "sim/error.hpp"
#include "workloads/zoo/zoo.hpp"

namespace workloads::zoo {

TensorId vgg(GraphBuilder& b, TensorId image, const std::vector<int>& convs_per_stage,
             std::int64_t num_classes) {
  const std::int64_t widths[] = {64, 128, 256, 512, 512};
  if (convs_per_stage.size() != std::size(widths))
    throw sim::InputError(fmt::format("vgg: {} stages given, VGG has 5", convs_per_stage.size()));
  TensorId x = image;
  for (std::size_t s = 0; s < convs_per_stage.size(); ++s) {
    auto scope = b.scope("features" + std::to_string(s));
    for (int i = 0; i < convs_per_stage[s]; ++i) x = conv_relu(b, x, widths[s], 3);
    x = b.max_pool(x, 2, 2);
  }
  auto scope = b.scope("classifier");
  return classifier_4096(b, x, num_classes);
}

}  // namespace workloads::zoo

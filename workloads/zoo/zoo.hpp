#pragma once
// The model generators behind make_model (model_zoo.hpp), one file per family. Each adds the
// forward network to a builder, starting at `image` [N, 3, H, W], and returns the logits
// [N, num_classes]. Architectures follow the papers; where implementations differ the file
// says which one it follows, so the parameter counts can be checked against it.

#include <cstdint>
#include <optional>
#include <vector>

#include "workloads/graph_builder.hpp"

namespace workloads::zoo {

// He et al. 2016, bottleneck ResNets as in torchvision (stride on the 3x3 conv, "v1.5").
// `blocks`: bottleneck blocks per stage, {3, 4, 6, 3} for ResNet-50, {3, 4, 23, 3} for 101.
TensorId resnet(GraphBuilder& b, TensorId image, const std::vector<int>& blocks,
                std::int64_t num_classes);

// The end of a residual block: y + shortcut(x), then ReLU; the shortcut is a strided 1x1 conv +
// batch norm ("downsample") where the shape changes. Shared by the bottleneck and basic blocks.
TensorId residual_join(GraphBuilder& b, TensorId y, TensorId x, int stride);

// Szegedy et al. 2016, as in torchvision, without the auxiliary classifier.
TensorId inception_v3(GraphBuilder& b, TensorId image, std::int64_t num_classes);

// Zoph et al. 2018, NASNet-A "N @ P" as in Keras applications / TF-slim.
struct NasnetConfig {
  int num_cells = 4;                        // N: normal cells per stack
  std::int64_t penultimate_filters = 1056;  // P: channels before the classifier
  std::int64_t stem_filters = 32;
  bool skip_reduction = false;  // large: the cell after a reduction reads the one before it
};
TensorId nasnet_a(GraphBuilder& b, TensorId image, const NasnetConfig& cfg,
                  std::int64_t num_classes);

// Sandler et al. 2018, width 1.0, as in torchvision.
TensorId mobilenet_v2(GraphBuilder& b, TensorId image, std::int64_t num_classes);

// Tan & Le 2019, the B0 MBConv table scaled by width and depth multipliers, as in torchvision.
TensorId efficientnet(GraphBuilder& b, TensorId image, double width_mult, double depth_mult,
                      std::int64_t num_classes);

// Simonyan & Zisserman 2015: VGG without batch norm; `convs_per_stage` {2, 2, 3, 3, 3} is
// VGG-16 (configuration D).
TensorId vgg(GraphBuilder& b, TensorId image, const std::vector<int>& convs_per_stage,
             std::int64_t num_classes);

// Transformer stacks on token matrices [tokens, hidden] (transformer.cpp says what is left out).
struct TransformerConfig {
  int layers = 24;
  std::int64_t hidden = 1024;
  std::int64_t ffn = 4096;
  std::int64_t vocab = 30522;
  bool pre_norm = false;  // GPT-2: norm before each block and at the end; BERT: after
};
// `tokens` [batch x sequence, hidden] embedded tokens; returns the logits [tokens, vocab].
TensorId transformer(GraphBuilder& b, TensorId tokens, const TransformerConfig& c);

// The Caffe-era networks of the multi-tenant inference papers (caffe.cpp says which
// prototxt each follows): LeNet on [N, 1, 28, 28], CaffeNet and SqueezeNet v1.0 on 227,
// GoogLeNet and ResNet-18 on 224 (VGG-16 is vgg() above).
TensorId lenet(GraphBuilder& b, TensorId image, std::int64_t num_classes);
TensorId caffenet(GraphBuilder& b, TensorId image, std::int64_t num_classes);
TensorId googlenet(GraphBuilder& b, TensorId image, std::int64_t num_classes);
TensorId squeezenet(GraphBuilder& b, TensorId image, std::int64_t num_classes);
TensorId resnet18(GraphBuilder& b, TensorId image, std::int64_t num_classes);

// Channel rounding shared by MobileNetV2 and EfficientNet: the nearest multiple of `divisor`,
// never more than 10% below `value`.
std::int64_t make_divisible(double value, int divisor = 8);

// Layers shared by the plain CNNs (caffe.cpp). A convolution with bias, then ReLU.
TensorId conv_relu(GraphBuilder& b, TensorId x, std::int64_t out, Hw kernel, Hw stride = 1,
                   std::optional<Hw> padding = std::nullopt, int groups = 1);
// A fully connected layer over a feature map: Caffe's InnerProduct reads the map flattened,
// which is a convolution whose window is the whole map (same weights, same FLOPs); the op set
// has no reshape, so it is written that way, and a pool over the 1x1 result gives [N, out].
TensorId fc_over_map(GraphBuilder& b, TensorId x, std::int64_t out);
// AlexNet's and VGG's head: fc6 over the last feature map, fc7, fc8 (dropout is the identity at
// inference).
TensorId classifier_4096(GraphBuilder& b, TensorId x, std::int64_t num_classes);

}  // namespace workloads::zoo

#pragma once
// The CNN model zoo: op graphs of the networks the GPU-scheduling papers run (Nimble's eight),
// with their real architectures and layer shapes, at any batch and input size, for inference or
// for one training step (forward, backward, optimizer).
//
// Inference graphs end at the logits [N, num_classes] (no softmax, as torchvision models).
// Training graphs add softmax cross-entropy against a `labels` input, the backward pass and an
// SGD-momentum update per parameter tensor (training_step.hpp).

#include <optional>
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "workloads/op_graph.hpp"

namespace workloads {

struct ModelOptions {
  int batch = 1;
  int image_size = 0;  // 0: the model's default (224; Inception-v3 299, NASNet-A large 331,
                       // EfficientNet-B5 456)
  // Unset: the model's published classifier (1000 classes; LeNet 10).
  std::optional<int> num_classes = std::nullopt;
  DType dtype = DType::fp32;
  bool training = false;
  int sequence = 0;  // transformers: tokens per sample (0: the model's default)
};

// Unknown names and out-of-range options throw sim::InputError (with a did-you-mean for names).
// A name ending in .yaml, .yml or .json is an op-graph file of the user's (graph_model.hpp).
OpGraph make_model(const std::string& name, const ModelOptions& options = {});

// resnet50, resnet101, inception_v3, nasnet_a_mobile, nasnet_a_large, mobilenet_v2,
// efficientnet_b0, efficientnet_b5, vgg16, bert_large, gpt2_xl (transformers take
// `sequence`, not `image_size`; their `num_classes` is the vocabulary, fixed by the model); the
// Caffe models lenet, caffenet, resnet18, googlenet, vgg16 (shared) and squeezenet.
std::vector<std::string> model_names();

// The zoo model a config value names, or an InputError at it with the nearest name and the
// known ones (every reader of a model name goes through here). A graph file (.yaml, .yml,
// .json) is resolved against the folder of the config that names it and returned as an
// absolute path; a missing one is an InputError at the value.
std::string read_model_name(const sim::Config& item);
// The dtype a config value names (fp32, fp16, bf16, tf32, int8), or an InputError at it.
DType read_dtype(const sim::Config& item);

// The input size the model was published with.
int default_image_size(const std::string& name);

}  // namespace workloads

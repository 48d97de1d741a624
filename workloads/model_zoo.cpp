#include "workloads/model_zoo.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/nearest.hpp"
#include "workloads/graph_builder.hpp"
#include "workloads/graph_model.hpp"
#include "workloads/training_step.hpp"
#include "workloads/zoo/zoo.hpp"

namespace workloads {

namespace {

using Generator = std::function<TensorId(GraphBuilder&, TensorId image, std::int64_t classes)>;

struct ModelEntry {
  const char* name;
  int image_size;  // transformers: the sequence length
  Generator build;
  const zoo::TransformerConfig* transformer = nullptr;
  int channels = 3;         // of the input image
  int num_classes = 1000;   // the published classifier's, when the options name none
};

// Published sizes: BERT-large (Devlin et al. 2019: L=24, H=1024, A=16, 340M, WordPiece 30522)
// and GPT-2 XL (Radford et al. 2019: 48 layers, d_model 1600, 1.5B, BPE vocabulary 50257).
const zoo::TransformerConfig kBertLarge{24, 1024, 4096, 30522, false};
const zoo::TransformerConfig kGpt2Xl{48, 1600, 6400, 50257, true};

const std::vector<ModelEntry>& entries() {
  static const std::vector<ModelEntry> kModels{
      {"resnet50", 224,
       [](GraphBuilder& b, TensorId x, std::int64_t k) {
         return zoo::resnet(b, x, {3, 4, 6, 3}, k);
       }},
      {"resnet101", 224,
       [](GraphBuilder& b, TensorId x, std::int64_t k) {
         return zoo::resnet(b, x, {3, 4, 23, 3}, k);
       }},
      {"inception_v3", 299,
       [](GraphBuilder& b, TensorId x, std::int64_t k) { return zoo::inception_v3(b, x, k); }},
      {"nasnet_a_mobile", 224,  // NASNet-A 4 @ 1056
       [](GraphBuilder& b, TensorId x, std::int64_t k) {
         return zoo::nasnet_a(b, x,
                              {.num_cells = 4,
                               .penultimate_filters = 1056,
                               .stem_filters = 32,
                               .skip_reduction = false},
                              k);
       }},
      {"nasnet_a_large", 331,  // NASNet-A 6 @ 4032
       [](GraphBuilder& b, TensorId x, std::int64_t k) {
         return zoo::nasnet_a(b, x,
                              {.num_cells = 6,
                               .penultimate_filters = 4032,
                               .stem_filters = 96,
                               .skip_reduction = true},
                              k);
       }},
      {"mobilenet_v2", 224,
       [](GraphBuilder& b, TensorId x, std::int64_t k) { return zoo::mobilenet_v2(b, x, k); }},
      {"efficientnet_b0", 224,
       [](GraphBuilder& b, TensorId x, std::int64_t k) {
         return zoo::efficientnet(b, x, 1.0, 1.0, k);
       }},
      {"efficientnet_b5", 456,
       [](GraphBuilder& b, TensorId x, std::int64_t k) {
         return zoo::efficientnet(b, x, 1.6, 2.2, k);
       }},
      {"vgg16", 224,
       [](GraphBuilder& b, TensorId x, std::int64_t k) {
         return zoo::vgg(b, x, {2, 2, 3, 3, 3}, k);
       }},
      {"bert_large", 512, nullptr, &kBertLarge},
      {"gpt2_xl", 1024, nullptr, &kGpt2Xl},
      // The Caffe models of the multi-tenant inference experiments (barm).
      {"lenet", 28, zoo::lenet, nullptr, 1, 10},
      {"caffenet", 227, zoo::caffenet},
      {"resnet18", 224, zoo::resnet18},
      {"googlenet", 224, zoo::googlenet},
      {"squeezenet", 227, zoo::squeezenet},
  };
  return kModels;
}

const ModelEntry& lookup(const std::string& name) {
  for (const auto& e : entries())
    if (name == e.name) return e;
  const auto names = model_names();
  throw sim::InputError(fmt::format("unknown model '{}'{}; known: {}", name,
                                    sim::did_you_mean(name, names), fmt::join(names, ", ")));
}

void check_range(const char* what, int value, int lo, int hi) {
  if (value < lo || value > hi)
    throw sim::InputError(
        fmt::format("model option '{}' must be in [{}, {}], got {}", what, lo, hi, value));
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> out;
  for (const auto& e : entries()) out.emplace_back(e.name);
  return out;
}

std::string read_model_name(const sim::Config& item) {
  const std::string m = item.as_string();
  if (is_graph_file_name(m)) {  // the user's own graph, relative to the file that names it
    std::filesystem::path file(m);
    if (file.is_relative() && !item.pos().file.empty() && item.pos().file.front() != '-')
      file = std::filesystem::path(item.pos().file).parent_path() / file;
    if (!sim::is_file(file) && sim::is_file(m)) file = m;  // --set: relative to the working folder
    if (!sim::is_file(file))
      item.fail(fmt::format("no such graph file '{}' (a model is a zoo name or an op-graph "
                            "file: docs/op-graph-format.md)",
                            file.string()));
    return sim::resolved(std::filesystem::absolute(file)).string();
  }
  const auto all = model_names();
  if (std::find(all.begin(), all.end(), m) == all.end())
    item.fail(fmt::format("unknown model '{}'{}; known: {}", m, sim::did_you_mean(m, all),
                          fmt::join(all, ", ")));
  return m;
}

DType read_dtype(const sim::Config& item) {
  DType d = DType::fp32;
  try {
    d = parse_dtype(item.as_string());
  } catch (const sim::InputError& e) {
    item.fail(e.what());
  }
  if (d == DType::int64) item.fail("int64 is an index type, not a model's precision");
  return d;
}

int default_image_size(const std::string& name) {
  return lookup(name).image_size;
}

OpGraph make_model(const std::string& name, const ModelOptions& options) {
  if (is_graph_file_name(name)) return load_graph_model(name, options);
  const ModelEntry& entry = lookup(name);
  // Generous bounds: they exist to turn absurd sizes into errors before allocating anything.
  check_range("batch", options.batch, 1, 1 << 20);
  check_range("image_size", options.image_size, 0, 8192);
  if (options.num_classes) check_range("num_classes", *options.num_classes, 1, 1 << 24);
  const int size = options.image_size == 0 ? entry.image_size : options.image_size;

  GraphBuilder b(name, options.dtype);
  if (entry.transformer) {
    check_range("sequence", options.sequence, 0, 1 << 20);
    const std::int64_t seq = options.sequence == 0 ? entry.image_size : options.sequence;
    const TensorId tokens =
        b.input("tokens", {static_cast<std::int64_t>(options.batch) * seq, entry.transformer->hidden});
    const TensorId logits = zoo::transformer(b, tokens, *entry.transformer);
    OpGraph g = std::move(b.graph());
    g.set_batch(options.batch);
    if (options.training) append_training_step(g, logits);
    return g;
  }
  const TensorId image = b.input("image", {options.batch, entry.channels, size, size});
  const int classes = options.num_classes.value_or(entry.num_classes);
  TensorId logits;
  try {
    logits = entry.build(b, image, classes);
  } catch (const sim::InputError& e) {
    throw sim::InputError(fmt::format("{} at {}x{}: {}", name, size, size, e.what()));
  }
  OpGraph g = std::move(b.graph());
  g.set_batch(options.batch);
  if (options.training) append_training_step(g, logits);
  return g;
}

}  // namespace workloads

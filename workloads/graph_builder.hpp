#pragma once
// Builds forward op graphs layer by layer, so that a model generator reads like the
// architecture table of its paper: each call adds the ops of one layer, creates its parameter
// tensors, infers the output shape and returns the output tensor.
//
// Naming: ops are named "<scope>.<layer>" where scopes nest (`auto s = b.scope("layer1.0")`)
// and a repeated layer name in one scope gets a suffix (conv, conv_1, ...). An op's output
// tensor has the op's name; parameters are "<op>.weight", "<op>.bias", "<op>.gamma", ...
// Shape problems (a window larger than its input) are sim::InputErrors naming the layer, so an
// image size too small for a model is reported at the layer where it stops fitting.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "workloads/op_graph.hpp"

namespace workloads {

class GraphBuilder {
 public:
  using Shape = std::vector<std::int64_t>;

  GraphBuilder(std::string graph_name, DType dtype);

  OpGraph& graph() { return graph_; }
  const OpGraph& graph() const { return graph_; }
  DType dtype() const { return dtype_; }

  // RAII name scope: layers added while it lives are named "<outer>.<name>.<layer>".
  class Scope {
   public:
    Scope(GraphBuilder& b, const std::string& name);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    GraphBuilder& b_;
  };
  [[nodiscard]] Scope scope(const std::string& name) { return Scope(*this, name); }

  TensorId input(const std::string& name, Shape shape);
  const Shape& shape(TensorId t) const { return graph_.tensor(t).shape; }
  std::int64_t channels(TensorId t) const { return shape(t).at(1); }

  // Convolutions. `padding` defaults to "same" for odd kernels (kernel / 2 each side).
  TensorId conv(TensorId x, std::int64_t out_channels, Hw kernel, Hw stride = 1,
                std::optional<Hw> padding = std::nullopt, int groups = 1, bool bias = false);
  TensorId depthwise_conv(TensorId x, Hw kernel, Hw stride = 1,
                          std::optional<Hw> padding = std::nullopt);
  TensorId batch_norm(TensorId x);
  TensorId activation(TensorId x, const std::string& function);
  // The ubiquitous conv (no bias) + batch norm [+ activation] triple; "" means no activation.
  TensorId conv_bn(TensorId x, std::int64_t out_channels, Hw kernel, Hw stride = 1,
                   std::optional<Hw> padding = std::nullopt);
  TensorId conv_bn_act(TensorId x, std::int64_t out_channels, Hw kernel, Hw stride,
                       const std::string& function, std::optional<Hw> padding = std::nullopt);

  TensorId max_pool(TensorId x, Hw kernel, Hw stride, Hw padding = 0);
  TensorId avg_pool(TensorId x, Hw kernel, Hw stride, Hw padding = 0);
  // Global average pool to [N, C] (flattened, for a classifier) or [N, C, 1, 1] (keep_dims).
  TensorId global_avg_pool(TensorId x, bool keep_dims = false);
  // Fully connected layer on [N, in]: weight [out, in], optional bias [out].
  TensorId linear(TensorId x, std::int64_t out_features, bool bias = true);

  TensorId add(const std::vector<TensorId>& xs);
  TensorId add(TensorId a, TensorId b) { return add(std::vector<TensorId>{a, b}); }
  TensorId mul(TensorId a, TensorId b);  // broadcasting, e.g. [N,C,H,W] * [N,C,1,1]
  TensorId concat(const std::vector<TensorId>& xs, int axis = 1);
  TensorId softmax(TensorId x, int axis = 1);

 private:
  std::string layer_name(const std::string& base);
  TensorId param(const std::string& op_name, const std::string& suffix, Shape shape);
  TensorId output(const std::string& op_name, Shape shape);
  // Adds `op` with one new output of `shape` (named after the op) and returns the output.
  TensorId emit(Op op, Shape shape);
  TensorId pool(OpKind kind, const std::string& base, TensorId x, Hw kernel, Hw stride, Hw padding);
  Shape window_shape(const std::string& op_name, const Shape& x, std::int64_t channels, Hw kernel,
                     Hw stride, Hw padding) const;

  OpGraph graph_;
  DType dtype_;
  std::vector<std::string> scopes_;
  std::map<std::string, int> uses_;  // full base name -> times used, for unique suffixes
};

// "Same" padding of an odd kernel: kernel / 2 on each side.
constexpr Hw same_padding(Hw kernel) {
  return {kernel.h / 2, kernel.w / 2};
}

}  // namespace workloads

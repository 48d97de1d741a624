#include "workloads/graph_builder.hpp"

#include <fmt/format.h>

#include "sim/error.hpp"

namespace workloads {

GraphBuilder::GraphBuilder(std::string graph_name, DType dtype)
    : graph_(std::move(graph_name)), dtype_(dtype) {}

GraphBuilder::Scope::Scope(GraphBuilder& b, const std::string& name) : b_(b) {
  b_.scopes_.push_back(name);
}
GraphBuilder::Scope::~Scope() {
  b_.scopes_.pop_back();
}

std::string GraphBuilder::layer_name(const std::string& base) {
  std::string full;
  for (const auto& s : scopes_) full += s + ".";
  full += base;
  const int n = uses_[full]++;
  return n == 0 ? full : fmt::format("{}_{}", full, n);
}

TensorId GraphBuilder::param(const std::string& op_name, const std::string& suffix, Shape shape) {
  return graph_.add_tensor(op_name + "." + suffix, std::move(shape), dtype_, true);
}

TensorId GraphBuilder::output(const std::string& op_name, Shape shape) {
  return graph_.add_tensor(op_name, std::move(shape), dtype_, false);
}

TensorId GraphBuilder::emit(Op op, Shape shape) {
  const TensorId y = output(op.name, std::move(shape));
  op.outputs = {y};
  graph_.add_op(std::move(op));
  return y;
}

TensorId GraphBuilder::input(const std::string& name, Shape shape) {
  return graph_.add_tensor(name, std::move(shape), dtype_, false);
}

GraphBuilder::Shape GraphBuilder::window_shape(const std::string& op_name, const Shape& x,
                                               std::int64_t channels, Hw kernel, Hw stride,
                                               Hw padding) const {
  if (x.size() != 4)
    throw sim::InputError(fmt::format("{}: expects an NCHW input, got {}", op_name, shape_str(x)));
  const std::int64_t p = window_output(x[2], kernel.h, stride.h, padding.h, 1);
  const std::int64_t q = window_output(x[3], kernel.w, stride.w, padding.w, 1);
  if (p < 1 || q < 1)
    throw sim::InputError(fmt::format(
        "{}: the {}x{} input is too small for a {}x{} window with padding {}x{} (input image "
        "too small for this model?)",
        op_name, x[2], x[3], kernel.h, kernel.w, padding.h, padding.w));
  return {x[0], channels, p, q};
}

TensorId GraphBuilder::conv(TensorId x, std::int64_t out_channels, Hw kernel, Hw stride,
                            std::optional<Hw> padding, int groups, bool bias) {
  const std::string name = layer_name("conv");
  const Hw pad = padding.value_or(same_padding(kernel));
  const Shape y = window_shape(name, shape(x), out_channels, kernel, stride, pad);
  Op op;
  op.name = name;
  op.kind = OpKind::conv;
  op.kernel = kernel;
  op.stride = stride;
  op.padding = pad;
  op.groups = groups;
  op.inputs = {x, param(name, "weight", {out_channels, channels(x) / groups, kernel.h, kernel.w})};
  if (bias) op.inputs.push_back(param(name, "bias", {out_channels}));
  return emit(std::move(op), y);
}

TensorId GraphBuilder::depthwise_conv(TensorId x, Hw kernel, Hw stride, std::optional<Hw> padding) {
  const std::string name = layer_name("dwconv");
  const Hw pad = padding.value_or(same_padding(kernel));
  const Shape y = window_shape(name, shape(x), channels(x), kernel, stride, pad);
  Op op;
  op.name = name;
  op.kind = OpKind::depthwise_conv;
  op.kernel = kernel;
  op.stride = stride;
  op.padding = pad;
  op.groups = static_cast<int>(channels(x));
  op.inputs = {x, param(name, "weight", {channels(x), 1, kernel.h, kernel.w})};
  return emit(std::move(op), y);
}

TensorId GraphBuilder::batch_norm(TensorId x) {
  const std::string name = layer_name("bn");
  const std::int64_t c = channels(x);
  Op op;
  op.name = name;
  op.kind = OpKind::batch_norm;
  // Running statistics are state, not trained parameters (frameworks count only gamma, beta).
  op.inputs = {x, param(name, "gamma", {c}), param(name, "beta", {c}),
               graph_.add_tensor(name + ".running_mean", {c}, dtype_, false),
               graph_.add_tensor(name + ".running_var", {c}, dtype_, false)};
  return emit(std::move(op), shape(x));
}

TensorId GraphBuilder::activation(TensorId x, const std::string& function) {
  const std::string name = layer_name(function);
  Op op;
  op.name = name;
  op.kind = OpKind::activation;
  op.function = function;
  op.inputs = {x};
  return emit(std::move(op), shape(x));
}

TensorId GraphBuilder::conv_bn(TensorId x, std::int64_t out_channels, Hw kernel, Hw stride,
                               std::optional<Hw> padding) {
  return batch_norm(conv(x, out_channels, kernel, stride, padding));
}

TensorId GraphBuilder::conv_bn_act(TensorId x, std::int64_t out_channels, Hw kernel, Hw stride,
                                   const std::string& function, std::optional<Hw> padding) {
  const TensorId y = conv_bn(x, out_channels, kernel, stride, padding);
  return function.empty() ? y : activation(y, function);
}

TensorId GraphBuilder::pool(OpKind kind, const std::string& base, TensorId x, Hw kernel, Hw stride,
                            Hw padding) {
  const std::string name = layer_name(base);
  Op op;
  op.name = name;
  op.kind = kind;
  op.kernel = kernel;
  op.stride = stride;
  op.padding = padding;
  op.inputs = {x};
  return emit(std::move(op), window_shape(name, shape(x), channels(x), kernel, stride, padding));
}

TensorId GraphBuilder::max_pool(TensorId x, Hw kernel, Hw stride, Hw padding) {
  return pool(OpKind::pool_max, "maxpool", x, kernel, stride, padding);
}

TensorId GraphBuilder::avg_pool(TensorId x, Hw kernel, Hw stride, Hw padding) {
  return pool(OpKind::pool_avg, "avgpool", x, kernel, stride, padding);
}

TensorId GraphBuilder::global_avg_pool(TensorId x, bool keep_dims) {
  const std::string name = layer_name("gap");
  const Shape s = shape(x);
  Op op;
  op.name = name;
  op.kind = OpKind::global_pool;
  op.function = "avg";
  op.inputs = {x};
  return emit(std::move(op), keep_dims ? Shape{s[0], s[1], 1, 1} : Shape{s[0], s[1]});
}

TensorId GraphBuilder::linear(TensorId x, std::int64_t out_features, bool bias) {
  const std::string name = layer_name("fc");
  const Shape s = shape(x);  // a copy: adding the weight may move the tensor list
  if (s.size() != 2)
    throw sim::InputError(
        fmt::format("{}: expects an [N, features] input, got {}", name, shape_str(s)));
  Op op;
  op.name = name;
  op.kind = OpKind::gemm;
  op.transpose_b = true;  // y = x W^T with W [out, in]
  op.inputs = {x, param(name, "weight", {out_features, s[1]})};
  if (bias) op.inputs.push_back(param(name, "bias", {out_features}));
  return emit(std::move(op), {s[0], out_features});
}

TensorId GraphBuilder::add(const std::vector<TensorId>& xs) {
  const std::string name = layer_name("add");
  Shape s = shape(xs.at(0));
  for (std::size_t i = 1; i < xs.size(); ++i) {
    auto b = broadcast_shapes(s, shape(xs[i]));
    if (!b)
      throw sim::InputError(fmt::format("{}: shapes {} and {} do not broadcast", name, shape_str(s),
                                        shape_str(shape(xs[i]))));
    s = *b;
  }
  Op op;
  op.name = name;
  op.kind = OpKind::elementwise;
  op.function = "add";
  op.inputs = xs;
  return emit(std::move(op), s);
}

TensorId GraphBuilder::mul(TensorId a, TensorId b) {
  const std::string name = layer_name("mul");
  auto s = broadcast_shapes(shape(a), shape(b));
  if (!s)
    throw sim::InputError(fmt::format("{}: shapes {} and {} do not broadcast", name,
                                      shape_str(shape(a)), shape_str(shape(b))));
  Op op;
  op.name = name;
  op.kind = OpKind::elementwise;
  op.function = "mul";
  op.inputs = {a, b};
  return emit(std::move(op), *s);
}

TensorId GraphBuilder::concat(const std::vector<TensorId>& xs, int axis) {
  const std::string name = layer_name("concat");
  Shape s = shape(xs.at(0));
  const auto ax = static_cast<std::size_t>(axis);
  for (std::size_t i = 1; i < xs.size(); ++i) {
    const Shape& p = shape(xs[i]);
    Shape a = p, b = s;
    if (p.size() != s.size() || ax >= s.size() || (a[ax] = 0, b[ax] = 0, a != b))
      throw sim::InputError(fmt::format("{}: cannot join {} and {} along axis {}", name,
                                        shape_str(s), shape_str(p), axis));
    s[ax] += p[ax];
  }
  Op op;
  op.name = name;
  op.kind = OpKind::concat;
  op.axis = axis;
  op.inputs = xs;
  return emit(std::move(op), s);
}

TensorId GraphBuilder::softmax(TensorId x, int axis) {
  const std::string name = layer_name("softmax");
  Op op;
  op.name = name;
  op.kind = OpKind::softmax;
  op.axis = axis;
  op.inputs = {x};
  return emit(std::move(op), shape(x));
}

}  // namespace workloads

#include "workloads/op_semantics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace workloads {

using Shape = std::vector<std::int64_t>;

const std::vector<std::string>& op_functions(OpKind k) {
  static const std::vector<std::string> none;
  static const std::vector<std::string> activation{"relu", "relu6", "silu",    "sigmoid",
                                                   "tanh", "gelu",  "identity"};
  // lt / le / eq compare (1 where true, 0 elsewhere, in the output's dtype, as a tensor
  // program casts the mask for the next GEMM); where(cond, a, b) selects.
  static const std::vector<std::string> elementwise{"add", "sub", "mul", "div", "max",
                                                    "min", "neg", "lt",  "le",  "eq",
                                                    "where"};
  static const std::vector<std::string> global_pool{"avg", "max"};
  static const std::vector<std::string> reduction{"sum", "mean", "max", "cross_entropy"};
  static const std::vector<std::string> optimizer{"sgd_momentum", "sgd", "adam"};
  // take: rows of the table by index (embedding lookup, index_select); along: torch.gather.
  static const std::vector<std::string> gather{"take", "along"};
  switch (k) {
    case OpKind::activation:
      return activation;
    case OpKind::elementwise:
      return elementwise;
    case OpKind::global_pool:
      return global_pool;
    case OpKind::reduction:
      return reduction;
    case OpKind::optimizer_update:
      return optimizer;
    case OpKind::gather:
      return gather;
    default:
      return none;
  }
}

int optimizer_state_count(const std::string& function) {
  if (function == "sgd") return 0;
  if (function == "adam") return 2;
  return 1;  // sgd_momentum
}

namespace {

std::int64_t product(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// Per-element operation counts for the non-GEMM kinds. They only need to be plausible: these
// kinds are memory-bound, and cost models price them by bytes.
std::int64_t activation_flops_per_element(const std::string& f) {
  if (f == "relu" || f == "identity") return 1;
  if (f == "relu6") return 2;
  if (f == "sigmoid") return 4;
  if (f == "silu" || f == "tanh") return 5;
  return 8;  // gelu (tanh approximation)
}

std::int64_t optimizer_flops_per_element(const std::string& f) {
  if (f == "sgd") return 2;    // p -= lr * g
  if (f == "adam") return 12;  // two moments, bias correction, sqrt, divide
  return 4;                    // v = mu * v + g; p -= lr * v
}

// The tensors of a windowed op (conv or pool) in forward roles, whatever the pass.
struct WindowRoles {
  const Shape* x = nullptr;  // [N, C, H, W]
  const Shape* w = nullptr;  // [K, C/g, R, S] (conv kinds only)
  const Shape* y = nullptr;  // [N, K, P, Q]
  const Shape* bias = nullptr;
};

class Checker {
 public:
  Checker(const OpGraph& g, const Op& op) : g_(g), op_(op) {}

  std::optional<std::string> run();

 private:
  const Shape& in(std::size_t i) const { return g_.tensor(op_.inputs[i]).shape; }
  const Shape& out(std::size_t i) const { return g_.tensor(op_.outputs[i]).shape; }

  // Arity checks: "takes 2 to 3 inputs, got 1".
  std::optional<std::string> counts(std::size_t in_lo, std::size_t in_hi, std::size_t out_lo,
                                    std::size_t out_hi) const {
    auto range = [](std::size_t lo, std::size_t hi) {
      return lo == hi ? fmt::format("{}", lo) : fmt::format("{} to {}", lo, hi);
    };
    const std::string pass =
        op_.pass == Pass::fprop ? "" : fmt::format(" ({})", pass_name(op_.pass));
    if (op_.inputs.size() < in_lo || op_.inputs.size() > in_hi)
      return fmt::format("takes {} input(s){}, got {}", range(in_lo, in_hi), pass,
                         op_.inputs.size());
    if (op_.outputs.size() < out_lo || op_.outputs.size() > out_hi)
      return fmt::format("takes {} output(s){}, got {}", range(out_lo, out_hi), pass,
                         op_.outputs.size());
    return std::nullopt;
  }
  static std::string mismatch(std::string_view what, const Shape& got, const Shape& want) {
    return fmt::format("{} has shape {}, expected {}", what, shape_str(got), shape_str(want));
  }
  std::optional<std::string> passes(std::initializer_list<Pass> allowed) const {
    if (std::find(allowed.begin(), allowed.end(), op_.pass) != allowed.end()) return std::nullopt;
    return fmt::format("pass '{}' is not defined for this kind", pass_name(op_.pass));
  }

  std::optional<std::string> window_attrs() const;
  std::optional<std::string> conv();
  std::optional<std::string> gemm();
  std::optional<std::string> pool();
  std::optional<std::string> global_pool();
  std::optional<std::string> batch_norm();
  std::optional<std::string> same_shape_unary();  // activation, softmax
  std::optional<std::string> elementwise();
  std::optional<std::string> concat();
  std::optional<std::string> reduction();
  std::optional<std::string> optimizer();
  std::optional<std::string> gather();

  const OpGraph& g_;
  const Op& op_;
};

std::optional<std::string> Checker::run() {
  const auto& fns = op_functions(op_.kind);
  if (fns.empty()) {
    if (!op_.function.empty())
      return fmt::format("kind '{}' takes no function, got '{}'", op_kind_name(op_.kind),
                         op_.function);
  } else if (std::find(fns.begin(), fns.end(), op_.function) == fns.end()) {
    return fmt::format("unknown function '{}'; known: {}", op_.function, fmt::join(fns, ", "));
  }
  switch (op_.kind) {
    case OpKind::conv:
    case OpKind::depthwise_conv:
      return conv();
    case OpKind::gemm:
      return gemm();
    case OpKind::pool_max:
    case OpKind::pool_avg:
      return pool();
    case OpKind::global_pool:
      return global_pool();
    case OpKind::batch_norm:
      return batch_norm();
    case OpKind::activation:
    case OpKind::softmax:
      return same_shape_unary();
    case OpKind::elementwise:
      return elementwise();
    case OpKind::concat:
      return concat();
    case OpKind::reduction:
      return reduction();
    case OpKind::optimizer_update:
      return optimizer();
    case OpKind::gather:
      return gather();
  }
  return "unknown op kind";
}

std::optional<std::string> Checker::window_attrs() const {
  struct Attr {
    const char* name;
    Hw value;
    int min;
  };
  for (const Attr& a : {Attr{"kernel", op_.kernel, 1}, Attr{"stride", op_.stride, 1},
                        Attr{"padding", op_.padding, 0}, Attr{"dilation", op_.dilation, 1}})
    if (a.value.h < a.min || a.value.w < a.min)
      return fmt::format("{} must be >= {}, got {}x{}", a.name, a.min, a.value.h, a.value.w);
  if (op_.groups < 1) return fmt::format("groups must be >= 1, got {}", op_.groups);
  return std::nullopt;
}

// Checks x, w and y against each other, whichever pass produced which.
std::optional<std::string> Checker::conv() {
  if (auto e = window_attrs()) return e;
  WindowRoles r;
  switch (op_.pass) {
    case Pass::fprop:
      if (auto e = counts(2, 3, 1, 1)) return e;
      r = {&in(0), &in(1), &out(0), op_.inputs.size() > 2 ? &in(2) : nullptr};
      break;
    case Pass::dgrad:  // (dy, w) -> dx
      if (auto e = counts(2, 2, 1, 1)) return e;
      r = {&out(0), &in(1), &in(0), nullptr};
      break;
    case Pass::wgrad:  // (x, dy) -> dw
      if (auto e = counts(2, 2, 1, 1)) return e;
      r = {&in(0), &out(0), &in(1), nullptr};
      break;
  }
  const Shape &x = *r.x, &w = *r.w, &y = *r.y;
  if (x.size() != 4) return fmt::format("input activation must be NCHW, got {}", shape_str(x));
  if (w.size() != 4) return fmt::format("weight must be [K, C/groups, R, S], got {}", shape_str(w));
  if (y.size() != 4) return fmt::format("output activation must be NCHW, got {}", shape_str(y));
  const std::int64_t c = x[1], k = w[0];
  const std::int64_t groups = op_.kind == OpKind::depthwise_conv ? c : op_.groups;
  if (op_.kind == OpKind::depthwise_conv && op_.groups != 1 && op_.groups != c)
    return fmt::format("groups is implied (= input channels {}), got {}", c, op_.groups);
  if (c % groups != 0 || k % groups != 0)
    return fmt::format("{} input and {} output channels do not divide into {} groups", c, k,
                       groups);
  if (w[1] != c / groups || w[2] != op_.kernel.h || w[3] != op_.kernel.w)
    return mismatch("weight", w, {k, c / groups, op_.kernel.h, op_.kernel.w});
  const Shape want_y{
      x[0], k, window_output(x[2], op_.kernel.h, op_.stride.h, op_.padding.h, op_.dilation.h),
      window_output(x[3], op_.kernel.w, op_.stride.w, op_.padding.w, op_.dilation.w)};
  if (want_y[2] < 1 || want_y[3] < 1)
    return fmt::format("a {}x{} window does not fit the {}x{} input", op_.kernel.h, op_.kernel.w,
                       x[2], x[3]);
  if (y != want_y) return mismatch("output activation", y, want_y);
  if (r.bias && *r.bias != Shape{k}) return mismatch("bias", *r.bias, {k});
  return std::nullopt;
}

// Y[..., M, N] = op(A)[..., M, K] op(B)[..., K, N]; B may lack the batch dims (a weight).
std::optional<std::string> Checker::gemm() {
  if (auto e = counts(2, op_.pass == Pass::fprop ? 3 : 2, 1, 1)) return e;
  const Shape &a = in(0), &b = in(1), &y = out(0);
  if (a.size() < 2 || b.size() < 2 || y.size() < 2)
    return fmt::format("operands must have rank >= 2, got {} x {} -> {}", shape_str(a),
                       shape_str(b), shape_str(y));
  const std::size_t ra = a.size(), rb = b.size();
  const std::int64_t m = op_.transpose_a ? a[ra - 1] : a[ra - 2];
  const std::int64_t ka = op_.transpose_a ? a[ra - 2] : a[ra - 1];
  const std::int64_t kb = op_.transpose_b ? b[rb - 1] : b[rb - 2];
  const std::int64_t n = op_.transpose_b ? b[rb - 2] : b[rb - 1];
  if (ka != kb)
    return fmt::format("inner dimensions differ: {} x {} (transpose_a {}, transpose_b {})",
                       shape_str(a), shape_str(b), op_.transpose_a, op_.transpose_b);
  // A rank-2 operand is broadcast over the other's batch dimensions (torch.matmul).
  const Shape& batched = ra >= rb ? a : b;
  const Shape batch(batched.begin(), batched.end() - 2);
  if (ra != 2 && rb != 2 && Shape(b.begin(), b.end() - 2) != Shape(a.begin(), a.end() - 2))
    return fmt::format("batch dimensions differ: {} x {}", shape_str(a), shape_str(b));
  Shape want = batch;
  want.push_back(m);
  want.push_back(n);
  if (y != want) return mismatch("output", y, want);
  if (op_.inputs.size() > 2 && in(2) != Shape{n}) return mismatch("bias", in(2), {n});
  return std::nullopt;
}

std::optional<std::string> Checker::pool() {
  if (auto e = passes({Pass::fprop, Pass::dgrad})) return e;
  if (auto e = window_attrs()) return e;
  if (op_.groups != 1) return "pools take no groups";
  const bool fwd = op_.pass == Pass::fprop;
  if (auto e = fwd ? counts(1, 1, 1, 1) : counts(1, 2, 1, 1)) return e;
  const Shape& x = fwd ? in(0) : out(0);
  const Shape& y = fwd ? out(0) : in(0);
  if (x.size() != 4) return fmt::format("input must be NCHW, got {}", shape_str(x));
  const Shape want{x[0], x[1],
                   window_output(x[2], op_.kernel.h, op_.stride.h, op_.padding.h, op_.dilation.h),
                   window_output(x[3], op_.kernel.w, op_.stride.w, op_.padding.w, op_.dilation.w)};
  if (want[2] < 1 || want[3] < 1)
    return fmt::format("a {}x{} window does not fit the {}x{} input", op_.kernel.h, op_.kernel.w,
                       x[2], x[3]);
  if (y != want) return mismatch("output", y, want);
  if (!fwd && op_.inputs.size() == 2 && in(1) != x) return mismatch("saved input", in(1), x);
  return std::nullopt;
}

std::optional<std::string> Checker::global_pool() {
  if (auto e = passes({Pass::fprop, Pass::dgrad})) return e;
  if (auto e = counts(1, op_.pass == Pass::fprop ? 1 : 2, 1, 1)) return e;
  const bool fwd = op_.pass == Pass::fprop;
  const Shape& x = fwd ? in(0) : out(0);
  const Shape& y = fwd ? out(0) : in(0);
  if (x.size() != 4) return fmt::format("input must be NCHW, got {}", shape_str(x));
  if (y != Shape{x[0], x[1], 1, 1} && y != Shape{x[0], x[1]})
    return mismatch("output", y, {x[0], x[1], 1, 1});
  return std::nullopt;
}

std::optional<std::string> Checker::batch_norm() {
  if (auto e = passes({Pass::fprop, Pass::dgrad})) return e;
  if (op_.pass == Pass::fprop) {
    if (op_.inputs.size() != 3 && op_.inputs.size() != 5)
      return fmt::format(
          "takes x, gamma, beta [, running mean, running var]: 3 or 5 inputs, "
          "got {}",
          op_.inputs.size());
    if (auto e = counts(3, 5, 1, 1)) return e;
  } else if (auto e = counts(3, 3, 3, 3)) {  // (dy, x, gamma) -> (dx, dgamma, dbeta)
    return e;
  }
  const Shape& x = in(op_.pass == Pass::fprop ? 0 : 1);
  if (x.size() < 2) return fmt::format("input must have a channel axis, got {}", shape_str(x));
  const Shape per_channel{x[1]};
  if (op_.pass == Pass::fprop) {
    for (std::size_t i = 1; i < op_.inputs.size(); ++i)
      if (in(i) != per_channel) return mismatch(fmt::format("input {}", i), in(i), per_channel);
    if (out(0) != x) return mismatch("output", out(0), x);
  } else {
    if (in(0) != x) return mismatch("output gradient", in(0), x);
    if (in(2) != per_channel) return mismatch("gamma", in(2), per_channel);
    if (out(0) != x) return mismatch("input gradient", out(0), x);
    if (out(1) != per_channel) return mismatch("gamma gradient", out(1), per_channel);
    if (out(2) != per_channel) return mismatch("beta gradient", out(2), per_channel);
  }
  return std::nullopt;
}

std::optional<std::string> Checker::same_shape_unary() {
  if (auto e = passes({Pass::fprop, Pass::dgrad})) return e;
  if (auto e = op_.pass == Pass::fprop ? counts(1, 1, 1, 1) : counts(2, 2, 1, 1)) return e;
  const Shape& x = in(0);
  if (op_.kind == OpKind::softmax && (op_.axis < 0 || op_.axis >= static_cast<int>(x.size())))
    return fmt::format("axis {} is out of range for {}", op_.axis, shape_str(x));
  for (std::size_t i = 1; i < op_.inputs.size(); ++i)
    if (in(i) != x) return mismatch(fmt::format("input {}", i), in(i), x);
  if (out(0) != x) return mismatch("output", out(0), x);
  return std::nullopt;
}

std::optional<std::string> Checker::elementwise() {
  if (auto e = passes({Pass::fprop})) return e;
  const std::string& f = op_.function;
  const bool binary = f == "sub" || f == "div" || f == "lt" || f == "le" || f == "eq";
  const std::size_t lo = f == "neg" ? 1 : f == "where" ? 3 : 2;
  const std::size_t hi = f == "neg" ? 1 : binary ? 2 : f == "where" ? 3 : 64;
  if (auto e = counts(lo, hi, 1, 1)) return e;
  Shape want = in(0);
  for (std::size_t i = 1; i < op_.inputs.size(); ++i) {
    auto b = broadcast_shapes(want, in(i));
    if (!b)
      return fmt::format("shapes {} and {} do not broadcast", shape_str(want), shape_str(in(i)));
    want = *b;
  }
  if (out(0) != want) return mismatch("output", out(0), want);
  return std::nullopt;
}

std::optional<std::string> Checker::concat() {
  if (auto e = passes({Pass::fprop, Pass::dgrad})) return e;
  const bool fwd = op_.pass == Pass::fprop;
  if (auto e = fwd ? counts(1, 1 << 20, 1, 1) : counts(1, 1, 1, 1 << 20)) return e;
  const Shape& whole = fwd ? out(0) : in(0);
  const std::size_t parts = fwd ? op_.inputs.size() : op_.outputs.size();
  auto part = [&](std::size_t i) -> const Shape& { return fwd ? in(i) : out(i); };
  if (op_.axis < 0 || op_.axis >= static_cast<int>(whole.size()))
    return fmt::format("axis {} is out of range for {}", op_.axis, shape_str(whole));
  const auto ax = static_cast<std::size_t>(op_.axis);
  Shape want = part(0);
  want[ax] = 0;
  for (std::size_t i = 0; i < parts; ++i) {
    const Shape& p = part(i);
    Shape a = p, b = whole;
    if (p.size() != whole.size() || (a[ax] = 0, b[ax] = 0, a != b))
      return fmt::format("part {} {} does not match {} outside axis {}", i, shape_str(p),
                         shape_str(whole), op_.axis);
    want[ax] += p[ax];
  }
  if (whole != want) return mismatch(fwd ? "output" : "gradient", whole, want);
  return std::nullopt;
}

std::optional<std::string> Checker::reduction() {
  if (auto e = passes({Pass::fprop, Pass::dgrad})) return e;
  const std::size_t arity = op_.function == "cross_entropy" ? 2 : 1;
  const bool fwd = op_.pass == Pass::fprop;
  if (auto e = fwd ? counts(arity, arity, 1, 1) : counts(1, 1 + arity, 1, 1)) return e;
  const Shape& x = fwd ? in(0) : out(0);
  const Shape& y = fwd ? out(0) : in(0);
  if (fwd)
    for (std::size_t i = 1; i < op_.inputs.size(); ++i)
      if (in(i) != x) return mismatch(fmt::format("input {}", i), in(i), x);
  std::vector<bool> reduced(x.size(), op_.axes.empty());
  for (int a : op_.axes) {
    if (a < 0 || a >= static_cast<int>(x.size()))
      return fmt::format("axis {} is out of range for {}", a, shape_str(x));
    if (reduced[static_cast<std::size_t>(a)]) return fmt::format("axis {} is listed twice", a);
    reduced[static_cast<std::size_t>(a)] = true;
  }
  Shape want;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!reduced[i])
      want.push_back(x[i]);
    else if (op_.keep_dims)
      want.push_back(1);
  }
  if (y != want) return mismatch(fwd ? "output" : "output gradient", y, want);
  return std::nullopt;
}

std::optional<std::string> Checker::optimizer() {
  if (auto e = passes({Pass::fprop})) return e;
  const auto states = static_cast<std::size_t>(optimizer_state_count(op_.function));
  const std::size_t per_in = 2 + states, per_out = 1 + states;
  if (op_.inputs.empty() || op_.inputs.size() % per_in != 0)
    return fmt::format("'{}' takes (param, grad{}) groups: a multiple of {} inputs, got {}",
                       op_.function, states ? ", states..." : "", per_in, op_.inputs.size());
  const std::size_t groups = op_.inputs.size() / per_in;
  if (op_.outputs.size() != groups * per_out)
    return fmt::format("{} parameter group(s) give {} outputs (param{}), got {}", groups,
                       groups * per_out, states ? ", states..." : "", op_.outputs.size());
  for (std::size_t gi = 0; gi < groups; ++gi) {
    const Shape& p = in(gi * per_in);
    for (std::size_t i = 1; i < per_in; ++i)
      if (in(gi * per_in + i) != p)
        return mismatch(fmt::format("input {}", gi * per_in + i), in(gi * per_in + i), p);
    for (std::size_t i = 0; i < per_out; ++i)
      if (out(gi * per_out + i) != p)
        return mismatch(fmt::format("output {}", gi * per_out + i), out(gi * per_out + i), p);
  }
  return std::nullopt;
}

std::optional<std::string> Checker::gather() {
  if (auto e = passes({Pass::fprop})) return e;
  if (auto e = counts(2, 2, 1, 1)) return e;
  const Shape &table = in(0), &idx = in(1), &y = out(0);
  if (g_.tensor(op_.inputs[1]).dtype != DType::int64)
    return fmt::format("indices must be int64, got {}",
                       dtype_name(g_.tensor(op_.inputs[1]).dtype));
  if (g_.tensor(op_.outputs[0]).dtype != g_.tensor(op_.inputs[0]).dtype)
    return "output dtype differs from the table's";
  if (table.empty()) return "the table must have rank >= 1";
  if (op_.function == "take") {  // y = table[idx]: the indices' shape, then a row's
    Shape want = idx;
    want.insert(want.end(), table.begin() + 1, table.end());
    if (y != want) return mismatch("output", y, want);
    return std::nullopt;
  }
  if (y != idx) return mismatch("output", y, idx);
  if (table.size() != idx.size())
    return fmt::format("gather along an axis takes indices of the table's rank {}, got {}",
                       table.size(), shape_str(idx));
  const int rank = static_cast<int>(table.size());
  if (op_.axis < 0 || op_.axis >= rank)
    return fmt::format("axis {} out of range for rank {}", op_.axis, rank);
  for (int d = 0; d < rank; ++d)
    if (d != op_.axis && idx[static_cast<std::size_t>(d)] > table[static_cast<std::size_t>(d)])
      return fmt::format("indices {} exceed the table {} along axis {}", shape_str(idx),
                         shape_str(table), d);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_op_shapes(const OpGraph& g, const Op& op) {
  return Checker(g, op).run();
}

std::int64_t op_flops(const OpGraph& g, const Op& op) {
  auto in = [&](std::size_t i) -> const Shape& { return g.tensor(op.inputs[i]).shape; };
  auto out = [&](std::size_t i) -> const Shape& { return g.tensor(op.outputs[i]).shape; };
  const bool fwd = op.pass == Pass::fprop;
  switch (op.kind) {
    case OpKind::conv:
    case OpKind::depthwise_conv: {
      // The same N*K*P*Q*(C/g)*R*S multiply-adds in every pass, with roles swapped.
      const Shape& w = op.pass == Pass::wgrad ? out(0) : in(1);
      const Shape& y = op.pass == Pass::fprop ? out(0) : op.pass == Pass::dgrad ? in(0) : in(1);
      std::int64_t f = 2 * product(y) * w[1] * w[2] * w[3];
      if (fwd && op.inputs.size() > 2) f += product(y);
      return f;
    }
    case OpKind::gemm: {
      const Shape& a = in(0);
      const std::int64_t k = op.transpose_a ? a[a.size() - 2] : a[a.size() - 1];
      return 2 * product(out(0)) * k + (op.inputs.size() > 2 ? product(out(0)) : 0);
    }
    case OpKind::pool_max:
    case OpKind::pool_avg:
      return product(fwd ? out(0) : in(0)) * op.kernel.h * op.kernel.w;
    case OpKind::global_pool:
      return product(fwd ? in(0) : out(0));
    case OpKind::batch_norm:
      return (fwd ? 4 : 8) * product(fwd ? in(0) : in(1));
    case OpKind::activation:
      return (activation_flops_per_element(op.function) + (fwd ? 0 : 1)) * product(out(0));
    case OpKind::elementwise:
      return std::max<std::int64_t>(1, op.arity() - 1) * product(out(0));
    case OpKind::concat:
      return 0;
    case OpKind::softmax:
      return (fwd ? 5 : 3) * product(out(0));
    case OpKind::reduction:
      return fwd ? op.arity() * product(in(0)) : product(out(0));
    case OpKind::gather:
      return 0;  // address arithmetic only
    case OpKind::optimizer_update: {
      const std::size_t per_in = 2 + static_cast<std::size_t>(optimizer_state_count(op.function));
      std::int64_t elems = 0;
      for (std::size_t i = 0; i < op.inputs.size(); i += per_in) elems += product(in(i));
      return optimizer_flops_per_element(op.function) * elems;
    }
  }
  return 0;
}

}  // namespace workloads

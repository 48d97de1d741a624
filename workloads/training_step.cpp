#include "workloads/training_step.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sim/error.hpp"
#include "sim/nearest.hpp"
#include "workloads/op_semantics.hpp"

namespace workloads {

namespace {

using Shape = std::vector<std::int64_t>;

class TrainingStepBuilder {
 public:
  TrainingStepBuilder(OpGraph& g, const TrainingOptions& opt) : g_(g), opt_(opt) {}

  void run(TensorId logits);

 private:
  // Helpers for adding tensors and ops with names that cannot clash with the forward graph.
  std::string unique_tensor_name(const std::string& base) const;
  std::string unique_op_name(const std::string& base) const;
  TensorId fresh(const std::string& name, const Shape& shape, DType dtype);
  TensorId like(const std::string& name, TensorId t) {
    return fresh(name, g_.tensor(t).shape, g_.tensor(t).dtype);
  }
  // Adds `op` in `phase` with one new output per entry of `outputs` (name suffix, shape-of
  // tensor), named "<op name>" for a single output and "<op name>.<suffix>" otherwise.
  std::vector<TensorId> emit(Op op, Phase phase,
                             const std::vector<std::pair<std::string, TensorId>>& outputs);
  TensorId emit1(Op op, TensorId shaped_like) {
    return emit(std::move(op), Phase::backward, {{"", shaped_like}}).front();
  }

  bool needs(TensorId t) const {
    return static_cast<std::size_t>(t) < needs_.size() && needs_[static_cast<std::size_t>(t)];
  }
  void contribute(TensorId t, TensorId grad) {
    if (static_cast<std::size_t>(t) >= grads_.size()) grads_.resize(g_.tensor_count());
    grads_[static_cast<std::size_t>(t)].push_back(grad);
  }
  // The gradient of `t`: its one contribution, or their sum (added now, once).
  std::optional<TensorId> grad_of(TensorId t);
  // Sums `grad` (shaped like the op output) down to `target`'s shape over broadcast axes.
  TensorId reduce_to(TensorId grad, TensorId target, const std::string& name);

  void loss(TensorId logits);
  void backward(const Op& fwd, TensorId dy);
  void backward_elementwise(const Op& fwd, TensorId dy);
  void backward_gemm(const Op& fwd, TensorId dy);
  void optimizer();

  [[noreturn]] void no_rule(const Op& fwd) const {
    throw sim::InputError(fmt::format("op '{}' ({}{}{}): no gradient rule", fwd.name,
                                      op_kind_name(fwd.kind), fwd.function.empty() ? "" : " ",
                                      fwd.function));
  }

  OpGraph& g_;
  const TrainingOptions& opt_;
  std::vector<bool> needs_;                   // per forward tensor: on a path from a parameter
  std::vector<std::vector<TensorId>> grads_;  // per tensor: gradient contributions
};

std::string TrainingStepBuilder::unique_tensor_name(const std::string& base) const {
  std::string name = base;
  for (int i = 1; g_.find_tensor(name); ++i) name = fmt::format("{}_{}", base, i);
  return name;
}

std::string TrainingStepBuilder::unique_op_name(const std::string& base) const {
  std::string name = base;
  for (int i = 1; g_.find_op(name); ++i) name = fmt::format("{}_{}", base, i);
  return name;
}

TensorId TrainingStepBuilder::fresh(const std::string& name, const Shape& shape, DType dtype) {
  return g_.add_tensor(unique_tensor_name(name), shape, dtype, false);
}

std::vector<TensorId> TrainingStepBuilder::emit(
    Op op, Phase phase, const std::vector<std::pair<std::string, TensorId>>& outputs) {
  op.name = unique_op_name(op.name);
  op.phase = phase;
  op.deps.clear();
  std::vector<TensorId> made;
  for (const auto& [suffix, shaped] : outputs)
    made.push_back(like(outputs.size() == 1 ? op.name : op.name + "." + suffix, shaped));
  op.outputs = made;
  g_.add_op(std::move(op));
  return made;
}

std::optional<TensorId> TrainingStepBuilder::grad_of(TensorId t) {
  if (static_cast<std::size_t>(t) >= grads_.size()) return std::nullopt;
  auto& c = grads_[static_cast<std::size_t>(t)];
  if (c.empty()) return std::nullopt;
  if (c.size() > 1) {  // a branch point: its consumers' gradients add up
    Op sum;
    sum.name = g_.tensor(t).name + ".grad_sum";
    sum.kind = OpKind::elementwise;
    sum.function = "add";
    sum.inputs = c;
    const TensorId s = emit1(std::move(sum), t);
    grads_[static_cast<std::size_t>(t)] = {s};
  }
  return grads_[static_cast<std::size_t>(t)].front();
}

TensorId TrainingStepBuilder::reduce_to(TensorId grad, TensorId target, const std::string& name) {
  const Shape& gs = g_.tensor(grad).shape;
  const Shape& ts = g_.tensor(target).shape;
  if (gs == ts) return grad;
  if (gs.size() != ts.size())
    throw sim::InputError(fmt::format("{}: no gradient rule for a broadcast from {} to {}", name,
                                      shape_str(ts), shape_str(gs)));
  Op r;
  r.name = name;
  r.kind = OpKind::reduction;
  r.function = "sum";
  r.keep_dims = true;
  for (std::size_t i = 0; i < gs.size(); ++i)
    if (ts[i] == 1 && gs[i] != 1) r.axes.push_back(static_cast<int>(i));
  r.inputs = {grad};
  return emit1(std::move(r), target);
}

void TrainingStepBuilder::loss(TensorId logits) {
  const Tensor l = g_.tensor(logits);  // a copy: adding tensors may move the tensor list
  if (l.shape.size() != 2)
    throw sim::InputError(
        fmt::format("training needs logits [N, classes], got '{}' {}", l.name, shape_str(l.shape)));
  const TensorId labels = fresh("labels", l.shape, l.dtype);  // one-hot targets
  Op sm;
  sm.name = "loss.softmax";
  sm.kind = OpKind::softmax;
  sm.axis = 1;
  sm.inputs = {logits};
  const TensorId probs = emit(std::move(sm), Phase::forward, {{"", logits}}).front();
  Op ce;
  ce.name = "loss.cross_entropy";
  ce.kind = OpKind::reduction;
  ce.function = "cross_entropy";
  ce.keep_dims = false;  // all axes: a scalar loss
  ce.inputs = {probs, labels};
  ce.name = unique_op_name(ce.name);
  ce.phase = Phase::forward;
  ce.outputs = {fresh("loss", {}, l.dtype)};
  g_.add_op(std::move(ce));
  // d(loss)/d(logits) = softmax - labels: the fused softmax-cross-entropy backward kernel.
  Op seed;
  seed.name = "loss.backward";
  seed.kind = OpKind::elementwise;
  seed.function = "sub";
  seed.inputs = {probs, labels};
  contribute(logits, emit1(std::move(seed), logits));
}

void TrainingStepBuilder::backward(const Op& fwd, TensorId dy) {
  const auto in = [&](std::size_t i) { return fwd.inputs.at(i); };
  auto grad_op = [&](const std::string& suffix, Pass pass) {
    Op o;
    o.name = fwd.name + "." + suffix;
    o.kind = fwd.kind;
    o.pass = pass;
    o.kernel = fwd.kernel;
    o.stride = fwd.stride;
    o.padding = fwd.padding;
    o.dilation = fwd.dilation;
    o.groups = fwd.groups;
    o.function = fwd.function;
    o.axis = fwd.axis;
    o.axes = fwd.axes;
    o.keep_dims = fwd.keep_dims;
    return o;
  };
  switch (fwd.kind) {
    case OpKind::conv:
    case OpKind::depthwise_conv: {
      if (needs(in(0))) {
        Op o = grad_op("dgrad", Pass::dgrad);
        o.inputs = {dy, in(1)};
        contribute(in(0), emit1(std::move(o), in(0)));
      }
      if (needs(in(1))) {
        Op o = grad_op("wgrad", Pass::wgrad);
        o.inputs = {in(0), dy};
        contribute(in(1), emit1(std::move(o), in(1)));
      }
      if (fwd.inputs.size() > 2 && needs(in(2))) {
        Op o;
        o.name = fwd.name + ".bgrad";
        o.kind = OpKind::reduction;
        o.function = "sum";
        o.axes = {0, 2, 3};
        o.keep_dims = false;
        o.inputs = {dy};
        contribute(in(2), emit1(std::move(o), in(2)));
      }
      return;
    }
    case OpKind::gemm:
      return backward_gemm(fwd, dy);
    case OpKind::pool_max:
    case OpKind::pool_avg:
    case OpKind::global_pool:
    case OpKind::activation:
    case OpKind::softmax: {
      if (!needs(in(0))) return;
      Op o = grad_op("dgrad", Pass::dgrad);
      o.inputs = {dy};
      // Saved tensors the kernels read: max positions need the input, activations the input,
      // softmax its output; average pools need nothing but dy.
      if (fwd.kind == OpKind::pool_max || fwd.kind == OpKind::activation) o.inputs.push_back(in(0));
      if (fwd.kind == OpKind::softmax) o.inputs.push_back(fwd.outputs.at(0));
      contribute(in(0), emit1(std::move(o), in(0)));
      return;
    }
    case OpKind::batch_norm: {
      if (!needs(in(0)) && !needs(in(1)) && !needs(in(2))) return;
      Op o = grad_op("dgrad", Pass::dgrad);
      o.inputs = {dy, in(0), in(1)};
      const auto outs =
          emit(std::move(o), Phase::backward, {{"dx", in(0)}, {"dgamma", in(1)}, {"dbeta", in(2)}});
      for (std::size_t i = 0; i < 3; ++i)
        if (needs(in(i))) contribute(in(i), outs[i]);
      return;
    }
    case OpKind::elementwise:
      return backward_elementwise(fwd, dy);
    case OpKind::concat: {
      Op o = grad_op("dgrad", Pass::dgrad);
      o.inputs = {dy};
      std::vector<std::pair<std::string, TensorId>> parts;
      for (std::size_t i = 0; i < fwd.inputs.size(); ++i)
        parts.emplace_back(std::to_string(i), in(i));
      const auto outs = emit(std::move(o), Phase::backward, parts);
      for (std::size_t i = 0; i < fwd.inputs.size(); ++i)
        if (needs(in(i))) contribute(in(i), outs[i]);
      return;
    }
    case OpKind::reduction: {
      if (fwd.function == "cross_entropy") no_rule(fwd);
      if (!needs(in(0))) return;
      Op o = grad_op("dgrad", Pass::dgrad);
      o.inputs = {dy};
      if (fwd.function == "max") o.inputs.push_back(in(0));
      contribute(in(0), emit1(std::move(o), in(0)));
      return;
    }
    case OpKind::optimizer_update:
    case OpKind::gather:
      no_rule(fwd);
  }
}

// Y = op(A) op(B): dA and dB are gemms of dY with the other operand (transposes worked out
// so that no explicit transpose kernel is needed), the bias gradient a sum over rows.
void TrainingStepBuilder::backward_gemm(const Op& fwd, TensorId dy) {
  const TensorId a = fwd.inputs.at(0), b = fwd.inputs.at(1);
  const bool ta = fwd.transpose_a, tb = fwd.transpose_b;
  // A rank-2 operand broadcast over the other's batch dimensions would need its gradient
  // summed over them: no rule for that (the broadcast operand is usually the data).
  const std::size_t ra = g_.tensor(a).shape.size(), rb = g_.tensor(b).shape.size();
  if ((ra < rb && needs(a)) || (rb < ra && needs(b)))
    throw sim::InputError(
        fmt::format("op '{}': no gradient rule for an operand shared across "
                    "batch dimensions",
                    fwd.name));
  auto gemm = [&](const std::string& suffix, Pass pass, TensorId x, TensorId y, bool tx, bool ty,
                  TensorId shaped_like) {
    Op o;
    o.name = fwd.name + "." + suffix;
    o.kind = OpKind::gemm;
    o.pass = pass;
    o.inputs = {x, y};
    o.transpose_a = tx;
    o.transpose_b = ty;
    return emit1(std::move(o), shaped_like);
  };
  if (needs(a))
    contribute(a, ta ? gemm("dgrad", Pass::dgrad, b, dy, tb, true, a)
                     : gemm("dgrad", Pass::dgrad, dy, b, false, !tb, a));
  if (needs(b))
    contribute(b, tb ? gemm("wgrad", Pass::wgrad, dy, a, true, ta, b)
                     : gemm("wgrad", Pass::wgrad, a, dy, !ta, false, b));
  if (fwd.inputs.size() > 2 && needs(fwd.inputs[2])) {
    Op o;
    o.name = fwd.name + ".bgrad";
    o.kind = OpKind::reduction;
    o.function = "sum";
    const auto rank = static_cast<int>(g_.tensor(dy).shape.size());
    for (int i = 0; i + 1 < rank; ++i) o.axes.push_back(i);
    o.keep_dims = false;
    o.inputs = {dy};
    contribute(fwd.inputs[2], emit1(std::move(o), fwd.inputs[2]));
  }
}

void TrainingStepBuilder::backward_elementwise(const Op& fwd, TensorId dy) {
  const std::string& f = fwd.function;
  if (f != "add" && f != "sub" && f != "mul" && f != "neg") no_rule(fwd);
  if (f == "mul" && fwd.inputs.size() != 2) no_rule(fwd);
  for (std::size_t i = 0; i < fwd.inputs.size(); ++i) {
    const TensorId x = fwd.inputs[i];
    if (!needs(x)) continue;
    TensorId g = dy;
    const std::string base = fmt::format("{}.d{}", fwd.name, i);
    if (f == "mul" || f == "neg" || (f == "sub" && i == 1)) {
      Op o;
      o.name = base;
      o.kind = OpKind::elementwise;
      o.function = f == "mul" ? "mul" : "neg";
      o.inputs =
          f == "mul" ? std::vector<TensorId>{dy, fwd.inputs[1 - i]} : std::vector<TensorId>{dy};
      g = emit1(std::move(o), dy);
    }
    contribute(x, reduce_to(g, x, base + ".sum"));
  }
}

void TrainingStepBuilder::optimizer() {
  const auto& fns = op_functions(OpKind::optimizer_update);
  if (std::find(fns.begin(), fns.end(), opt_.optimizer) == fns.end())
    throw sim::InputError(fmt::format("unknown optimizer '{}'{}; known: {}", opt_.optimizer,
                                      sim::did_you_mean(opt_.optimizer, fns),
                                      fmt::join(fns, ", ")));
  static const std::vector<std::string> kSgdStates{"momentum"};
  static const std::vector<std::string> kAdamStates{"exp_avg", "exp_avg_sq"};
  const std::vector<std::string> no_states;
  const auto& states = opt_.optimizer == "adam"           ? kAdamStates
                       : opt_.optimizer == "sgd_momentum" ? kSgdStates
                                                          : no_states;
  Op fused;
  fused.name = "optimizer.update";
  fused.kind = OpKind::optimizer_update;
  fused.function = opt_.optimizer;
  std::vector<std::pair<std::string, TensorId>> fused_outputs;
  const auto forward_tensors = static_cast<TensorId>(needs_.size());
  for (TensorId p = 0; p < forward_tensors; ++p) {
    if (!g_.tensor(p).parameter) continue;
    const auto dp = grad_of(p);
    if (!dp) continue;  // a parameter the loss does not depend on
    const std::string pname = g_.tensor(p).name;
    std::vector<TensorId> in{p, *dp};
    std::vector<std::pair<std::string, TensorId>> out{{pname + ".updated", p}};
    for (const auto& s : states) {
      in.push_back(like(pname + "." + s, p));
      out.emplace_back(pname + "." + s + ".updated", p);
    }
    if (opt_.fused_optimizer) {
      fused.inputs.insert(fused.inputs.end(), in.begin(), in.end());
      fused_outputs.insert(fused_outputs.end(), out.begin(), out.end());
      continue;
    }
    Op o;
    o.name = pname + ".update";
    o.kind = OpKind::optimizer_update;
    o.function = opt_.optimizer;
    o.inputs = in;
    // Outputs named after the tensors they replace, not after the op.
    std::vector<TensorId> outs;
    for (const auto& [name, shaped] : out) outs.push_back(like(name, shaped));
    o.outputs = outs;
    o.name = unique_op_name(o.name);
    o.phase = Phase::optimizer;
    g_.add_op(std::move(o));
  }
  if (opt_.fused_optimizer && !fused.inputs.empty()) {
    for (const auto& [name, shaped] : fused_outputs) fused.outputs.push_back(like(name, shaped));
    fused.name = unique_op_name(fused.name);
    fused.phase = Phase::optimizer;
    g_.add_op(std::move(fused));
  }
}

void TrainingStepBuilder::run(TensorId logits) {
  for (const Op& o : g_.ops())
    if (o.phase != Phase::forward || o.pass != Pass::fprop)
      throw sim::InputError(
          fmt::format("graph '{}' already has a training step (op '{}' is {})", g_.name(), o.name,
                      o.phase != Phase::forward ? phase_name(o.phase) : pass_name(o.pass)));
  const std::vector<OpId> order = g_.topological_order();
  // Which tensors need a gradient: parameters and anything computed from one.
  needs_.assign(g_.tensor_count(), false);
  for (TensorId t = 0; t < static_cast<TensorId>(g_.tensor_count()); ++t)
    needs_[static_cast<std::size_t>(t)] = g_.tensor(t).parameter;
  for (OpId id : order) {
    const Op& o = g_.op(id);
    const bool any =
        std::any_of(o.inputs.begin(), o.inputs.end(), [&](TensorId t) { return needs(t); });
    for (TensorId t : o.outputs)
      if (any) needs_[static_cast<std::size_t>(t)] = true;
  }
  grads_.assign(g_.tensor_count(), {});

  loss(logits);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Op fwd = g_.op(*it);  // a copy: adding ops reallocates the op list
    if (fwd.outputs.size() != 1) no_rule(fwd);
    const auto dy = grad_of(fwd.outputs[0]);
    if (!dy) continue;  // does not influence the loss
    backward(fwd, *dy);
  }
  optimizer();
}

}  // namespace

void append_training_step(OpGraph& g, TensorId logits, const TrainingOptions& options) {
  TrainingStepBuilder(g, options).run(logits);
}

}  // namespace workloads

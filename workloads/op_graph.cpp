#include "workloads/op_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <functional>
#include <queue>

#include "sim/error.hpp"
#include "sim/nearest.hpp"
#include "workloads/op_semantics.hpp"

namespace workloads {

// ---------------------------------------------------------------------------------------------
// Names

namespace {

constexpr std::array<std::string_view, 6> kDTypeNames{"fp32", "fp16", "bf16", "tf32", "int8", "int64"};
constexpr std::array<std::string_view, 14> kOpKindNames{"conv",
                                                        "depthwise_conv",
                                                        "gemm",
                                                        "pool_max",
                                                        "pool_avg",
                                                        "global_pool",
                                                        "batch_norm",
                                                        "activation",
                                                        "elementwise",
                                                        "concat",
                                                        "softmax",
                                                        "reduction",
                                                        "optimizer_update",
                                                        "gather"};
constexpr std::array<std::string_view, 3> kPhaseNames{"forward", "backward", "optimizer"};
constexpr std::array<std::string_view, 3> kPassNames{"fprop", "dgrad", "wgrad"};

template <class E, std::size_t N>
E parse_name(std::string_view name, const std::array<std::string_view, N>& names,
             std::string_view what) {
  return static_cast<E>(sim::index_of_name(name, names, what));
}

template <std::size_t N>
std::vector<std::string> to_strings(const std::array<std::string_view, N>& names) {
  return {names.begin(), names.end()};
}

}  // namespace

int dtype_size(DType t) {
  switch (t) {
    case DType::fp32:
    case DType::tf32:
      return 4;
    case DType::fp16:
    case DType::bf16:
      return 2;
    case DType::int8:
      return 1;
    case DType::int64:
      return 8;
  }
  return 4;
}

std::string_view dtype_name(DType t) {
  return kDTypeNames.at(static_cast<std::size_t>(t));
}
DType parse_dtype(std::string_view name) {
  return parse_name<DType>(name, kDTypeNames, "dtype");
}
std::vector<std::string> dtype_names() {
  return to_strings(kDTypeNames);
}

std::string_view op_kind_name(OpKind k) {
  return kOpKindNames.at(static_cast<std::size_t>(k));
}
OpKind parse_op_kind(std::string_view name) {
  return parse_name<OpKind>(name, kOpKindNames, "op kind");
}
std::vector<std::string> op_kind_names() {
  return to_strings(kOpKindNames);
}

std::string_view phase_name(Phase p) {
  return kPhaseNames.at(static_cast<std::size_t>(p));
}
Phase parse_phase(std::string_view name) {
  return parse_name<Phase>(name, kPhaseNames, "phase");
}
std::string_view pass_name(Pass p) {
  return kPassNames.at(static_cast<std::size_t>(p));
}
Pass parse_pass(std::string_view name) {
  return parse_name<Pass>(name, kPassNames, "pass");
}

// ---------------------------------------------------------------------------------------------
// Shapes

std::int64_t Tensor::elements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::int64_t window_output(std::int64_t in, int kernel, int stride, int pad, int dilation) {
  const std::int64_t span = std::int64_t{dilation} * (kernel - 1) + 1;
  const std::int64_t room = in + 2 * std::int64_t{pad} - span;
  if (room < 0 || stride < 1) return 0;
  return room / stride + 1;
}

std::optional<std::vector<std::int64_t>> broadcast_shapes(const std::vector<std::int64_t>& a,
                                                          const std::vector<std::int64_t>& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  std::vector<std::int64_t> out(rank, 1);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const std::int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[rank - 1 - i] = std::max(da, db);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Building

TensorId OpGraph::add_tensor(Tensor t) {
  if (t.name.empty()) throw sim::InputError("a tensor needs a name");
  if (tensor_index_.count(t.name))
    throw sim::InputError(fmt::format("duplicate tensor name '{}'", t.name));
  const auto id = static_cast<TensorId>(tensors_.size());
  tensor_index_.emplace(t.name, id);
  tensors_.push_back(std::move(t));
  producers_.push_back(-1);
  consumers_.emplace_back();
  return id;
}

TensorId OpGraph::add_tensor(std::string name, std::vector<std::int64_t> shape, DType dtype,
                             bool parameter) {
  return add_tensor(Tensor{std::move(name), std::move(shape), dtype, parameter});
}

OpId OpGraph::add_op(Op op) {
  if (op.name.empty()) throw sim::InputError("an op needs a name");
  if (op_index_.count(op.name))
    throw sim::InputError(fmt::format("duplicate op name '{}'", op.name));
  const auto id = static_cast<OpId>(ops_.size());
  auto in_range = [&](TensorId t) {
    return t >= 0 && static_cast<std::size_t>(t) < tensors_.size();
  };
  for (TensorId t : op.inputs)
    if (!in_range(t))
      throw sim::InputError(fmt::format("op '{}': input tensor id {} out of range", op.name, t));
  for (TensorId t : op.outputs) {
    if (!in_range(t))
      throw sim::InputError(fmt::format("op '{}': output tensor id {} out of range", op.name, t));
    const OpId other = producers_[static_cast<std::size_t>(t)];
    if (other >= 0)
      throw sim::InputError(fmt::format("op '{}': tensor '{}' is already produced by op '{}'",
                                        op.name, tensors_[static_cast<std::size_t>(t)].name,
                                        ops_[static_cast<std::size_t>(other)].name));
  }
  if (op.function.empty() && !op_functions(op.kind).empty())
    op.function = op_functions(op.kind).front();
  for (TensorId t : op.inputs) {
    const OpId p = producers_[static_cast<std::size_t>(t)];
    if (p >= 0) op.deps.push_back(p);
  }
  std::sort(op.deps.begin(), op.deps.end());
  op.deps.erase(std::unique(op.deps.begin(), op.deps.end()), op.deps.end());
  for (TensorId t : op.outputs) producers_[static_cast<std::size_t>(t)] = id;
  for (TensorId t : op.inputs) {
    auto& c = consumers_[static_cast<std::size_t>(t)];
    if (c.empty() || c.back() != id) c.push_back(id);
  }
  op_index_.emplace(op.name, id);
  ops_.push_back(std::move(op));
  // An earlier op may already read a tensor this op produces (files list ops in any order):
  // it now depends on this op.
  for (TensorId t : ops_.back().outputs)
    for (OpId c : consumers(t))
      if (c != id) add_dep(c, id);
  return id;
}

void OpGraph::add_dep(OpId op, OpId on) {
  auto& deps = ops_.at(static_cast<std::size_t>(op)).deps;
  auto it = std::lower_bound(deps.begin(), deps.end(), on);
  if (it == deps.end() || *it != on) deps.insert(it, on);
}

// ---------------------------------------------------------------------------------------------
// Access

std::optional<TensorId> OpGraph::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  if (it == tensor_index_.end()) return std::nullopt;
  return it->second;
}

std::optional<OpId> OpGraph::find_op(std::string_view name) const {
  auto it = op_index_.find(name);
  if (it == op_index_.end()) return std::nullopt;
  return it->second;
}

// ---------------------------------------------------------------------------------------------
// Checking

namespace {

// Kahn's algorithm; returns the order found and whether it covers every op.
std::pair<std::vector<OpId>, bool> kahn(const std::vector<Op>& ops) {
  const std::size_t n = ops.size();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<OpId>> succ(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (OpId d : ops[i].deps) {
      succ[static_cast<std::size_t>(d)].push_back(static_cast<OpId>(i));
      ++pending[i];
    }
  }
  std::priority_queue<OpId, std::vector<OpId>, std::greater<>> ready;
  for (std::size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push(static_cast<OpId>(i));
  std::vector<OpId> order;
  order.reserve(n);
  while (!ready.empty()) {
    const OpId o = ready.top();
    ready.pop();
    order.push_back(o);
    for (OpId s : succ[static_cast<std::size_t>(o)])
      if (--pending[static_cast<std::size_t>(s)] == 0) ready.push(s);
  }
  const bool complete = order.size() == n;
  return {std::move(order), complete};
}

// Given that Kahn's algorithm stalled, walks deps among the unplaced ops until one repeats: every
// unplaced op has an unplaced dep, so the walk must close a cycle.
GraphProblem describe_cycle(const std::vector<Op>& ops, const std::vector<OpId>& placed) {
  std::vector<bool> done(ops.size(), false);
  for (OpId o : placed) done[static_cast<std::size_t>(o)] = true;
  OpId cur = 0;
  while (done[static_cast<std::size_t>(cur)]) ++cur;
  std::vector<int> seen_at(ops.size(), -1);
  std::vector<OpId> walk;
  while (seen_at[static_cast<std::size_t>(cur)] < 0) {
    seen_at[static_cast<std::size_t>(cur)] = static_cast<int>(walk.size());
    walk.push_back(cur);
    for (OpId d : ops[static_cast<std::size_t>(cur)].deps)
      if (!done[static_cast<std::size_t>(d)]) {
        cur = d;
        break;
      }
  }
  // walk[seen_at[cur]..] is the cycle, in "depends on" direction; print it in execution order.
  std::vector<std::string> names;
  for (std::size_t i = walk.size(); i-- > static_cast<std::size_t>(seen_at[cur]);)
    names.push_back(ops[static_cast<std::size_t>(walk[i])].name);
  names.push_back(names.front());
  if (names.size() > 9) {
    names.erase(names.begin() + 4, names.end() - 4);
    names.insert(names.begin() + 4, "...");
  }
  return GraphProblem{
      cur, -1,
      fmt::format("op '{}' is on a dependency cycle: {}", ops[static_cast<std::size_t>(cur)].name,
                  fmt::join(names, " -> "))};
}

}  // namespace

std::optional<GraphProblem> OpGraph::check() const {
  for (std::size_t t = 0; t < tensors_.size(); ++t) {
    for (std::int64_t d : tensors_[t].shape)
      if (d < 1)
        return GraphProblem{-1, static_cast<TensorId>(t),
                            fmt::format("tensor '{}': shape {} has a dimension < 1",
                                        tensors_[t].name, shape_str(tensors_[t].shape))};
  }
  const auto nt = static_cast<TensorId>(tensors_.size());
  const auto no = static_cast<OpId>(ops_.size());
  for (OpId i = 0; i < no; ++i) {
    const Op& o = ops_[static_cast<std::size_t>(i)];
    auto problem = [&](const std::string& m) {
      return GraphProblem{i, -1, fmt::format("op '{}' ({}): {}", o.name, op_kind_name(o.kind), m)};
    };
    for (TensorId t : o.inputs)
      if (t < 0 || t >= nt) return problem(fmt::format("input tensor id {} out of range", t));
    for (TensorId t : o.outputs) {
      if (t < 0 || t >= nt) return problem(fmt::format("output tensor id {} out of range", t));
      if (producers_[static_cast<std::size_t>(t)] != i)
        return problem(fmt::format("tensor '{}' is produced by more than one op",
                                   tensors_[static_cast<std::size_t>(t)].name));
    }
    for (OpId d : o.deps) {
      if (d < 0 || d >= no) return problem(fmt::format("dependency id {} out of range", d));
      if (d == i) return problem("depends on itself");
    }
    for (TensorId t : o.inputs) {
      const OpId p = producers_[static_cast<std::size_t>(t)];
      if (p >= 0 && !std::binary_search(o.deps.begin(), o.deps.end(), p))
        return problem(fmt::format("reads '{}' but does not depend on its producer '{}'",
                                   tensors_[static_cast<std::size_t>(t)].name,
                                   ops_[static_cast<std::size_t>(p)].name));
    }
    if (auto m = check_op_shapes(*this, o)) return problem(*m);
  }
  auto [order, complete] = kahn(ops_);
  if (!complete) return describe_cycle(ops_, order);
  return std::nullopt;
}

void OpGraph::validate() const {
  if (auto p = check()) throw sim::InputError(fmt::format("graph '{}': {}", name_, p->message));
}

std::vector<OpId> OpGraph::topological_order() const {
  auto [order, complete] = kahn(ops_);
  if (!complete)
    throw sim::InputError(
        fmt::format("graph '{}': {}", name_, describe_cycle(ops_, order).message));
  return order;
}

// ---------------------------------------------------------------------------------------------
// Sizes and work

std::int64_t OpGraph::parameter_count() const {
  std::int64_t n = 0;
  for (const Tensor& t : tensors_)
    if (t.parameter) n += t.elements();
  return n;
}

std::int64_t OpGraph::parameter_bytes() const {
  std::int64_t n = 0;
  for (const Tensor& t : tensors_)
    if (t.parameter) n += t.bytes();
  return n;
}

std::int64_t OpGraph::flops(OpId id) const {
  return op_flops(*this, op(id));
}

std::int64_t OpGraph::bytes_read(OpId id) const {
  const Op& o = op(id);
  // A gather reads its indices and, of the table, at most the elements it picks.
  if (o.kind == OpKind::gather && o.inputs.size() == 2 && o.outputs.size() == 1) {
    const Tensor& table = tensor(o.inputs[0]);
    const std::int64_t picked = tensor(o.outputs[0]).elements() * dtype_size(table.dtype);
    return tensor(o.inputs[1]).bytes() + std::min(table.bytes(), picked);
  }
  std::int64_t n = 0;
  for (TensorId t : o.inputs) n += tensor(t).bytes();
  return n;
}

std::int64_t OpGraph::bytes_written(OpId id) const {
  std::int64_t n = 0;
  for (TensorId t : op(id).outputs) n += tensor(t).bytes();
  return n;
}

std::int64_t OpGraph::total_flops() const {
  std::int64_t n = 0;
  for (const Op& o : ops_) n += op_flops(*this, o);
  return n;
}

std::size_t OpGraph::count_ops(OpKind k, std::optional<Phase> phase) const {
  return static_cast<std::size_t>(std::count_if(ops_.begin(), ops_.end(), [&](const Op& o) {
    return o.kind == k && (!phase || o.phase == *phase);
  }));
}

}  // namespace workloads

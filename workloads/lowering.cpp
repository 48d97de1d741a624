#include "workloads/lowering.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sim/error.hpp"
#include "workloads/lowering_detail.hpp"

namespace workloads {

namespace lowering {

Context make_context(const OpGraph& g, const LoweringOptions& o) {
  if (o.arch_sm < 70)
    throw sim::InputError(fmt::format(
        "lowering: arch_sm {} is not supported (70 V100, 80 A100, 90 H100)", o.arch_sm));
  Context c{g, o};
  c.arch = o.arch_sm >= 90 ? 90 : o.arch_sm >= 80 ? 80 : 70;
  c.sms = o.sms > 0 ? o.sms : c.arch == 90 ? 132 : c.arch == 80 ? 108 : 80;
  c.training = std::any_of(g.ops().begin(), g.ops().end(),
                           [](const Op& op) { return op.phase == Phase::backward; });
  return c;
}

std::int64_t product(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::int64_t round_up(std::int64_t v, std::int64_t multiple) {
  return ceil_div(v, multiple) * multiple;
}

Dim3 make_grid(std::int64_t x, std::int64_t y, std::int64_t z) {
  Dim3 d{std::max<std::int64_t>(1, x), std::max<std::int64_t>(1, y), std::max<std::int64_t>(1, z)};
  if (d.z > kMaxGridYZ) {
    d.x *= d.z;
    d.z = 1;
  }
  if (d.y > kMaxGridYZ) {
    d.x *= d.y;
    d.y = 1;
  }
  return d;
}

std::string ctype(DType t) {
  switch (t) {
    case DType::fp16:
      return "c10::Half";
    case DType::bf16:
      return "c10::BFloat16";
    case DType::int8:
      return "int8_t";
    case DType::int64:
      return "int64_t";
    case DType::fp32:
    case DType::tf32:
      break;
  }
  return "float";
}

KernelDesc kernel_for(const Context& c, OpId op, std::string name) {
  KernelDesc k;
  k.name = std::move(name);
  k.op = op;
  const Op& o = c.g.op(op);
  k.dtype = !o.inputs.empty() ? c.in(o, 0).dtype : DType::fp32;
  return k;
}

double compulsory_bytes(const Context& c, OpId op) {
  return static_cast<double>(c.g.bytes_read(op) + c.g.bytes_written(op));
}

KernelDesc elementwise_kernel(const Context& c, OpId op, const std::string& functor,
                              std::int64_t elements, bool vectorized) {
  const Op& o = c.g.op(op);
  const std::string t = ctype(o.outputs.empty() ? DType::fp32 : c.out(o, 0).dtype);
  KernelDesc k = kernel_for(
      c, op,
      vectorized ? fmt::format("at::native::vectorized_elementwise_kernel<4, {}<{}>>", functor, t)
                 : fmt::format("at::native::elementwise_kernel<128, 2, {}<{}>>", functor, t));
  k.block = {128, 1, 1};
  k.grid = make_grid(ceil_div(elements, vectorized ? 128 * 4 : 128 * 2));
  k.registers_per_thread = vectorized ? 20 : 32;  // measured: 16-22 and 16-40
  return k;
}

namespace {

bool fusable_activation(const std::string& f) {
  // cudnnActivationMode_t: relu, clipped relu, sigmoid, tanh, swish, identity.
  return f == "relu" || f == "relu6" || f == "sigmoid" || f == "tanh" || f == "silu" ||
         f == "identity";
}

}  // namespace

OpId folded_norm(const Context& c, OpId op) {
  if (!c.o.fold_batch_norm || c.training) return -1;
  const Op& conv = c.g.op(op);
  if (conv.kind != OpKind::conv || conv.pass != Pass::fprop || conv.outputs.size() != 1) return -1;
  const auto& readers = c.g.consumers(conv.outputs[0]);
  if (readers.size() != 1) return -1;
  const Op& bn = c.g.op(readers[0]);
  if (bn.kind != OpKind::batch_norm || bn.pass != Pass::fprop || bn.inputs.at(0) != conv.outputs[0])
    return -1;
  return readers[0];
}

OpId fused_activation(const Context& c, OpId op) {
  const OpId norm = folded_norm(c, op);
  if (!c.o.fuse_bias_activation && norm < 0) return -1;
  const Op& conv = c.g.op(op);
  if (conv.kind != OpKind::conv || conv.pass != Pass::fprop || conv.outputs.size() != 1) return -1;
  // The tensor the activation would read: the conv's output, or its folded norm's.
  const Op& tail = norm >= 0 ? c.g.op(norm) : conv;
  if (tail.outputs.size() != 1) return -1;
  const auto& readers = c.g.consumers(tail.outputs[0]);
  if (readers.size() != 1) return -1;  // the pre-activation is needed elsewhere (e.g. backward)
  const Op& act = c.g.op(readers[0]);
  if (act.kind != OpKind::activation || act.pass != Pass::fprop || act.inputs.size() != 1 ||
      !fusable_activation(act.function))
    return -1;
  return readers[0];
}

OpId fusing_conv(const Context& c, OpId op) {
  const Op& o = c.g.op(op);
  if (o.pass != Pass::fprop || o.inputs.empty()) return -1;
  OpId p = c.g.producer(o.inputs[0]);
  if (p < 0) return -1;
  if (o.kind == OpKind::batch_norm) return folded_norm(c, p) == op ? p : -1;
  if (o.kind != OpKind::activation || o.inputs.size() != 1) return -1;
  if (c.g.op(p).kind == OpKind::batch_norm) {  // through a norm folded into the conv before it
    const Op& bn = c.g.op(p);
    const OpId q = c.g.producer(bn.inputs.at(0));
    if (q < 0 || folded_norm(c, q) != p) return -1;
    p = q;
  }
  return fused_activation(c, p) == op ? p : -1;
}

bool fused_into_producer(const Context& c, OpId op) {
  return fusing_conv(c, op) >= 0;
}

Kernels lower(const Context& c, OpId id) {
  if (id < 0 || static_cast<std::size_t>(id) >= c.g.op_count())
    throw sim::InputError(fmt::format("lowering: graph '{}' has no op {} (it has {})", c.g.name(),
                                      id, c.g.op_count()));
  switch (c.g.op(id).kind) {
    case OpKind::conv:
      return lower_conv(c, id);
    case OpKind::depthwise_conv:
      return lower_depthwise_conv(c, id);
    case OpKind::gemm:
      return lower_gemm(c, id);
    case OpKind::pool_max:
    case OpKind::pool_avg:
      return lower_pool(c, id);
    case OpKind::global_pool:
      return lower_global_pool(c, id);
    case OpKind::batch_norm:
      return lower_batch_norm(c, id);
    case OpKind::activation:
      return lower_activation(c, id);
    case OpKind::elementwise:
      return lower_elementwise(c, id);
    case OpKind::concat:
      return lower_concat(c, id);
    case OpKind::softmax:
      return lower_softmax(c, id);
    case OpKind::reduction:
      return lower_reduction(c, id);
    case OpKind::optimizer_update:
      return lower_optimizer_update(c, id);
    case OpKind::gather:
      return lower_gather(c, id);
  }
  return {};
}

}  // namespace lowering

std::vector<KernelDesc> lower_op(const OpGraph& g, OpId op, const LoweringOptions& o) {
  const lowering::Context c = lowering::make_context(g, o);
  return lowering::lower(c, op);
}

TaskGraph lower_graph(const OpGraph& g, const LoweringOptions& o) {
  const lowering::Context c = lowering::make_context(g, o);
  TaskGraph tg;
  tg.name = g.name();
  tg.ops = g.op_count();
  tg.first_kernel_of_op.assign(g.op_count(), -1);
  // What "op done" means to a successor: its last kernel, or for an op without kernels, the
  // union of what its own deps meant (dependencies pass through).
  std::vector<std::vector<std::int32_t>> done(g.op_count());
  for (const OpId id : g.topological_order()) {
    std::vector<std::int32_t> before;
    for (const OpId d : g.op(id).deps) {
      const auto& dd = done[static_cast<std::size_t>(d)];
      before.insert(before.end(), dd.begin(), dd.end());
    }
    std::sort(before.begin(), before.end());
    before.erase(std::unique(before.begin(), before.end()), before.end());

    auto kernels = lowering::lower(c, id);
    if (kernels.empty()) {
      done[static_cast<std::size_t>(id)] = std::move(before);
      continue;
    }
    for (std::size_t i = 0; i < kernels.size(); ++i) {
      const auto k = static_cast<std::int32_t>(tg.kernels.size());
      if (i == 0) {
        tg.first_kernel_of_op[static_cast<std::size_t>(id)] = k;
        tg.deps.push_back(before);
      } else {
        tg.deps.push_back({k - 1});
      }
      tg.kernels.push_back(std::move(kernels[i]));
    }
    done[static_cast<std::size_t>(id)] = {static_cast<std::int32_t>(tg.kernels.size()) - 1};
  }
  return tg;
}

}  // namespace workloads

#pragma once
// The op graph: what a workload asks a GPU to do, as a DAG of ops over typed tensors.
//
// It is a pure description: shapes, dtypes, attributes and dependencies, no timing and no
// hardware state. Everything a kernel cost model needs is here or derivable from here (FLOPs,
// compulsory bytes), so the same graph can be priced by any `kernel-cost` plugin and scheduled
// by any `launch` policy. The on-disk form is described in docs/op-graph-format.md.
//
// Conventions:
// - Activations are NCHW; conv weights are [K, C/groups, R, S]; fully connected weights are
//   [out, in] (PyTorch layouts), so published parameter counts can be checked directly.
// - Tensors are single-assignment: at most one op produces each tensor. A tensor nobody
//   produces is a graph input (an image, a label, a parameter).
// - An op's `deps` always contain the producers of its inputs; more may be added (control
//   dependencies, e.g. from a trace), never fewer.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace workloads {

using TensorId = std::int32_t;
using OpId = std::int32_t;

// ---------------------------------------------------------------------------------------------
// Element types.

// int64 holds indices (a gather's, a tree traversal's node ids); it never reaches a math unit.
enum class DType { fp32, fp16, bf16, tf32, int8, int64 };

// Bytes per element in memory. tf32 is a tensor-core compute mode over fp32 storage: 4 bytes.
int dtype_size(DType t);
std::string_view dtype_name(DType t);
// "fp16" -> DType::fp16; unknown names throw sim::InputError with a did-you-mean.
DType parse_dtype(std::string_view name);
std::vector<std::string> dtype_names();

// ---------------------------------------------------------------------------------------------
// Tensors.

struct Tensor {
  std::string name;
  std::vector<std::int64_t> shape;  // activations NCHW; rank 0 is a scalar
  DType dtype = DType::fp32;
  bool parameter = false;  // a trained weight: counted by parameter_count(), updated by training

  std::int64_t elements() const;
  std::int64_t bytes() const { return elements() * dtype_size(dtype); }
};

// ---------------------------------------------------------------------------------------------
// Ops.

// Tensor roles in the forward pass (`fprop`); docs/op-graph-format.md has the full table.
enum class OpKind {
  conv,              // x, w [, bias] -> y
  depthwise_conv,    // conv with groups == input channels (memory-bound: priced differently)
  gemm,              // A, B [, bias] -> Y = op(A) op(B) [+ bias]
  pool_max,          // x -> y, window attributes
  pool_avg,          // x -> y, window attributes
  global_pool,       // x [N,C,H,W] -> [N,C,1,1] or [N,C]; function avg | max
  batch_norm,        // x, gamma, beta [, running mean, running var] -> y
  activation,        // x -> y; function relu | relu6 | silu | sigmoid | tanh | gelu | identity
  elementwise,       // a, b, ... -> numpy broadcast of the inputs; function add | mul | ...
  concat,            // parts -> joined along `axis`
  softmax,           // x -> y along `axis`
  reduction,         // x [, labels] -> reduced over `axes`; function sum | mean | max | ...
  optimizer_update,  // (param, grad, states...)+ -> (param', states'...)+; function sgd | ...
  gather,            // table, indices (int64) -> y; function take (y = table[idx]: the
                     // indices' shape then a row's, embedding / index_select) | along
                     // (torch.gather along `axis`: the indices' shape); memory-bound,
                     // one random access per picked row
};

// Where an op sits in a training step; inference graphs are all `forward`.
enum class Phase { forward, backward, optimizer };

// Which product of a layer an op computes. The backward pass reuses the forward kinds with the
// roles of the tensors swapped, so a cost model prices a conv's data gradient as the conv it is:
//   conv/depthwise_conv/gemm  dgrad: in (dy, w) -> dx      wgrad: in (x, dy) -> dw
//   pools, global_pool, batch_norm, activation, softmax, concat, reduction:
//                             dgrad: in (dy, [saved forward tensors]) -> dx [, dgamma, dbeta]
//   (concat dgrad splits dy into the parts' gradients; batch_norm dgrad in (dy, x, gamma)
//    out (dx, dgamma, dbeta); reduction dgrad broadcasts dy back to the input shape.)
enum class Pass { fprop, dgrad, wgrad };

std::string_view op_kind_name(OpKind k);
OpKind parse_op_kind(std::string_view name);  // sim::InputError with a did-you-mean
std::vector<std::string> op_kind_names();
std::string_view phase_name(Phase p);
Phase parse_phase(std::string_view name);
std::string_view pass_name(Pass p);
Pass parse_pass(std::string_view name);

// Functions an op kind accepts in `function` (empty list: the kind takes no function). The
// first entry is the default.
const std::vector<std::string>& op_functions(OpKind k);

// Height/width pair for window attributes.
struct Hw {
  int h = 1, w = 1;
  constexpr Hw() = default;
  constexpr Hw(int both) : h(both), w(both) {}  // NOLINT: `3` reads as a 3x3 window
  constexpr Hw(int h_, int w_) : h(h_), w(w_) {}
  friend constexpr bool operator==(const Hw&, const Hw&) = default;
};

struct Op {
  std::string name;
  OpKind kind = OpKind::elementwise;
  Phase phase = Phase::forward;
  Pass pass = Pass::fprop;
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;
  std::vector<OpId> deps;  // sorted, unique; includes the producers of `inputs`

  // Window attributes: conv, depthwise_conv, pool_max, pool_avg. Padding is symmetric.
  Hw kernel{1, 1};
  Hw stride{1, 1};
  Hw padding{0, 0};
  Hw dilation{1, 1};
  int groups = 1;  // conv only; depthwise_conv implies groups == input channels

  std::string function;   // activation, elementwise, global_pool, reduction, optimizer_update
  int axis = 1;           // concat, softmax
  std::vector<int> axes;  // reduction
  bool keep_dims = true;  // reduction
  bool transpose_a = false, transpose_b = false;  // gemm

  // Number of operands an elementwise op combines (the cost model's memory streams).
  int arity() const { return static_cast<int>(inputs.size()); }
};

// A problem found by OpGraph::check(): the op it concerns (or -1 for a tensor-level problem,
// with `tensor` set) and what is wrong.
struct GraphProblem {
  OpId op = -1;
  TensorId tensor = -1;
  std::string message;
};

class OpGraph {
 public:
  explicit OpGraph(std::string name = "graph") : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void set_name(std::string n) { name_ = std::move(n); }
  // Samples per step the graph is written for (0: not said; the file format's `batch`).
  std::int64_t batch() const { return batch_; }
  void set_batch(std::int64_t b) { batch_ = b; }

  // Building. Names must be unique among tensors and among ops (files refer to them by name);
  // a duplicate throws sim::InputError. add_op fills `deps` from the inputs' producers (plus any
  // deps already set) and records the op as producer of its outputs.
  TensorId add_tensor(Tensor t);
  TensorId add_tensor(std::string name, std::vector<std::int64_t> shape, DType dtype,
                      bool parameter = false);
  OpId add_op(Op op);
  // Adds a control dependency `op` -> after `on`.
  void add_dep(OpId op, OpId on);

  // Access.
  std::size_t tensor_count() const { return tensors_.size(); }
  std::size_t op_count() const { return ops_.size(); }
  const Tensor& tensor(TensorId id) const { return tensors_.at(static_cast<std::size_t>(id)); }
  const Op& op(OpId id) const { return ops_.at(static_cast<std::size_t>(id)); }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  const std::vector<Op>& ops() const { return ops_; }
  std::optional<TensorId> find_tensor(std::string_view name) const;
  std::optional<OpId> find_op(std::string_view name) const;
  // The op producing `t`, or -1 for a graph input.
  OpId producer(TensorId t) const { return producers_.at(static_cast<std::size_t>(t)); }
  // Ops reading `t`, in id order.
  const std::vector<OpId>& consumers(TensorId t) const {
    return consumers_.at(static_cast<std::size_t>(t));
  }

  // Checking. check() returns the first problem (ids out of range, a tensor produced twice, a
  // missing producer dependency, a shape inconsistent with the op's kind and attributes, a
  // cycle) or nothing; validate() throws it as a sim::InputError naming the op.
  std::optional<GraphProblem> check() const;
  void validate() const;

  // Ops so that every op comes after its deps; among ready ops the lowest id first, so the
  // order is deterministic. Throws sim::InputError naming an op on a cycle.
  std::vector<OpId> topological_order() const;

  // Sizes and work.
  std::int64_t parameter_count() const;  // elements of tensors flagged `parameter`
  std::int64_t parameter_bytes() const;
  // FLOPs of one op; a multiply-add counts 2. Non-arithmetic work (pooling comparisons,
  // normalisation, activations) counts the per-element operations in op_semantics.cpp.
  std::int64_t flops(OpId id) const;
  // Compulsory traffic: every input read once, every output written once (a gather reads of
  // its table only what it picks, at most the whole table).
  std::int64_t bytes_read(OpId id) const;
  std::int64_t bytes_written(OpId id) const;
  std::int64_t total_flops() const;
  std::size_t count_ops(OpKind k, std::optional<Phase> phase = std::nullopt) const;

 private:
  std::string name_;
  std::int64_t batch_ = 0;
  std::vector<Tensor> tensors_;
  std::vector<Op> ops_;
  std::vector<OpId> producers_;               // per tensor
  std::vector<std::vector<OpId>> consumers_;  // per tensor
  // Name indexes; ordered maps, so nothing depends on hashing.
  std::map<std::string, TensorId, std::less<>> tensor_index_;
  std::map<std::string, OpId, std::less<>> op_index_;
};

// Output spatial size of a window along one axis, or a value < 1 when the window does not fit.
std::int64_t window_output(std::int64_t in, int kernel, int stride, int pad, int dilation);

// Numpy broadcasting of two shapes (aligned at the right); nullopt when incompatible.
std::optional<std::vector<std::int64_t>> broadcast_shapes(const std::vector<std::int64_t>& a,
                                                          const std::vector<std::int64_t>& b);

std::string shape_str(const std::vector<std::int64_t>& shape);  // "[1, 3, 224, 224]"

}  // namespace workloads

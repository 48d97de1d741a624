#include "workloads/tree_ensemble.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "sim/error.hpp"
#include "sim/nearest.hpp"
#include "workloads/training_step.hpp"

namespace workloads {
namespace {

constexpr std::array<std::string_view, 3> kNames{"gemm", "tree_traversal",
                                                 "perfect_tree_traversal"};
constexpr std::array<std::string_view, 2> kKinds{"random_forest", "gradient_boosting"};

using Shape = std::vector<std::int64_t>;

// Adds ops to a graph with generated names; every helper returns the output tensor.
class TreeGraph {
 public:
  TreeGraph(OpGraph& g, DType dtype) : g_(g), dtype_(dtype) {}

  TensorId tensor(const std::string& name, Shape shape, bool parameter = false,
                  std::optional<DType> dtype = std::nullopt) {
    return g_.add_tensor(name, std::move(shape), dtype.value_or(dtype_), parameter);
  }
  TensorId op(const std::string& name, OpKind kind, std::string function,
              std::vector<TensorId> inputs, Shape out, std::optional<DType> dtype = std::nullopt,
              int axis = 1) {
    const TensorId y = tensor(name, std::move(out), false, dtype);
    Op o;
    o.name = name;
    o.kind = kind;
    o.function = std::move(function);
    o.inputs = std::move(inputs);
    o.outputs = {y};
    o.axis = axis;
    if (kind == OpKind::reduction) {
      o.axes = {axis};
      o.keep_dims = false;
    }
    g_.add_op(std::move(o));
    return y;
  }
  TensorId gemm(const std::string& name, TensorId a, TensorId b) {
    const Shape& sa = g_.tensor(a).shape;
    const Shape& sb = g_.tensor(b).shape;
    Shape y = sa.size() >= sb.size() ? Shape(sa.begin(), sa.end() - 2) : Shape(sb.begin(), sb.end() - 2);
    y.push_back(sa[sa.size() - 2]);
    y.push_back(sb.back());
    return op(name, OpKind::gemm, "", {a, b}, y);
  }
  const Shape& shape(TensorId t) const { return g_.tensor(t).shape; }

 private:
  OpGraph& g_;
  DType dtype_;
};

std::int64_t pow2(int d) {
  return std::int64_t{1} << d;
}

// Hummingbird's GEMM strategy (or its relaxed, trainable form).
TensorId build_gemm(TreeGraph& b, const TreeEnsemble& e, std::int64_t n, bool training) {
  const std::int64_t t = e.total_trees(), f = e.features, c = e.classes;
  const std::int64_t inner = pow2(e.depth) - 1, leaves = pow2(e.depth);
  const TensorId x = b.tensor("x", {n, f});
  const TensorId a = b.tensor("trees.feature_select", {t, f, inner}, true);
  const TensorId thr = b.tensor("trees.thresholds", {t, 1, inner}, true);
  const TensorId paths = b.tensor("trees.paths", {t, inner, leaves}, !training);
  const TensorId lefts = b.tensor("trees.left_turns", {t, 1, leaves}, !training);
  const TensorId values = b.tensor("trees.leaf_values", {t, leaves, c}, true);
  const TensorId s = b.gemm("node_features", x, a);  // [T, N, I]
  TensorId decisions, reached;
  if (training) {
    // sigmoid(B - S): near 1 where S < B (the hard form's test), smooth in between.
    const TensorId margin = b.op("node_margin", OpKind::elementwise, "sub", {thr, s}, b.shape(s));
    decisions = b.op("decisions", OpKind::activation, "sigmoid", {margin}, b.shape(s));
  } else {
    decisions = b.op("decisions", OpKind::elementwise, "lt", {s, thr}, b.shape(s));
  }
  const TensorId p = b.gemm("path_counts", decisions, paths);  // [T, N, L]
  if (training) {
    // P never exceeds Dl (it reaches it exactly at the leaf taken): sigmoid(P - Dl) is
    // largest there.
    const TensorId miss = b.op("path_margin", OpKind::elementwise, "sub", {p, lefts}, b.shape(p));
    reached = b.op("leaf_reached", OpKind::activation, "sigmoid", {miss}, b.shape(p));
  } else {
    reached = b.op("leaf_reached", OpKind::elementwise, "eq", {p, lefts}, b.shape(p));
  }
  const TensorId r = b.gemm("leaf_outputs", reached, values);  // [T, N, C]
  return b.op("tree_sum", OpKind::reduction, "sum", {r}, {n, c}, std::nullopt, 0);
}

// Hummingbird's TreeTraversal: flat node tables, `depth` rounds of lookups.
TensorId build_traversal(TreeGraph& b, const TreeEnsemble& e, std::int64_t n) {
  const std::int64_t t = e.total_trees(), f = e.features, c = e.classes;
  const std::int64_t nodes = t * (pow2(e.depth + 1) - 1);
  const TensorId x = b.tensor("x", {n, f});
  const TensorId lefts = b.tensor("trees.lefts", {nodes}, true, DType::int64);
  const TensorId rights = b.tensor("trees.rights", {nodes}, true, DType::int64);
  const TensorId feats = b.tensor("trees.features", {nodes}, true, DType::int64);
  const TensorId thr = b.tensor("trees.thresholds", {nodes}, true);
  const TensorId values = b.tensor("trees.values", {nodes, c}, true);
  const Shape nt{n, t};
  TensorId idx = b.tensor("roots", nt, false, DType::int64);  // each tree's root, per sample
  for (int l = 0; l < e.depth; ++l) {
    const std::string p = fmt::format("level{}.", l);
    const TensorId fi = b.op(p + "feature", OpKind::gather, "take", {feats, idx}, nt, DType::int64);
    const TensorId th = b.op(p + "threshold", OpKind::gather, "take", {thr, idx}, nt);
    const TensorId xv = b.op(p + "value", OpKind::gather, "along", {x, fi}, nt);
    const TensorId go = b.op(p + "go_right", OpKind::elementwise, "le", {th, xv}, nt);
    const TensorId lc = b.op(p + "left", OpKind::gather, "take", {lefts, idx}, nt, DType::int64);
    const TensorId rc = b.op(p + "right", OpKind::gather, "take", {rights, idx}, nt, DType::int64);
    idx = b.op(p + "next", OpKind::elementwise, "where", {go, rc, lc}, nt, DType::int64);
  }
  const TensorId out = b.op("leaf_values", OpKind::gather, "take", {values, idx}, {n, t, c});
  return b.op("tree_sum", OpKind::reduction, "sum", {out}, {n, c});
}

// Hummingbird's PerfectTreeTraversal: per-level node tables, child = 2 * idx + bit.
TensorId build_perfect_traversal(TreeGraph& b, const TreeEnsemble& e, std::int64_t n) {
  const std::int64_t t = e.total_trees(), f = e.features, c = e.classes;
  const TensorId x = b.tensor("x", {n, f});
  const Shape nt{n, t};
  TensorId idx = b.tensor("roots", nt, false, DType::int64);
  const TensorId two = b.tensor("two", {1}, false, DType::int64);
  for (int l = 0; l < e.depth; ++l) {
    const std::string p = fmt::format("level{}.", l);
    const TensorId feats = b.tensor(p + "features", {t * pow2(l)}, true, DType::int64);
    const TensorId thr = b.tensor(p + "thresholds", {t * pow2(l)}, true);
    const TensorId fi = b.op(p + "feature", OpKind::gather, "take", {feats, idx}, nt, DType::int64);
    const TensorId th = b.op(p + "threshold", OpKind::gather, "take", {thr, idx}, nt);
    const TensorId xv = b.op(p + "value", OpKind::gather, "along", {x, fi}, nt);
    const TensorId bit = b.op(p + "go_right", OpKind::elementwise, "le", {th, xv}, nt, DType::int64);
    const TensorId twice = b.op(p + "twice", OpKind::elementwise, "mul", {idx, two}, nt, DType::int64);
    idx = b.op(p + "next", OpKind::elementwise, "add", {twice, bit}, nt, DType::int64);
  }
  const TensorId values = b.tensor("trees.leaf_values", {t * pow2(e.depth), c}, true);
  const TensorId out = b.op("leaf_values", OpKind::gather, "take", {values, idx}, {n, t, c});
  return b.op("tree_sum", OpKind::reduction, "sum", {out}, {n, c});
}

// The ensemble's combination of its trees' sum: a forest's average, boosting's base score.
TensorId combine(TreeGraph& b, const TreeEnsemble& e, TensorId sum) {
  const TensorId k = b.tensor("ensemble.scale", {1});
  const bool forest = e.kind == EnsembleKind::random_forest;
  return b.op(forest ? "ensemble_mean" : "ensemble_score", OpKind::elementwise,
              forest ? "mul" : "add", {sum, k}, b.shape(sum));
}

}  // namespace

std::string_view ensemble_kind_name(EnsembleKind k) {
  return kKinds.at(static_cast<std::size_t>(k));
}

EnsembleKind read_ensemble_kind(const sim::Config& item) {
  try {
    return static_cast<EnsembleKind>(sim::index_of_name(item.as_string(), kKinds, "ensemble kind"));
  } catch (const sim::InputError& e) {
    item.fail(e.what());
  }
}

std::string_view tree_strategy_name(TreeStrategy s) {
  return kNames.at(static_cast<std::size_t>(s));
}

std::vector<std::string> tree_strategy_names() {
  return {kNames.begin(), kNames.end()};
}

TreeStrategy read_tree_strategy(const sim::Config& item) {
  try {
    return static_cast<TreeStrategy>(sim::index_of_name(item.as_string(), kNames, "tree strategy"));
  } catch (const sim::InputError& e) {
    item.fail(e.what());
  }
}

TreeStrategy heuristic_tree_strategy(int depth) {
  if (depth <= 3) return TreeStrategy::gemm;
  if (depth <= 10) return TreeStrategy::perfect_tree_traversal;
  return TreeStrategy::tree_traversal;
}

double tree_program_largest_tensor(const TreeEnsemble& e, const TreeGraphOptions& o) {
  const double t = static_cast<double>(e.total_trees()), leaves = std::ldexp(1.0, e.depth);
  const double n = static_cast<double>(o.batch);
  if (o.strategy == TreeStrategy::gemm)
    return std::max({t * leaves * leaves, t * n * leaves, t * leaves * e.features});
  return std::max({2 * t * leaves * e.classes, n * t * e.classes});
}

OpGraph make_tree_graph(const TreeEnsemble& e, const TreeGraphOptions& o) {
  auto bad = [&](const std::string& what) {
    throw sim::InputError(fmt::format("tree ensemble '{}': {}", e.name, what));
  };
  if (e.trees < 1) bad(fmt::format("needs at least one tree, got {}", e.trees));
  if (e.depth < 1 || e.depth > kMaxTreeDepth)
    bad(fmt::format("depth {} is outside [1, {}] (the deepest tree the format allows)", e.depth,
                    kMaxTreeDepth));
  if (e.features < 1) bad(fmt::format("needs at least one feature, got {}", e.features));
  if (e.classes < 1) bad(fmt::format("needs at least one output class, got {}", e.classes));
  if (o.batch < 1) bad(fmt::format("batch must be >= 1, got {}", o.batch));
  if (const double largest = tree_program_largest_tensor(e, o); largest > kMaxTreeTensorElements)
    bad(fmt::format("the {} form at depth {} needs a tensor of {:.3g} elements (at most {:.3g})",
                    tree_strategy_name(o.strategy), e.depth, largest, kMaxTreeTensorElements));
  if (o.training && o.strategy != TreeStrategy::gemm)
    bad(fmt::format("only the gemm form trains ({} has no gradient)",
                    tree_strategy_name(o.strategy)));
  OpGraph g(fmt::format("{}.{}", e.name, tree_strategy_name(o.strategy)));
  g.set_batch(o.batch);
  TreeGraph b(g, o.dtype);
  TensorId logits = -1;
  switch (o.strategy) {
    case TreeStrategy::gemm:
      logits = build_gemm(b, e, o.batch, o.training);
      break;
    case TreeStrategy::tree_traversal:
      logits = build_traversal(b, e, o.batch);
      break;
    case TreeStrategy::perfect_tree_traversal:
      logits = build_perfect_traversal(b, e, o.batch);
      break;
  }
  logits = combine(b, e, logits);
  if (o.training) {
    TrainingOptions t;
    t.optimizer = "adam";
    append_training_step(g, logits, t);
  }
  g.validate();
  return g;
}

}  // namespace workloads

// Tree ensembles compiled to tensor programs (workloads/tree_ensemble.hpp) and the gather op
// kind they rest on: the graphs check, carry the work each strategy is known for, lower to the
// kernels Hummingbird's strategies launch, and bad ensembles are input errors.
#include <doctest/doctest.h>

#include "sim/error.hpp"
#include "workloads/lowering.hpp"
#include "workloads/op_graph_io.hpp"
#include "workloads/tree_ensemble.hpp"

using namespace workloads;

namespace {

OpGraph forest(TreeStrategy s, int depth, std::int64_t batch, bool training = false) {
  TreeEnsemble e;
  e.trees = 10;
  e.depth = depth;
  e.features = 28;
  e.classes = 2;
  TreeGraphOptions o;
  o.batch = batch;
  o.strategy = s;
  o.training = training;
  return make_tree_graph(e, o);
}

}  // namespace

TEST_CASE("gemm form: dense work over every internal node and leaf, one pass") {
  const OpGraph g = forest(TreeStrategy::gemm, 3, 64);
  const std::int64_t n = 64, t = 10, f = 28, c = 2, inner = 7, leaves = 8;
  // X A, D C, Q E: 2 N T (I F + L I + C L) multiply-adds, plus the comparisons and the sum.
  std::int64_t gemm_flops = 0;
  for (OpId i = 0; i < static_cast<OpId>(g.op_count()); ++i)
    if (g.op(i).kind == OpKind::gemm) gemm_flops += g.flops(i);
  CHECK(gemm_flops == 2 * n * t * (inner * f + leaves * inner + c * leaves));
  CHECK(g.count_ops(OpKind::gemm) == 3);
  CHECK(g.count_ops(OpKind::gather) == 0);
  // The depth does not add ops, only work.
  CHECK(forest(TreeStrategy::gemm, 8, 64).op_count() == g.op_count());
}

TEST_CASE("traversals: depth rounds of lookups; the perfect-tree form needs no child tables") {
  const OpGraph tt = forest(TreeStrategy::tree_traversal, 6, 100);
  const OpGraph ptt = forest(TreeStrategy::perfect_tree_traversal, 6, 100);
  // Per level: feature, threshold, value, left, right (tt); feature, threshold, value (ptt).
  CHECK(tt.count_ops(OpKind::gather) == 6 * 5 + 1);
  CHECK(ptt.count_ops(OpKind::gather) == 6 * 3 + 1);
  const TaskGraph ktt = lower_graph(tt), kptt = lower_graph(ptt);
  CHECK(kptt.kernels.size() < ktt.kernels.size());
  // One more level is one more round of kernels, whatever the batch.
  CHECK(lower_graph(forest(TreeStrategy::tree_traversal, 7, 100)).kernels.size() ==
        ktt.kernels.size() + 7);
  // A gather moves a 32-byte sector per random pick: L2 traffic beyond the compulsory bytes.
  bool gathered = false;
  for (const KernelDesc& k : ktt.kernels)
    if (k.name.find("gather") != std::string::npos) {
      gathered = true;
      CHECK(k.l2_bytes > 0);
    }
  CHECK(gathered);
}

TEST_CASE("training: the relaxed gemm form has gradients for thresholds and leaf values") {
  const OpGraph g = forest(TreeStrategy::gemm, 4, 32, true);
  CHECK(g.count_ops(OpKind::optimizer_update) > 0);
  CHECK(g.count_ops(OpKind::gemm, Phase::backward) >= 3);
  CHECK(g.count_ops(OpKind::activation, Phase::forward) == 2);  // the two relaxed comparisons
  CHECK_THROWS_AS(forest(TreeStrategy::tree_traversal, 4, 32, true), sim::InputError);
}

TEST_CASE("gradient boosting with several classes grows a tree per class per round") {
  TreeEnsemble rf;
  rf.trees = 10;
  rf.depth = 4;
  rf.features = 8;
  rf.classes = 4;
  TreeEnsemble gb = rf;
  gb.kind = EnsembleKind::gradient_boosting;
  CHECK(gb.total_trees() == 40);
  CHECK(rf.total_trees() == 10);
  TreeGraphOptions o;
  o.batch = 32;
  CHECK(make_tree_graph(gb, o).total_flops() > 3 * make_tree_graph(rf, o).total_flops());
  // Binary boosting: one tree per round.
  gb.classes = 2;
  CHECK(gb.total_trees() == 10);
  const OpGraph g = make_tree_graph(gb, o);
  CHECK(g.find_op("ensemble_score").has_value());
  CHECK(make_tree_graph(rf, o).find_op("ensemble_mean").has_value());
}

TEST_CASE("bad ensembles and the heuristic") {
  CHECK_THROWS_AS(forest(TreeStrategy::gemm, 0, 8), sim::InputError);
  CHECK_THROWS_AS(forest(TreeStrategy::gemm, kMaxTreeDepth + 1, 8), sim::InputError);
  TreeEnsemble none;
  none.trees = 0;
  CHECK_THROWS_AS(make_tree_graph(none, {}), sim::InputError);
  CHECK(heuristic_tree_strategy(3) == TreeStrategy::gemm);
  CHECK(heuristic_tree_strategy(4) == TreeStrategy::perfect_tree_traversal);
  CHECK(heuristic_tree_strategy(10) == TreeStrategy::perfect_tree_traversal);
  CHECK(heuristic_tree_strategy(11) == TreeStrategy::tree_traversal);
}

TEST_CASE("gather: shapes, index dtype and compulsory bytes") {
  OpGraph g;
  const TensorId table = g.add_tensor("table", {1000, 4}, DType::fp32);
  const TensorId idx = g.add_tensor("idx", {8, 3}, DType::int64);
  const TensorId y = g.add_tensor("y", {8, 3, 4}, DType::fp32);
  Op take;
  take.name = "take";
  take.kind = OpKind::gather;
  take.function = "take";
  take.inputs = {table, idx};
  take.outputs = {y};
  const OpId t = g.add_op(take);
  CHECK(!g.check());
  // 24 rows of 16 bytes picked from a 16 000-byte table, and the indices.
  CHECK(g.bytes_read(t) == 24 * 16 + 24 * 8);
  // torch.gather along axis 1 of a [8, 4] tensor: the output has the indices' shape.
  const TensorId x = g.add_tensor("x", {8, 4}, DType::fp32);
  const TensorId fi = g.add_tensor("fi", {8, 3}, DType::int64);
  const TensorId xv = g.add_tensor("xv", {8, 3}, DType::fp32);
  Op along;
  along.name = "along";
  along.kind = OpKind::gather;
  along.function = "along";
  along.inputs = {x, fi};
  along.outputs = {xv};
  g.add_op(along);
  CHECK(!g.check());
  // Float indices are an error.
  OpGraph bad;
  const TensorId bt = bad.add_tensor("t", {10}, DType::fp32);
  const TensorId bi = bad.add_tensor("i", {4}, DType::fp32);
  const TensorId by = bad.add_tensor("y", {4}, DType::fp32);
  Op o;
  o.name = "g";
  o.kind = OpKind::gather;
  o.inputs = {bt, bi};
  o.outputs = {by};
  bad.add_op(o);
  REQUIRE(bad.check());
  CHECK(bad.check()->message.find("int64") != std::string::npos);
}

TEST_CASE("tree programs round-trip through the op-graph file format") {
  for (TreeStrategy s : {TreeStrategy::gemm, TreeStrategy::tree_traversal,
                         TreeStrategy::perfect_tree_traversal}) {
    CAPTURE(tree_strategy_name(s));
    const OpGraph g = forest(s, 4, 16);
    for (GraphFormat f : {GraphFormat::yaml, GraphFormat::json}) {
      const OpGraph back = parse_op_graph(format_op_graph(g, f), f);
      REQUIRE(back.op_count() == g.op_count());
      CHECK(back.total_flops() == g.total_flops());
      CHECK(back.count_ops(OpKind::gather) == g.count_ops(OpKind::gather));
      for (OpId i = 0; i < static_cast<OpId>(g.op_count()); ++i) {
        CHECK(back.op(i).function == g.op(i).function);
        CHECK(back.bytes_read(i) == g.bytes_read(i));
      }
    }
  }
}

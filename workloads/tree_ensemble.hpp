#pragma once
// Tree ensembles (random forests, gradient-boosted trees) compiled to tensor programs, the way
// Hummingbird (Nakandala et al., OSDI 2020) compiles them and WindTunnel (Yu et al., VLDB
// 2022) fine-tunes them. Three strategies turn (batch, trees, depth, features, classes) into
// an op graph that the ordinary lowering and GPU model price:
//
//   gemm                    three batched GEMMs and two comparisons, no loop over levels:
//                           S = X A (A [T,F,I] one-hot: the feature each internal node tests),
//                           D = S < B (1: go left), P = D C (C [T,I,L]: +1 where a leaf's
//                           path turns left at the node, -1 where it turns right, 0 off the
//                           path), Q = P == Dl (Dl [T,1,L]: the left turns on each leaf's path;
//                           P reaches it only at the leaf taken), R = Q E (E [T,L,C]
//                           leaf values), summed over the trees. Dense work over every
//                           internal node and leaf: O(2^depth) per tree, one pass.
//   tree_traversal          depth rounds over flat node tables (T*M entries, M = 2^(d+1)-1):
//                           per round take the node's feature and threshold, gather the
//                           sample's feature value, compare, take the left and right child,
//                           select; then take the leaf values and sum over the trees.
//   perfect_tree_traversal  the trees padded to perfect ones, stored level by level, so the
//                           child is 2*idx + bit: per round two takes, a gather, a compare and
//                           the index update, with no child tables.
//
// The trees are complete binary trees of the given depth (I = 2^depth - 1 internal nodes,
// L = 2^depth leaves), the worst case a `max_depth` allows and the shape the perfect-tree
// strategy pads to anyway. Training (WindTunnel's fine-tuning) uses the gemm form with the two
// hard comparisons relaxed to sigmoids (of B - S, and of P - Dl, largest at the leaf taken; the
// exact relaxation is ours, the kernels are the same for any), so the thresholds B, the feature
// selection A and the leaf values E get gradients; C and Dl are the fixed tree structure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config.hpp"
#include "workloads/op_graph.hpp"

namespace workloads {

enum class TreeStrategy { gemm, tree_traversal, perfect_tree_traversal };

std::string_view tree_strategy_name(TreeStrategy s);
std::vector<std::string> tree_strategy_names();
// The strategy a config value names, or an InputError at it with the nearest name.
TreeStrategy read_tree_strategy(const sim::Config& item);

// Hummingbird's depth heuristic: gemm for depth <= 3, perfect_tree_traversal up to 10,
// tree_traversal beyond.
TreeStrategy heuristic_tree_strategy(int depth);

// Node ids are int64 and a perfect tree of depth d has 2^(d+1) - 1 of them per tree; the
// format stops well short of where they, or one tree's tables, overflow.
inline constexpr int kMaxTreeDepth = 30;
// No tensor of a tree program may hold more elements than this (2^40, the op-graph file's
// largest dimension; products stay far inside int64).
inline constexpr double kMaxTreeTensorElements = 1099511627776.0;

// A random forest averages its trees (each votes for every class); gradient boosting sums them
// onto a base score, and with more than two classes grows one tree per class per round, each
// adding to its own class only (Hummingbird keeps the dense [trees, leaves, classes] form with
// zeros for the other classes).
enum class EnsembleKind { random_forest, gradient_boosting };
std::string_view ensemble_kind_name(EnsembleKind k);
EnsembleKind read_ensemble_kind(const sim::Config& item);  // InputError at it if unknown

struct TreeEnsemble {
  std::string name = "forest";
  EnsembleKind kind = EnsembleKind::random_forest;
  int trees = 500;  // gradient boosting with > 2 classes: rounds (trees per class)
  int depth = 8;
  int features = 28;
  int classes = 2;  // outputs per sample (1: regression)

  // Trees the program holds: `trees`, times the classes for multi-class boosting.
  std::int64_t total_trees() const {
    return kind == EnsembleKind::gradient_boosting && classes > 2
               ? static_cast<std::int64_t>(trees) * classes
               : trees;
  }
};

struct TreeGraphOptions {
  std::int64_t batch = 1;
  TreeStrategy strategy = TreeStrategy::gemm;
  DType dtype = DType::fp32;  // of features, thresholds and leaf values
  bool training = false;      // gemm only: forward + backward + Adam update
};

// Elements of the largest tensor make_tree_graph builds for (e, o) -- the gemm form's path
// matrix (trees x 2^d x 2^d) or intermediates (trees x batch x 2^d), the traversals' leaf table
// or per-sample gathers -- computed without building it.
double tree_program_largest_tensor(const TreeEnsemble& e, const TreeGraphOptions& o);

// Throws sim::InputError for zero trees, a depth outside [1, kMaxTreeDepth], no features or
// classes, a batch < 1, or training with a traversal strategy (they have no gradient).
OpGraph make_tree_graph(const TreeEnsemble& ensemble, const TreeGraphOptions& options);

}  // namespace workloads

#pragma once
// Hand-made DAGs shared by the scheduler suites: edge lists (u -> v) over node ids 0..n-1.

#include <utility>
#include <vector>

namespace testing {

using Edges = std::vector<std::pair<int, int>>;

// The Inception-like block of Nimble's stream-assignment figure, 10 nodes: input 0; branches
// 1 | 2-3 | 4-5-6 | 7-8; concat 9; plus a skip 0 -> 9 that the branches already imply.
inline Edges inception_block() {
  return {{0, 1}, {0, 2}, {2, 3}, {0, 4}, {4, 5}, {5, 6}, {0, 7},
          {7, 8}, {1, 9}, {3, 9}, {6, 9}, {8, 9}, {0, 9}};
}

}  // namespace testing
